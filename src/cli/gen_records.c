/*
 * gen_records.c - the record generators of `weir gen` (see gen_records.h).
 * Each keeps its own state and a splitmix64 random stream, so a seed gives
 * the same lines anywhere.
 */
#include "cli/gen_records.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/value.h"

typedef int (*gen_fn)(weir_gen *g, int64_t ts, weir_buf *out, weir_err *err);

struct weir_gen {
    gen_fn next;
    uint64_t rng;
    uint64_t seq;              /* records so far */
    weir_gen_options opt;
    /* collatz: the chain under way */
    uint64_t number, value, step;
    bool in_chain;
};

static uint64_t rnd(weir_gen *g) /* splitmix64 */
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unit(weir_gen *g) { return (double)(rnd(g) >> 11) / 9007199254740992.0; }
static uint64_t below(weir_gen *g, uint64_t n) { return rnd(g) % n; }

/* Zipf-like: rank r in [0, n) with probability about 1 / (r + 1). */
static uint64_t skewed(weir_gen *g, uint64_t n)
{
    uint64_t r = (uint64_t)exp(unit(g) * log((double)n + 1.0)) - 1;
    return r < n ? r : n - 1;
}

static void uuid(weir_gen *g, char out[37])
{
    uint64_t a = rnd(g), b = rnd(g);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
             (unsigned)a & 0xfff, (unsigned)((b >> 48) & 0x3fff) | 0x8000, (unsigned long long)(b & 0xffffffffffffull));
}

static const char *iso(int64_t ts, char buf[40])
{
    weir_timestamp_format(ts, buf, 40);
    return buf;
}

/* A buffer append's result as the generator's. */
static int put(weir_err *err, int rc)
{
    return rc ? weir_err_set(err, WEIR_ENOMEM, "out of memory") : WEIR_OK;
}

/* ---- collatz ---- */

static int collatz(weir_gen *g, int64_t ts, weir_buf *out, weir_err *err)
{
    if (!g->in_chain) {
        uint64_t span = g->opt.max - g->opt.min + 1; /* 0: the whole of uint64 */
        g->number = g->opt.min + (span ? below(g, span) : rnd(g));
        g->value = g->number;
        g->step = 0;
        g->in_chain = true;
    }
    char t[40];
    int rc = weir_buf_printf(out, "{\"number\":%llu,\"step\":%llu,\"value\":%llu,\"ts\":\"%s\"}\n",
                             (unsigned long long)g->number, (unsigned long long)g->step,
                             (unsigned long long)g->value, iso(ts, t));
    if (rc)
        return put(err, rc);
    if (g->value <= 1) {
        g->in_chain = false;
        return WEIR_OK;
    }
    if (g->value % 2 == 0) {
        g->value /= 2;
    } else if (g->value > (UINT64_MAX - 1) / 3) {
        g->in_chain = false;
        return weir_err_set(err, WEIR_EINVAL, "collatz %llu: step %llu: 3 x %llu + 1 does not fit in 64 bits; "
                                              "the chain stops here", (unsigned long long)g->number,
                            (unsigned long long)g->step + 1, (unsigned long long)g->value);
    } else {
        g->value = 3 * g->value + 1;
    }
    g->step++;
    return WEIR_OK;
}

/* ---- likes ---- */

static int likes(weir_gen *g, int64_t ts, weir_buf *out, weir_err *err)
{
    char t[40];
    return put(err, weir_buf_printf(out, "{\"video_id\":\"v%04llu\",\"user_id\":\"u%05llu\",\"ts\":\"%s\"}\n",
                                         (unsigned long long)skewed(g, 1000), (unsigned long long)below(g, 50000),
                                         iso(ts, t)));
}

/* ---- logins ---- */

static int logins(weir_gen *g, int64_t ts, weir_buf *out, weir_err *err)
{
    static const char *const devices[] = {"iOS", "Android", "Web", "macOS", "Windows"};
    static const char *const locales[] = {"RI", "CA", "NY", "TX", "WA", "FL", "IL", "MA", "OR", "CO"};
    char user[37], device[37], ip[40], version[24], stamp[40];
    uuid(g, user);
    uuid(g, device);
    snprintf(ip, sizeof ip, "%llu.%llu.%llu.%llu", (unsigned long long)(1 + below(g, 223)),
             (unsigned long long)below(g, 256), (unsigned long long)below(g, 256), (unsigned long long)(1 + below(g, 254)));
    snprintf(version, sizeof version, "%llu.%llu.%llu", (unsigned long long)(1 + below(g, 3)),
             (unsigned long long)below(g, 10), (unsigned long long)below(g, 5));
    snprintf(stamp, sizeof stamp, "%lld", (long long)(ts / 1000));
    const char *locale = locales[skewed(g, 10)], *dev = devices[below(g, 5)];
    uint64_t flaw = below(g, 100); /* about 5% malformed, of four kinds */
    bool no_user = flaw == 0;
    if (flaw == 1)
        snprintf(ip, sizeof ip, "%llu.%llu.1", 256 + (unsigned long long)below(g, 700), (unsigned long long)below(g, 256));
    if (flaw == 2)
        snprintf(stamp, sizeof stamp, "\"yesterday\"");
    if (flaw == 3)
        snprintf(version, sizeof version, "v%llu", (unsigned long long)below(g, 9));
    if (flaw == 4)
        locale = "";
    int rc = weir_buf_append_str(out, "{");
    if (!no_user)
        rc = rc || weir_buf_printf(out, "\"user_id\":\"%s\",", user);
    return put(err,
               rc || weir_buf_printf(out, "\"app_version\":\"%s\",\"ip\":\"%s\",\"locale\":\"%s\",\"device_id\":\"%s\","
                                          "\"timestamp\":%s,\"device_type\":\"%s\"}\n",
                                     version, ip, locale, device, stamp, dev));
}

/* ---- sensors ---- */

static int sensors(weir_gen *g, int64_t ts, weir_buf *out, weir_err *err)
{
    char t[40];
    uint64_t kind = g->seq % 10; /* hoverboards report most, trips next, customers least */
    if (kind < 6)
        return put(err, weir_buf_printf(out, "{\"type\":\"hoverboard\",\"id\":\"hb-%04llu\",\"model\":\"%s\","
                                                  "\"battery\":%llu,\"speed_kmh\":%.1f,\"lat\":%.5f,\"lon\":%.5f,\"ts\":\"%s\"}\n",
                                             (unsigned long long)below(g, 500), below(g, 2) ? "Glide X1" : "Glide S",
                                             (unsigned long long)below(g, 101), unit(g) * 25, 41.82 + unit(g) * 0.05,
                                             -71.42 + unit(g) * 0.05, iso(ts, t)));
    if (kind < 9)
        return put(err, weir_buf_printf(out, "{\"type\":\"trip\",\"hoverboard_id\":\"hb-%04llu\",\"customer_id\":"
                                                  "\"c-%05llu\",\"distance_km\":%.2f,\"duration_s\":%llu,\"started_at\":\"%s\"}\n",
                                             (unsigned long long)below(g, 500), (unsigned long long)skewed(g, 5000),
                                             unit(g) * 12, (unsigned long long)(60 + below(g, 3600)), iso(ts, t)));
    uint64_t c = below(g, 5000);
    return put(err, weir_buf_printf(out, "{\"type\":\"customer\",\"id\":\"c-%05llu\",\"name\":\"Customer %llu\","
                                              "\"email\":\"c%llu@example.com\",\"created_at\":\"%s\"}\n",
                                         (unsigned long long)c, (unsigned long long)c, (unsigned long long)c, iso(ts, t)));
}

/* ---- tweets ---- */

static int tweets(weir_gen *g, int64_t ts, weir_buf *out, weir_err *err)
{
    static const char *const cities[] = {
        "New York", "London", "Tokyo", "Paris", "Berlin", "Madrid", "Rome", "Sydney", "Toronto", "Chicago",
        "Los Angeles", "Mumbai", "Delhi", "Seoul", "Mexico City", "Sao Paulo", "Cairo", "Lagos", "Istanbul", "Moscow",
        "Bangkok", "Jakarta", "Manila", "Singapore", "Dubai", "Amsterdam", "Vienna", "Prague", "Warsaw", "Stockholm",
        "Oslo", "Helsinki", "Dublin", "Lisbon", "Athens", "Zurich", "Brussels", "Copenhagen", "Budapest", "Boston",
        "Seattle", "Austin", "Denver", "Miami", "Atlanta", "Montreal", "Vancouver", "Lima", "Bogota", "Santiago",
    };
    char t[40];
    return put(err, weir_buf_printf(out, "{\"id\":\"%llu\",\"user_id\":\"u%05llu\",\"city\":\"%s\","
                                              "\"is_retweet\":%s,\"created_at\":\"%s\"}\n",
                                         (unsigned long long)(1000000 + g->seq), (unsigned long long)skewed(g, 20000),
                                         cities[skewed(g, 50)], below(g, 4) == 0 ? "true" : "false", iso(ts, t)));
}

static const struct {
    const char *name;
    gen_fn fn;
} generators[] = {{"collatz", collatz}, {"likes", likes}, {"logins", logins}, {"sensors", sensors}, {"tweets", tweets}};

int weir_gen_new(const char *name, const weir_gen_options *opt, weir_gen **out, weir_err *err)
{
    *out = NULL;
    gen_fn fn = NULL;
    for (size_t i = 0; i < sizeof generators / sizeof *generators; i++)
        if (!strcmp(generators[i].name, name))
            fn = generators[i].fn;
    if (!fn) {
        char known[128] = "";
        for (size_t i = 0; i < sizeof generators / sizeof *generators; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", generators[i].name);
        return weir_err_set(err, WEIR_EINVAL, "no generator '%s' (known: %s)", name, known);
    }
    weir_gen *g = calloc(1, sizeof *g);
    if (!g)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    g->next = fn;
    if (opt)
        g->opt = *opt;
    g->rng = g->opt.seed;
    if (!g->opt.min && !g->opt.max) { /* 14-digit numbers, as the original Collatz system used */
        g->opt.min = 10000000000000ull;
        g->opt.max = 99999999999999ull;
    }
    if (g->opt.min > g->opt.max || g->opt.min == 0) {
        free(g);
        return weir_err_set(err, WEIR_EINVAL, "the number range must be LO:HI with 1 <= LO <= HI");
    }
    *out = g;
    return WEIR_OK;
}

int weir_gen_next(weir_gen *g, int64_t ts_ms, weir_buf *out, weir_err *err)
{
    int rc = g->next(g, ts_ms, out, err);
    g->seq++;
    return rc;
}

bool weir_gen_within_group(const weir_gen *g) { return g->in_chain; }

void weir_gen_free(weir_gen *g) { free(g); }

/*
 * test_sketch.c - distinct counting: the exact set counts exactly; the
 * HyperLogLog is exact while sparse and within 2% of exact at a million
 * distinct values, merged panes included; and the grouped-state table
 * agrees with a plain array under random inserts, lookups and evictions.
 */
#include <stdlib.h>

#include "../tap.h"
#include "exec/agg.h"
#include "exec/sketch.h"
#include "exec/topk.h"
#include "sql/value.h"
#include "state/groups.h"


static double rel_error(uint64_t est, uint64_t exact) { return exact ? ((double)est - (double)exact) / (double)exact : 0; }

static void test_groups_table(void)
{
    /* A query with one INT key and COUNT(*): entries (key, window) -> count. */
    weir_agg count = {.fn = WEIR_AGG_COUNT, .type = WEIR_TYPE_INT, .slot = 0};
    weir_query q = {.nkeys = 1, .naggs = 1, .nslots = 1, .aggs = &count};
    weir_groups *g = weir_groups_new(&q, &weir_agg_acc_ops);
    enum { KEYS = 300, WINDOWS = 20 };
    static int64_t ref[KEYS][WINDOWS];
    bool same = true;
    int64_t evicted_below = 0;
    for (int round = 0; round < 200000; round++) {
        int k = (int)(tap_rand() % KEYS), w = (int)(tap_rand() % WINDOWS);
        if (w < evicted_below)
            continue;
        weir_value key = weir_int(k);
        weir_acc *a = weir_groups_upsert(g, &key, w);
        weir_value none[1] = {weir_bool(true)};
        int which;
        weir_accs_add(&q, a, none, 1, &which);
        ref[k][w]++;
        if (round % 20000 == 19999) { /* evict the oldest window */
            weir_groups_evict(g, ++evicted_below);
            for (int i = 0; i < KEYS; i++)
                ref[i][evicted_below - 1] = 0;
        }
    }
    size_t live = 0;
    for (int k = 0; k < KEYS; k++)
        for (int w = 0; w < WINDOWS; w++) {
            weir_value key = weir_int(k);
            weir_acc *a = weir_groups_find(g, &key, w);
            same &= ref[k][w] ? a && weir_acc_result(&q, a, 0).i == ref[k][w] : a == NULL;
            live += ref[k][w] != 0;
        }
    ok(same && weir_groups_count(g) == live, "grouped state matches a reference after 200k updates and %lld evictions (%zu live)",
       (long long)evicted_below, live);
    size_t pos = 0, walked = 0;
    const weir_value *keys;
    int64_t window;
    weir_acc *accs;
    while (weir_groups_next(g, &pos, &keys, &window, &accs))
        walked += window >= evicted_below;
    is_int(walked, live, "walking visits every live entry once");
    weir_value text = weir_text("a key that is copied", 20);
    weir_query tq = {.nkeys = 1, .naggs = 1, .nslots = 1, .aggs = &count};
    weir_groups *tg = weir_groups_new(&tq, &weir_agg_acc_ops);
    char buf[32] = "a key that is copied";
    weir_groups_upsert(tg, &text, 0);
    memset(buf, 'x', 20);
    weir_value again = weir_text("a key that is copied", 20);
    ok(weir_groups_find(tg, &again, 0) != NULL, "TEXT keys are copied into the state");
    weir_groups_free(tg);
    weir_groups_free(g);
}

/* Hop windows merge their panes into one scratch target, reset and sized
 * for each window: over windows of every size, big ones before small ones
 * (so its slots shrink), it counts as a fresh set merged pane by pane. */
static void test_hset_reuse(void)
{
    enum { PANES = 40, SPAN = 5 };
    static weir_hset panes[PANES];
    for (int p = 0; p < PANES; p++) {
        uint64_t values = p < 10 ? 20000 : p < 20 ? 50 : 3; /* big, then small, then tiny panes */
        for (uint64_t i = 0; i < values; i++)
            weir_hset_add(&panes[p], tap_rand() % (values * 2) + 1);
    }
    weir_hset scratch = {0};
    bool same = true, sized = true;
    for (int ws = 0; ws + SPAN <= PANES; ws++) {
        weir_hset fresh = {0};
        size_t total = 0;
        for (int p = ws; p < ws + SPAN; p++)
            total += panes[p].n;
        same &= weir_hset_reset(&scratch, total) == 0;
        size_t cap = scratch.cap;
        for (int p = ws; p < ws + SPAN; p++)
            same &= weir_hset_merge(&scratch, &panes[p]) == 0 && weir_hset_merge(&fresh, &panes[p]) == 0;
        same &= scratch.n == fresh.n;
        sized &= scratch.cap == cap && scratch.cap <= 4 * fresh.cap + 64;
        weir_hset_free(&fresh);
    }
    ok(same, "a scratch set reset for each of 36 windows counts as fresh merges do");
    ok(sized, "reset sizes it once per window (no rehash while merging), and it shrinks after big windows");
    weir_hset_free(&scratch);
    for (int p = 0; p < PANES; p++)
        weir_hset_free(&panes[p]);

    /* The same through the accumulators, with memory of other kinds beside the set. */
    weir_agg aggs[] = {{.fn = WEIR_AGG_COUNT_DISTINCT, .type = WEIR_TYPE_INT, .slot = 0},
                       {.fn = WEIR_AGG_MAX, .type = WEIR_TYPE_TEXT, .slot = 1},
                       {.fn = WEIR_AGG_AVG, .type = WEIR_TYPE_DOUBLE, .slot = 2}};
    weir_query q = {.naggs = 3, .nslots = 4, .aggs = aggs};
    weir_acc *pane[2], *window = calloc(1, weir_accs_size(&q));
    for (int p = 0; p < 2; p++) {
        pane[p] = calloc(1, weir_accs_size(&q));
        for (int i = 0; i < 100; i++) {
            weir_value v[3] = {weir_int(i % (30 + p * 20)), weir_text(p ? "zz" : "aa", 2), weir_double(i)};
            int which;
            weir_accs_add(&q, pane[p], v, (uint64_t)i + 1, &which);
        }
    }
    bool right = true;
    for (int round = 0; round < 3; round++) {
        int which;
        right &= weir_accs_reuse(&q, window, pane, 2) == 0 && weir_accs_merge(&q, window, pane[0], &which) == 0 &&
                 weir_accs_merge(&q, window, pane[1], &which) == 0;
        weir_value users = weir_acc_result(&q, window, 0), top = weir_acc_result(&q, window, 1),
                   avg = weir_acc_result(&q, window, 2);
        right &= users.i == 50 && top.len == 2 && !memcmp(top.s, "zz", 2) && avg.d == 49.5;
    }
    ok(right, "accumulators reused as a merge target give the merged results, window after window");
    for (int p = 0; p < 2; p++) {
        weir_accs_free(&q, pane[p]);
        free(pane[p]);
    }
    weir_accs_free(&q, window);
    free(window);
}

/* TOPK on skewed input: 10 heavy hitters among 200,000 rare values. */
static void test_topk(void)
{
    weir_topk t = {0}, pane_a = {0}, pane_b = {0};
    int64_t exact[10] = {0};
    for (uint64_t i = 0; i < 1000000; i++) {
        uint64_t r = tap_rand() % 100;
        weir_value v;
        char buf[24];
        if (r < 40) { /* heavy: value h0..h9 with skew */
            int h = (int)(tap_rand() % 55), k = 0;
            while (h >= 10 - k) { h -= 10 - k; k++; } /* k in 0..9, decreasing weights */
            exact[k]++;
            v = weir_int(k);
        } else {
            int n = snprintf(buf, sizeof buf, "rare%llu", (unsigned long long)(tap_rand() % 200000));
            v = weir_text(buf, (size_t)n);
        }
        weir_topk_add(&t, 10, &v, 1);
        weir_topk_add(i % 2 ? &pane_a : &pane_b, 10, &v, 1);
    }
    weir_value r = weir_topk_result(&t);
    char want[1024];
    size_t len = 0;
    len += (size_t)snprintf(want + len, sizeof want - len, "[");
    for (int k = 0; k < 10; k++)
        len += (size_t)snprintf(want + len, sizeof want - len, "%s{\"value\":%d,\"count\":%lld}", k ? "," : "", k, (long long)exact[k]);
    snprintf(want + len, sizeof want - len, "]");
    ok(r.len == strlen(want) && !memcmp(r.s, want, r.len), "TOPK(x, 10) gives the exact top 10 and counts among 200k rare values");
    if (r.len != strlen(want) || memcmp(r.s, want, r.len))
        diag("got %.*s\n# want %s", (int)r.len, r.s, want);
    weir_topk merged = {0};
    weir_topk_merge(&merged, &pane_a);
    weir_topk_merge(&merged, &pane_b);
    weir_value m = weir_topk_result(&merged);
    ok(m.len == r.len && !memcmp(m.s, r.s, r.len), "merging two panes gives the same top 10");
    weir_topk_free(&t);
    weir_topk_free(&pane_a);
    weir_topk_free(&pane_b);
    weir_topk_free(&merged);
}

int main(void)
{
    plan(14);
    tap_rng = 0x1234567887654321ull;
    weir_hset s = {0};
    for (uint64_t i = 0; i < 100000; i++)
        weir_hset_add(&s, tap_rand() % 50000 + 1);
    weir_hset check = {0};
    tap_rng = 0x1234567887654321ull;
    uint64_t exact = 0;
    static unsigned char seen[50001];
    for (uint64_t i = 0; i < 100000; i++) {
        uint64_t v = tap_rand() % 50000 + 1;
        exact += !seen[v];
        seen[v] = 1;
    }
    is_int(s.n, exact, "hash set counts 100k draws from 50k values exactly");
    weir_hset_free(&s);
    weir_hset_free(&check);

    weir_hll small = {0};
    for (int i = 0; i < 1000; i++) {
        weir_value v = weir_int(i % 700);
        weir_hll_add(&small, weir_value_hash(&v, 0));
    }
    is_int(weir_hll_estimate(&small), 700, "HLL is exact while sparse (700 distinct)");
    weir_hll_free(&small);

    weir_hll big = {0}, pane_a = {0}, pane_b = {0};
    const uint64_t n = 1000000;
    for (uint64_t i = 0; i < n; i++) {
        char id[24];
        int len = snprintf(id, sizeof id, "user-%llu", (unsigned long long)i);
        weir_value v = weir_text(id, (size_t)len);
        uint64_t h = weir_value_hash(&v, 0);
        weir_hll_add(&big, h);
        weir_hll_add(i % 2 ? &pane_a : &pane_b, h);
        if (i % 3 == 0) /* overlap: some values in both panes */
            weir_hll_add(i % 2 ? &pane_b : &pane_a, h);
    }
    uint64_t est = weir_hll_estimate(&big);
    double err = rel_error(est, n);
    ok(err > -0.02 && err < 0.02, "HLL within 2%% of 1,000,000 distinct (estimate %llu, error %+.3f%%)", (unsigned long long)est, err * 100);
    weir_hll merged = {0};
    weir_hll_merge(&merged, &pane_a);
    weir_hll_merge(&merged, &pane_b);
    uint64_t mest = weir_hll_estimate(&merged);
    ok(mest == est, "merging overlapping panes gives the same registers as one sketch (%llu)", (unsigned long long)mest);
    uint64_t mid = 0;
    weir_hll mh = {0};
    for (uint64_t i = 0; i < 20000; i++) {
        weir_value v = weir_uint(i * 2654435761u);
        weir_hll_add(&mh, weir_value_hash(&v, 0));
        mid = i + 1;
    }
    err = rel_error(weir_hll_estimate(&mh), mid);
    ok(err > -0.02 && err < 0.02, "HLL within 2%% at 20,000 just past the sparse limit (error %+.3f%%)", err * 100);
    weir_hll_free(&mh);
    weir_hll_free(&big);
    weir_hll_free(&pane_a);
    weir_hll_free(&pane_b);
    weir_hll_free(&merged);

    weir_value a = weir_int(5), b = weir_uint(5), c = weir_double(5.0);
    ok(weir_value_hash(&a, 0) == weir_value_hash(&b, 0) && weir_value_hash(&a, 0) == weir_value_hash(&c, 0),
       "equal numbers of different types hash alike");
    test_groups_table();
    test_hset_reuse();
    test_topk();
    return done();
}

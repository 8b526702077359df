/*
 * connectors.c - the one table of connectors. Adding one is its own file
 * (a weir_sink_connector named weir_sink_NAME, see sink.h, or a
 * weir_source_connector named weir_source_NAME, see source.h) and one
 * line in SINKS or SOURCES below: nothing else in weir names it.
 */
#include "conn/connectors.h"

#include <stdio.h>
#include <string.h>

/* One line per sink connector. */
#define SINKS(X) \
    X(file)      \
    X(kafka)     \
    X(clickhouse)

/* One line per source connector. */
#define SOURCES(X) \
    X(file)        \
    X(kafka)

#define DECLARE_SINK(name) extern const weir_sink_connector weir_sink_##name;
SINKS(DECLARE_SINK)
#define SINK(name) &weir_sink_##name,
static const weir_sink_connector *const sinks[] = {SINKS(SINK)};
#define DECLARE_SOURCE(name) extern const weir_source_connector weir_source_##name;
SOURCES(DECLARE_SOURCE)
#define SOURCE(name) &weir_source_##name,
static const weir_source_connector *const sources[] = {SOURCES(SOURCE)};

const weir_conn_cap weir_sink_caps[] = {
    {WEIR_SINK_EXACTLY_ONCE, "exactly once",
     "after a crash or a failed delivery it asks the destination how far each stream partition got, so no record "
     "arrives twice"},
    {WEIR_SINK_SCALE_OUT, "scale-out",
     "it runs in every process of a `weir serve --scale-out` group (the processes' records are told apart, or each "
     "writes its own destination)"},
};
const size_t weir_sink_ncaps = sizeof weir_sink_caps / sizeof *weir_sink_caps;

const weir_conn_cap weir_source_caps[] = {
    {WEIR_SOURCE_INGEST, "ingest",
     "the stream also takes records over HTTP (POST /v1/streams/NAME, routes, `weir produce` to a running server)"},
};
const size_t weir_source_ncaps = sizeof weir_source_caps / sizeof *weir_source_caps;

size_t weir_sink_connector_count(void) { return sizeof sinks / sizeof *sinks; }

const weir_sink_connector *weir_sink_connector_at(size_t i) { return i < weir_sink_connector_count() ? sinks[i] : NULL; }

const weir_sink_connector *weir_sink_connector_find(const char *name)
{
    for (size_t i = 0; i < weir_sink_connector_count(); i++)
        if (!strcmp(sinks[i]->name, name))
            return sinks[i];
    return NULL;
}

size_t weir_source_connector_count(void) { return sizeof sources / sizeof *sources; }

const weir_source_connector *weir_source_connector_at(size_t i)
{
    return i < weir_source_connector_count() ? sources[i] : NULL;
}

const weir_source_connector *weir_source_connector_find(const char *name)
{
    for (size_t i = 0; i < weir_source_connector_count(); i++)
        if (!strcmp(sources[i]->name, name))
            return sources[i];
    return NULL;
}

const weir_source_connector *weir_source_connector_of(const weir_relation *rel)
{
    return rel->connector ? weir_source_connector_find(rel->connector) : NULL;
}

int weir_source_open_feed(weir_log *log, const weir_relation *rel, weir_source_feed *out, weir_err *err)
{
    const weir_source_connector *conn = weir_source_connector_of(rel);
    *out = (weir_source_feed){0};
    return conn && conn->open_feed ? conn->open_feed(log, rel, out, err) : WEIR_OK;
}

int weir_source_open_input(void *ctx, const weir_relation *rel, const uint64_t *offsets, uint32_t partitions,
                           const weir_input_tasks *tasks, const weir_input_ops **ops, void **state, weir_err *err)
{
    (void)ctx;
    const weir_source_connector *conn = weir_source_connector_of(rel);
    *ops = NULL;
    *state = NULL;
    return conn && conn->open_input ? conn->open_input(rel, offsets, partitions, tasks, ops, state, err) : WEIR_OK;
}

/* e at pos: why, then the known connectors' names (of sinks, or sources). */
static int unknown(weir_sql_error *e, weir_sql_pos pos, const char *why, bool sink)
{
    size_t len = (size_t)snprintf(e->msg, sizeof e->msg, "%s (known: ", why);
    size_t n = sink ? weir_sink_connector_count() : weir_source_connector_count();
    for (size_t i = 0; i < n && len < sizeof e->msg; i++)
        len += (size_t)snprintf(e->msg + len, sizeof e->msg - len, "%s%s", i ? ", " : "",
                                sink ? sinks[i]->name : sources[i]->name);
    if (len < sizeof e->msg)
        snprintf(e->msg + len, sizeof e->msg - len, ")");
    e->line = pos.line;
    e->col = pos.col;
    return WEIR_EINVAL;
}

static const char *const sink_own[] = {"connector"};

/* A source stream's connector: known, its options fitting its table; then bound. */
static int check_source(weir_relation *r, weir_arena *a, weir_sql_error *e)
{
    const weir_with_option *c = weir_stmt_option(r->decl, "connector");
    const weir_source_connector *conn = weir_source_connector_find(r->connector);
    char why[400];
    if (!conn) {
        snprintf(why, sizeof why, "stream %s: unknown source connector %.200s", r->name, r->connector);
        return unknown(e, c->pos, why, false);
    }
    snprintf(why, sizeof why, "stream %s", r->name);
    int rc = weir_conn_options_check(why, conn->name, conn->options, conn->noptions, weir_stream_options,
                                     (size_t)weir_stream_noptions, r->decl, e);
    if (rc)
        return rc;
    void *conf = weir_arena_alloc(a, conn->conf_size);
    if (!conf) {
        snprintf(e->msg, sizeof e->msg, "out of memory");
        e->line = r->decl->pos.line;
        e->col = r->decl->pos.col;
        return WEIR_ENOMEM;
    }
    conn->bind(r, conf);
    r->source_conf = conf;
    return WEIR_OK;
}

int weir_connectors_check(weir_catalog *cat, weir_arena *a, weir_sql_error *e)
{
    for (int i = 0; i < cat->nrels; i++) {
        int rc = cat->rels[i]->connector ? check_source(cat->rels[i], a, e) : WEIR_OK;
        if (rc)
            return rc;
    }
    for (int i = 0; i < cat->nsinks; i++) {
        const weir_stmt *st = cat->sinks[i];
        const weir_with_option *c = weir_stmt_option(st, "connector");
        char why[400];
        if (!c || c->value.type != WEIR_TYPE_TEXT) {
            snprintf(why, sizeof why, "sink %s: no connector given: WITH (connector = '...')", st->name);
            return unknown(e, c ? c->pos : st->pos, why, true);
        }
        const weir_sink_connector *conn = weir_sink_connector_find(c->value.s);
        if (!conn) {
            snprintf(why, sizeof why, "sink %s: unknown connector %.200s", st->name, c->value.s);
            return unknown(e, c->pos, why, true);
        }
        snprintf(why, sizeof why, "sink %s", st->name);
        int rc = weir_conn_options_check(why, conn->name, conn->options, conn->noptions, sink_own, 1, st, e);
        if (rc)
            return rc;
    }
    return WEIR_OK;
}

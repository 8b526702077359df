/*
 * connectors.c - the one table of connectors. Adding one is its own file
 * (a weir_sink_connector named weir_sink_NAME, see sink.h) and one line
 * in SINKS below: nothing else in weir names it.
 */
#include "conn/connectors.h"

#include <stdio.h>
#include <string.h>

/* One line per sink connector. */
#define SINKS(X) \
    X(file)      \
    X(kafka)     \
    X(clickhouse)

#define DECLARE(name) extern const weir_sink_connector weir_sink_##name;
SINKS(DECLARE)
#define ENTRY(name) &weir_sink_##name,
static const weir_sink_connector *const sinks[] = {SINKS(ENTRY)};

const weir_sink_cap weir_sink_caps[] = {
    {WEIR_SINK_EXACTLY_ONCE, "exactly once",
     "after a crash or a failed delivery it asks the destination how far each stream partition got, so no record "
     "arrives twice"},
    {WEIR_SINK_SCALE_OUT, "scale-out",
     "it runs in every process of a `weir serve --scale-out` group (the processes' records are told apart, or each "
     "writes its own destination)"},
};
const size_t weir_sink_ncaps = sizeof weir_sink_caps / sizeof *weir_sink_caps;

size_t weir_sink_connector_count(void) { return sizeof sinks / sizeof *sinks; }

const weir_sink_connector *weir_sink_connector_at(size_t i) { return i < weir_sink_connector_count() ? sinks[i] : NULL; }

const weir_sink_connector *weir_sink_connector_find(const char *name)
{
    for (size_t i = 0; i < weir_sink_connector_count(); i++)
        if (!strcmp(sinks[i]->name, name))
            return sinks[i];
    return NULL;
}

/* e at pos: why, then the known connectors' names. */
static int unknown(weir_sql_error *e, weir_sql_pos pos, const char *why)
{
    size_t len = (size_t)snprintf(e->msg, sizeof e->msg, "%s (known: ", why);
    for (size_t i = 0; i < weir_sink_connector_count() && len < sizeof e->msg; i++)
        len += (size_t)snprintf(e->msg + len, sizeof e->msg - len, "%s%s", i ? ", " : "", sinks[i]->name);
    if (len < sizeof e->msg)
        snprintf(e->msg + len, sizeof e->msg - len, ")");
    e->line = pos.line;
    e->col = pos.col;
    return WEIR_EINVAL;
}

int weir_connectors_check(const weir_catalog *cat, weir_sql_error *e)
{
    for (int i = 0; i < cat->nsinks; i++) {
        const weir_stmt *st = cat->sinks[i];
        const weir_with_option *c = weir_stmt_option(st, "connector");
        char why[400];
        if (!c || c->value.type != WEIR_TYPE_TEXT) {
            snprintf(why, sizeof why, "sink %s: no connector given: WITH (connector = '...')", st->name);
            return unknown(e, c ? c->pos : st->pos, why);
        }
        const weir_sink_connector *conn = weir_sink_connector_find(c->value.s);
        if (!conn) {
            snprintf(why, sizeof why, "sink %s: unknown connector %.200s", st->name, c->value.s);
            return unknown(e, c->pos, why);
        }
        snprintf(why, sizeof why, "sink %s", st->name);
        int rc = weir_conn_options_check(why, conn->name, conn->options, conn->noptions, st, e);
        if (rc)
            return rc;
    }
    return WEIR_OK;
}

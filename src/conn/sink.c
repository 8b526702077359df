/*
 * sink.c - what sink connectors share: reading their options, and adding
 * sinks to a catalog (serve --kafka and --clickhouse plan some).
 */
#include "conn/sink.h"

#include <stdio.h>
#include <string.h>

#include "base/arena.h"

int weir_catalog_add_sink(weir_catalog *cat, weir_arena *a, const char *name, const char *from,
                          const weir_with_option *with, int nwith)
{
    weir_stmt *st = weir_arena_alloc(a, sizeof *st);
    weir_with_option *opts = weir_arena_alloc(a, (size_t)nwith * sizeof *opts);
    const weir_stmt **sinks = weir_arena_alloc(a, (size_t)(cat->nsinks + 1) * sizeof *sinks);
    if (!st || !opts || !sinks || !(name = weir_arena_strndup(a, name, strlen(name))))
        return WEIR_ENOMEM;
    memcpy(opts, with, (size_t)nwith * sizeof *opts);
    for (int i = 0; i < nwith; i++) /* the values' text outlives the caller's */
        if (opts[i].value.type == WEIR_TYPE_TEXT && !(opts[i].value.s = weir_arena_strndup(a, opts[i].value.s, opts[i].value.len)))
            return WEIR_ENOMEM;
    *st = (weir_stmt){.kind = WEIR_STMT_CREATE_SINK, .name = name, .from = from, .with = opts, .nwith = nwith};
    if (cat->nsinks)
        memcpy(sinks, cat->sinks, (size_t)cat->nsinks * sizeof *sinks);
    sinks[cat->nsinks++] = st;
    cat->sinks = sinks;
    return WEIR_OK;
}

bool weir_catalog_has_sink(const weir_catalog *cat, const char *from, const char *connector)
{
    for (int i = 0; i < cat->nsinks; i++) {
        const weir_with_option *c = weir_stmt_option(cat->sinks[i], "connector");
        if (!strcmp(cat->sinks[i]->from, from) && c && c->value.type == WEIR_TYPE_TEXT && !strcmp(c->value.s, connector))
            return true;
    }
    return false;
}

int weir_clickhouse_plan(weir_catalog *cat, weir_arena *a, const char *url, weir_err *err)
{
    for (int i = 0; i < cat->nrels; i++) {
        const weir_relation *r = cat->rels[i];
        if (weir_catalog_has_sink(cat, r->name, "clickhouse") || r->repartition_of) /* scale-out's own: Kafka only */
            continue;
        char name[300];
        snprintf(name, sizeof name, "%s.to_clickhouse", r->name);
        const weir_with_option with[] = {{.name = "connector", .value = weir_text("clickhouse", 10)},
                                         {.name = "url", .value = weir_text(url, strlen(url))},
                                         {.name = "table", .value = weir_text(r->name, strlen(r->name))},
                                         {.name = "create", .value = weir_bool(true)}};
        if (weir_catalog_add_sink(cat, a, name, r->name, with, 4))
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    }
    return WEIR_OK;
}

const char *weir_sink_text(const weir_sink_config *cfg, const char *name)
{
    return weir_conn_text(cfg->decl, cfg->conn->options, cfg->conn->noptions, name);
}

bool weir_sink_bool(const weir_sink_config *cfg, const char *name)
{
    return weir_conn_bool(cfg->decl, cfg->conn->options, cfg->conn->noptions, name);
}

/*
 * sink_deliver.c - hands records to one CREATE SINK's connector as weir
 * serve's sink thread would (open, resume, one deliver with more = false,
 * close), for the records a pipeline does not emit yet or emits only in
 * rare states: a table's tombstones. The shell tests then check the
 * destination (ClickHouse, a Kafka topic) with its own tools.
 *
 *   sink_deliver PIPELINE.sql SINK PARTITIONS < RECORDS
 *
 * Each line of RECORDS: PARTITION, KEY and VALUE separated by tabs; KEY \N
 * for none; an empty VALUE is a tombstone. Each record gets the next
 * offset of its partition after what resume() says the destination holds.
 * Prints "next P OFFSET" for each partition resume() reported. Exit 0 when
 * delivered, 1 on RETRY, 2 on FATAL (the connector's message on stderr),
 * 3 on bad usage or a pipeline that does not load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "conn/connectors.h"
#include "conn/sink.h"
#include "sql/ast.h"
#include "sql/sql.h"
#include "sql/plan.h"

#define MAX_RECORDS 1000

static const weir_stmt *find_sink(const weir_catalog *cat, const char *name)
{
    for (int i = 0; i < cat->nsinks; i++)
        if (!strcmp(cat->sinks[i]->name, name))
            return cat->sinks[i];
    return NULL;
}

/* Reads RECORDS into recs (their bytes in text, which must not move: read whole first). */
static size_t read_records(char *text, weir_sink_record *recs, const uint64_t *next, uint64_t *offsets, uint32_t parts)
{
    size_t n = 0;
    for (char *line = text, *end; line && *line && n < MAX_RECORDS; line = end) {
        end = strchr(line, '\n');
        if (end)
            *end++ = '\0';
        char *key = strchr(line, '\t'), *value = key ? strchr(key + 1, '\t') : NULL;
        if (!value)
            continue;
        *key++ = '\0';
        *value++ = '\0';
        uint32_t p = (uint32_t)strtoul(line, NULL, 10) % parts;
        bool none = !strcmp(key, "\\N");
        recs[n++] = (weir_sink_record){.partition = p, .offset = next[p] + offsets[p]++, .ts_ms = 1795428000000,
                                       .key = none ? NULL : (const uint8_t *)key, .key_len = none ? 0 : strlen(key),
                                       .value = (const uint8_t *)value, .value_len = strlen(value)};
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 4 || atoi(argv[3]) <= 0) {
        fprintf(stderr, "usage: sink_deliver PIPELINE.sql SINK PARTITIONS < RECORDS\n");
        return 3;
    }
    uint32_t parts = (uint32_t)atoi(argv[3]);
    weir_buf sql = {0}, input = {0};
    char chunk[4096];
    FILE *f = fopen(argv[1], "r");
    for (size_t got; f && (got = fread(chunk, 1, sizeof chunk, f)) > 0;)
        weir_buf_append(&sql, chunk, got);
    for (size_t got; (got = fread(chunk, 1, sizeof chunk, stdin)) > 0;)
        weir_buf_append(&input, chunk, got);
    if (!f || weir_buf_append(&sql, "", 1) || weir_buf_append(&input, "", 1)) {
        fprintf(stderr, "sink_deliver: cannot read %s\n", argv[1]);
        return 3;
    }
    fclose(f);
    weir_arena a = {0};
    weir_stmt **stmts;
    size_t nstmts;
    weir_catalog cat;
    weir_sql_error e;
    if (weir_sql_parse((const char *)sql.data, sql.len - 1, &a, &stmts, &nstmts, &e) ||
        weir_catalog_build(stmts, nstmts, &a, &cat, &e) || weir_connectors_check(&cat, &a, &e)) {
        fprintf(stderr, "sink_deliver: %s:%u:%u: %s\n", argv[1], e.line, e.col, e.msg);
        return 3;
    }
    const weir_stmt *d = find_sink(&cat, argv[2]);
    const weir_with_option *c = d ? weir_stmt_option(d, "connector") : NULL;
    const weir_sink_connector *conn = c ? weir_sink_connector_find(c->value.s) : NULL;
    if (!conn) {
        fprintf(stderr, "sink_deliver: no sink %s in %s\n", argv[2], argv[1]);
        return 3;
    }
    weir_sink_config cfg = {conn, d, weir_catalog_find(&cat, d->from), parts, ".", NULL, NULL, NULL};
    weir_err err = {0};
    void *state = NULL;
    uint64_t next[64] = {0}, offsets[64] = {0};
    weir_sink_record *recs = calloc(MAX_RECORDS, sizeof *recs);
    weir_sink_result rc = parts > 64 || !recs ? WEIR_SINK_FATAL : WEIR_SINK_OK;
    if (rc == WEIR_SINK_OK && conn->open(&cfg, &state, &err))
        rc = WEIR_SINK_FATAL;
    if (rc == WEIR_SINK_OK)
        rc = conn->resume(state, next, parts, &err);
    for (uint32_t p = 0; p < parts && rc == WEIR_SINK_OK; p++)
        printf("next %u %llu\n", p, (unsigned long long)next[p]);
    if (rc == WEIR_SINK_OK) {
        size_t n = read_records((char *)input.data, recs, next, offsets, parts);
        rc = conn->deliver(state, recs, n, false, &err);
    }
    if (rc != WEIR_SINK_OK)
        fprintf(stderr, "sink_deliver: %s: %s\n", rc == WEIR_SINK_FATAL ? "FATAL" : "RETRY", err.msg);
    if (state)
        conn->close(state);
    free(recs);
    weir_buf_free(&sql);
    weir_buf_free(&input);
    weir_arena_free(&a);
    return rc == WEIR_SINK_OK ? 0 : rc == WEIR_SINK_RETRY ? 1 : 2;
}

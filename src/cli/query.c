/*
 * query.c - `weir query "SELECT ..."`: a pull query over a data
 * directory: a table's current rows (the latest row per key) or a bounded
 * scan of a stream, filtered, sorted and limited. Reads the pipeline saved
 * by `weir serve` unless -f names one. Opens the log and the state store
 * read-only, so it runs beside a server: a table is read in a snapshot of
 * the store plus the stable changelog after the store's end, no history
 * replayed (a data directory without a store: the whole changelog).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/io.h"
#include "cli/cli.h"
#include "exec/decode.h"
#include "exec/table_view.h"
#include "exec/runner.h"
#include "log/log.h"
#include "state/store.h"

static const cli_option options[] = {
    {"data", 'd', "DIR", "data directory (default ./weir-data or $WEIR_DATA)"},
    {"file", 'f', "PIPELINE", "the pipeline declaring the stream or table (default: the one weir serve saved)"},
};

static int run_query(const char **v, int argc, char **argv);

const cli_command cli_query = {
    .name = "query",
    .usage = "SQL",
    .summary = "run a pull query (SELECT ... FROM table|stream [WHERE] [ORDER BY] [LIMIT]), SHOW, DESCRIBE, EXPLAIN or a DROP",
    .description = "Prints one JSON object per row. A table's rows are its latest row per key;\n"
                   "a stream is scanned from its oldest retained record. SHOW STREAMS|TABLES|QUERIES|SINKS,\n"
                   "DESCRIBE x and EXPLAIN SELECT ... | EXPLAIN x answer from the pipeline's SQL, as rows.",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .min_args = 1,
    .max_args = 1,
    .run = run_query,
};


/* DROP STREAM|TABLE [IF EXISTS] x: deletes the stream (a table's rows live
 * in the stream of its name) from the data directory. Needs the writer's
 * lock, so not while weir serve runs. */
static int drop(const char *data, const weir_stmt *st)
{
    if (st->drop_kind == WEIR_OBJ_SINK || st->drop_kind == WEIR_OBJ_ROUTE || st->drop_kind == WEIR_OBJ_ENDPOINT) {
        cli_error("query", "sinks, routes and endpoints live in the pipeline: remove them there, or `weir sql 'DROP ...'` "
                           "what weir sql added to a running server");
        return CLI_USAGE;
    }
    weir_log *log;
    weir_err err = {0};
    int rc = weir_log_open(data, NULL, &log, &err);
    if (rc == WEIR_OK)
        rc = weir_stream_drop(log, st->name, &err);
    if (rc == WEIR_OK)
        fprintf(stderr, "weir query: dropped %s (a pipeline writing it needs --reset to rebuild it)\n", st->name);
    if (rc == WEIR_ENOENT && st->if_exists)
        rc = WEIR_OK;
    if (rc)
        cli_error("query", "%s", err.msg);
    if (weir_log_close(log, &err) && rc == WEIR_OK) {
        cli_error("query", "%s", err.msg);
        rc = WEIR_EIO;
    }
    return rc ? CLI_FAIL : CLI_OK;
}

/* Prints rows as JSON lines; CLI_OK or CLI_FAIL (stdout refused them). */
static int print_rows(const weir_schema *schema, const weir_value *const *rows, size_t n)
{
    weir_buf b = {0};
    size_t i = 0;
    for (; i < n; i++) {
        b.len = 0;
        if (weir_encode_json(schema, rows[i], &b) || weir_buf_append(&b, "\n", 1) ||
            fwrite(b.data, 1, b.len, stdout) != b.len)
            break;
    }
    weir_buf_free(&b);
    return fflush(stdout) == 0 && i == n ? CLI_OK : CLI_FAIL;
}

/* SHOW, DESCRIBE and EXPLAIN: the pipeline's catalog answers, no data read. */
static int meta(const weir_catalog *cat, const weir_stmt *st, weir_arena *arena)
{
    weir_meta m;
    weir_sql_error e;
    if (weir_plan_meta(cat, st, arena, &m, &e)) {
        cli_error("query", "%u:%u: %s", e.line, e.col, e.msg);
        return CLI_USAGE;
    }
    return print_rows(&m.schema, m.rows, m.nrows);
}

/* Tries before a store found ahead of the stable changelog (a server
 * between a checkpoint's store commit and its stable file, a few
 * milliseconds) is left for the whole changelog; and the wait between. */
#define AHEAD_TRIES 50
#define AHEAD_WAIT_US 20000

/* A view of table filled for reading: from the store in DATA/state/ if
 * there is one (NULL: none, or it cannot be read: the changelog is whole
 * either way) plus the stable changelog after its end. */
static int load_view(weir_log *log, weir_store *store, const weir_relation *table, weir_table_view **out, weir_err *err)
{
    for (int tries = 0;; tries++) {
        bool attach = store && tries < AHEAD_TRIES;
        int rc = weir_view_new(table, out, err);
        if (rc == WEIR_OK && attach)
            rc = weir_view_attach(*out, store, err);
        if (rc == WEIR_OK)
            rc = weir_view_load(*out, log, true, err);
        if (rc != WEIR_EBUSY || !attach)
            return rc;
        weir_view_free(*out);
        *out = NULL;
        usleep(AHEAD_WAIT_US);
    }
}

/* DATA/state/ read-only, or NULL when it is missing or cannot be opened. */
static weir_store *open_store(const char *data)
{
    char dir[PATH_MAX];
    weir_store *store = NULL;
    weir_err err = {0};
    weir_store_options so = {.read_only = true};
    snprintf(dir, sizeof dir, "%s/state", data);
    if (access(dir, F_OK) == 0 && weir_store_open(dir, &so, &store, &err))
        store = NULL; /* damaged or unreadable: serve says so; the changelog answers here */
    return store;
}

static int run_query(const char **v, int argc, char **argv)
{
    (void)argc;
    const cli_command *c = &cli_query;
    const char *data = cli_data_dir(v[cli_index(c, "data")]);
    char saved[4200];
    weir_pipeline_dir(data, saved, sizeof saved);
    strncat(saved, "/pipeline.sql", sizeof saved - strlen(saved) - 1);
    const char *file = v[cli_index(c, "file")] ? v[cli_index(c, "file")] : saved;
    weir_arena arena = {0};
    weir_catalog cat;
    weir_log *log = NULL;
    weir_err err = {0};
    weir_pull_run *run = NULL;
    weir_table_view *view = NULL;
    weir_store *store = NULL;
    int rc = CLI_FAIL;
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    weir_pull pull;
    if (weir_sql_parse(argv[0], strlen(argv[0]), &arena, &st, &n, &e) || (n != 1 && (e = (weir_sql_error){1, 1, "expected one SELECT statement"}, true))) {
        cli_error("query", "%u:%u: %s", e.line, e.col, e.msg);
        rc = CLI_USAGE;
        goto out;
    }
    if (st[0]->kind == WEIR_STMT_DROP) {
        rc = drop(data, st[0]);
        goto out;
    }
    if (file == saved && access(saved, F_OK)) {
        cli_error("query", "no pipeline has run on %s (%s is missing): start `weir serve -f PIPELINE --data %s` "
                           "once, or name the pipeline with -f PIPELINE", data, saved, data);
        goto out;
    }
    char added[4200];
    snprintf(added, sizeof added, "%s/statements.sql", data);
    if (!cli_load_pipelines("query", file, file == saved ? added : NULL, &arena, &cat))
        goto out;
    if (weir_stmt_is_meta(st[0])) {
        rc = meta(&cat, st[0], &arena);
        goto out;
    }
    if (weir_plan_pull(&cat, st[0], &arena, &pull, &e) ||
        (pull.push && (e = (weir_sql_error){st[0]->pos.line, st[0]->pos.col,
                                            "EMIT CHANGES makes a push query, which follows a running server: "
                                            "POST it to the server's /v1/query"}, true))) {
        cli_error("query", "%u:%u: %s", e.line, e.col, e.msg);
        rc = CLI_USAGE;
        goto out;
    }
    weir_log_options lo = {.read_only = true};
    if (weir_log_open(data, &lo, &log, &err) || weir_pull_begin(&pull, &run, &err))
        goto fail;
    if (pull.from->is_table)
        store = open_store(data);
    if (pull.from->is_table ? load_view(log, store, pull.from, &view, &err) || weir_pull_offer_view(run, view, &err)
                            : weir_pull_offer_scan(run, log, true, &err))
        goto fail;
    const weir_value *const *rows;
    size_t nrows = weir_pull_finish(run, &rows);
    rc = print_rows(&pull.schema, rows, nrows);
    goto out;
fail:
    cli_error("query", "%s", err.msg);
out:
    weir_pull_free(run);
    weir_view_free(view);
    weir_store_close(store);
    weir_log_close(log, NULL);
    weir_arena_free(&arena);
    return rc;
}

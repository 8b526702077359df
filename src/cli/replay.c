/*
 * replay.c - `weir replay -f pipeline.sql --input events.ndjson`: runs a
 * pipeline over a file on a virtual clock and prints what it emits;
 * with --expect, compares that with a golden file and exits 1 on any
 * difference, showing where.
 *
 * Each non-blank line is one record; a line that is not a JSON object
 * goes to the dead-letter stream, as in weir serve. A pipeline with several
 * source streams (a join) takes lines {"stream": NAME, "row": {...}}, the
 * shape replay prints, so one replay's output can feed another; a source
 * table's row leaves it with {"stream": NAME, "removed": {KEY}} (a
 * tombstone). The input is read, and
 * the output written, a megabyte at a time (the output is kept whole only
 * to compare it with --expect): memory does not grow with the files.
 * Nothing touches a data directory: the engine runs in memory, derived
 * streams feed the queries that read them directly. Time is event time;
 * records of a source without a timestamp column get virtual ingest times
 * 1 ms apart from the epoch. At the end of the input every window closes,
 * as at the end of a bounded stream in Flink.
 *
 * Output: one JSON object per line, {"stream": NAME, "row": {...}}, rows
 * of dead-letter streams included (NAME.dlq, row {reason, record,
 * timestamp}), and {"stream": NAME, "removed": {KEY}} when a row leaves
 * a table (its primary key); with --output NAME only that relation's
 * rows, bare ({"removed": {KEY}} for a removal).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/io.h"
#include "cli/cli.h"
#include "exec/decode.h"
#include "exec/engine.h"
#include "json/json.h"
#include "json/ndjson.h"

#define READ_CHUNK (1u << 20) /* bytes a read asks for: as weir produce reads */
#define OUT_CHUNK (1u << 20)  /* bytes of output written at a time */

static const cli_option options[] = {
    {"file", 'f', "PIPELINE", "the pipeline's SQL (required)"},
    {"input", 'i', "FILE", "NDJSON records to replay (required; - for stdin)"},
    {"stream", 's', "NAME", "the source stream the records belong to (default: the only one; with several, each "
                            "line is {\"stream\": NAME, \"row\": {...}})"},
    {"output", 'o', "NAME", "print only the rows of this stream or table, as bare objects"},
    {"expect", 'e', "FILE", "compare the output with FILE; exit 1 and show the differences if they differ"},
};

/* A replayed record has no arrival time, so a window over a stream
 * without a timestamp column would put every record in 1970: refused. */
static bool event_time_for_windows(const char *file, const weir_catalog *cat)
{
    for (int q = 0; q < cat->nqueries; q++) {
        const weir_relation *from = cat->queries[q]->source;
        while (from->query && !from->is_source) /* a derived stream's records keep their input's time */
            from = from->query->source;
        if (cat->queries[q]->window.kind != WEIR_WINDOW_NONE && from->ts_col < 0) {
            cli_error("replay", "%s: a window over %s, which has no timestamp column: a replay has no arrival time to "
                                "window by; declare WITH (timestamp = 'column')", file, from->name);
            return false;
        }
    }
    return true;
}

static int run_replay(const char **v, int argc, char **argv);

const cli_command cli_replay = {
    .name = "replay",
    .usage = "-f PIPELINE --input FILE [--expect GOLDEN]",
    .summary = "run a pipeline over a file on a virtual clock and print (or check) what it emits",
    .description = "Output lines are {\"stream\": NAME, \"row\": {...}}, including NAME.dlq rows for records\n"
                   "that were refused, and {\"stream\": NAME, \"removed\": {KEY}} when a row leaves a table\n"
                   "(HAVING no longer holds); --output NAME prints one relation's rows bare. Every\n"
                   "window closes at the end of the input.",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .min_args = 0,
    .max_args = 0,
    .run = run_replay,
};

typedef struct replay {
    weir_engine *engine;
    const weir_catalog *cat;
    const weir_relation *source; /* the one source stream; NULL: lines name theirs (envelope) */
    const char *only;          /* --output */
    bool streaming;            /* no --expect: out goes to stdout whenever it holds OUT_CHUNK bytes */
    weir_buf out;              /* what was emitted (and not yet written, when streaming) */
    uint64_t records;
    weir_err err;
} replay;

/* Writes out to stdout once it holds OUT_CHUNK bytes, when streaming:
 * memory stays flat whatever the output's size. */
static int spill(replay *rp)
{
    if (!rp->streaming || rp->out.len < OUT_CHUNK)
        return 0;
    if (fwrite(rp->out.data, 1, rp->out.len, stdout) != rp->out.len)
        return -1;
    rp->out.len = 0;
    return 0;
}

/* Starts an output line of relation r: {"stream": NAME, "MEMBER": ...,
 * or with --output only r's, bare (a removal still as {"removed": ...}).
 * Returns -1 on error, 1 when the line is not r's to print, else 0. */
static int line_start(replay *rp, const weir_relation *r, const char *member)
{
    if (rp->only && strcmp(rp->only, r->name))
        return 1;
    if (rp->only)
        return strcmp(member, "row") && (weir_buf_append_str(&rp->out, "{") || weir_json_quote(&rp->out, member, strlen(member)) ||
                                         weir_buf_append_str(&rp->out, ":")) ? -1 : 0;
    return weir_buf_append_str(&rp->out, "{\"stream\":") || weir_json_quote(&rp->out, r->name, strlen(r->name)) ||
                   weir_buf_append_str(&rp->out, ",") || weir_json_quote(&rp->out, member, strlen(member)) ||
                   weir_buf_append_str(&rp->out, ":") ? -1 : 0;
}

/* Ends it: the line's closing brace (none for a bare row), a newline. */
static int line_end(replay *rp, bool bare)
{
    return (!bare && weir_buf_append_str(&rp->out, "}")) || weir_buf_append_str(&rp->out, "\n") || spill(rp);
}

static int on_row(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    (void)ts;
    replay *rp = ctx;
    int rc = line_start(rp, r, "row");
    return rc ? rc < 0 : weir_encode_json(&r->schema, row, &rp->out) || line_end(rp, rp->only != NULL);
}

/* A row that left a table: {"stream": NAME, "removed": {its primary key}},
 * or {"removed": {...}} with --output. */
static int on_removed(void *ctx, const weir_relation *r, const weir_value *row, int64_t ts)
{
    (void)ts;
    replay *rp = ctx;
    int rc = line_start(rp, r, "removed");
    return rc ? rc < 0 : weir_encode_json_cols(&r->schema, row, r->pk, r->npk, &rp->out) || line_end(rp, false);
}

static int on_dead(void *ctx, const weir_relation *src, weir_dead_reason kind, const char *reason, const char *raw, size_t len, int64_t ts)
{
    (void)kind;
    replay *rp = ctx;
    char name[300];
    snprintf(name, sizeof name, "%s.dlq", src->name);
    if (rp->only && strcmp(rp->only, name))
        return 0;
    int rc = 0;
    if (!rp->only)
        rc = weir_buf_append_str(&rp->out, "{\"stream\":") || weir_json_quote(&rp->out, name, strlen(name)) ||
             weir_buf_append_str(&rp->out, ",\"row\":");
    return rc || weir_dead_letter_json(&rp->out, reason, raw, len, NULL, ts) ||
           weir_buf_append_str(&rp->out, rp->only ? "\n" : "}\n") || spill(rp);
}

/* With several source streams (a join's), a line is {"stream": NAME,
 * "row": {...}}, as replay prints rows: the source it belongs to and the
 * record; or for a source table {"stream": NAME, "removed": {KEY}}, which
 * sets *removed. Fails naming the line otherwise. */
static int envelope(replay *rp, const char **text, size_t *len, uint64_t line, const weir_relation **src, bool *removed)
{
    weir_json_span name, row;
    bool named = weir_json_member(*text, *len, "stream", 6, &name) == 1 && name.type == WEIR_JSON_STRING;
    bool has_row = weir_json_member(*text, *len, "row", 3, &row) == 1;
    *removed = !has_row && weir_json_member(*text, *len, "removed", 7, &row) == 1 && row.type == WEIR_JSON_OBJECT;
    if (!named || (!has_row && !*removed))
        return weir_err_set(&rp->err, WEIR_EINVAL, "line %llu: the pipeline has several source streams, so each line "
                            "is {\"stream\": NAME, \"row\": {...}} (or choose one with --stream)",
                            (unsigned long long)line);
    weir_buf b = {0};
    *src = NULL;
    if (weir_json_unescape(name.p, name.len, &b) == 0 && weir_buf_append(&b, "", 1) == 0)
        *src = weir_catalog_find(rp->cat, (const char *)b.data);
    weir_buf_free(&b);
    *text = row.p;
    *len = row.len;
    if (!*src || !(*src)->is_source)
        return weir_err_set(&rp->err, WEIR_EINVAL, "line %llu: %.*s is not a source stream of the pipeline",
                            (unsigned long long)line, (int)name.len, name.p);
    if (*removed && !(*src)->is_table)
        return weir_err_set(&rp->err, WEIR_EINVAL, "line %llu: \"removed\" removes a source table's row; %s is a "
                            "stream", (unsigned long long)line, (*src)->name);
    return WEIR_OK;
}

/* A source table's row leaves: the tombstone of the key {KEY} names (its
 * key column's text, as the table's records are keyed). */
static int push_removed(replay *rp, const weir_relation *table, const char *text, size_t len, uint64_t line,
                        const weir_emit_target *t)
{
    const char *col = table->schema.cols[table->pk[0]].name;
    weir_json_span v;
    weir_buf key = {0};
    if (weir_json_member(text, len, col, strlen(col), &v) != 1)
        return weir_err_set(&rp->err, WEIR_EINVAL, "line %llu: \"removed\" must name %s's key column %s",
                            (unsigned long long)line, table->name, col);
    int rc = v.type == WEIR_JSON_STRING ? weir_json_unescape(v.p, v.len, &key) : weir_buf_append(&key, v.p, v.len);
    if (rc)
        rc = weir_err_set(&rp->err, WEIR_ENOMEM, "out of memory");
    else
        rc = weir_engine_push_tombstone(rp->engine, table, 0, (const char *)key.data, key.len, (int64_t)line - 1, t,
                                        &rp->err);
    weir_buf_free(&key);
    return rc;
}

/* weir_ndjson_fn (lenient): one line to the engine as it is; a line that
 * is not a JSON object goes to the dead-letter stream, as in weir serve. */
static int on_line(void *ctx, const char *text, size_t len, uint64_t line, weir_ndjson_error *e)
{
    (void)e;
    replay *rp = ctx;
    weir_emit_target t = {rp, on_row, on_dead, on_removed};
    rp->records++;
    const weir_relation *src = rp->source;
    bool removed = false;
    if (!src && envelope(rp, &text, &len, line, &src, &removed))
        return 1;
    if (removed)
        return push_removed(rp, src, text, len, line, &t) ? 1 : 0;
    return weir_engine_push_json(rp->engine, src, 0, text, len, (int64_t)line - 1, &t, &rp->err) ? 1 : 0;
}

/* Reads the input a bounded buffer at a time (READ_CHUNK, grown only for a
 * longer line) and hands its lines to the engine where they lie, so memory
 * and page faults stay flat whatever the file's size. Reports errors. */
static int feed_input(replay *rp, const char *input)
{
    const char *path = strcmp(input, "-") ? input : "/dev/stdin";
    int fd = strcmp(input, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    if (fd < 0) {
        cli_error("replay", "open %s: %s", path, strerror(errno));
        return CLI_FAIL;
    }
    weir_buf in = {0};
    weir_ndjson nd = {.lenient = true};
    weir_ndjson_error e = {0};
    int rc = CLI_OK;
    for (bool eof = false; !eof && rc == CLI_OK;) {
        if (weir_buf_reserve(&in, READ_CHUNK)) {
            cli_error("replay", "out of memory");
            rc = CLI_FAIL;
            break;
        }
        ssize_t n = read(fd, in.data + in.len, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cli_error("replay", "read %s: %s", path, strerror(errno));
            rc = CLI_FAIL;
            break;
        }
        eof = n == 0;
        in.len += (size_t)n;
        ssize_t used = weir_ndjson_feed(&nd, (const char *)in.data, in.len, eof, on_line, rp, &e);
        if (used < 0) {
            cli_error("replay", "%s", rp->err.msg);
            rc = CLI_FAIL;
            break;
        }
        memmove(in.data, in.data + used, in.len - (size_t)used);
        in.len -= (size_t)used;
    }
    weir_buf_free(&in);
    if (fd != STDIN_FILENO)
        close(fd);
    return rc;
}

/* Splits text into lines (without newlines); caller frees *lines. */
static size_t split_lines(char *text, size_t len, char ***lines)
{
    size_t n = 0, cap = 64;
    char **v = malloc(cap * sizeof *v);
    for (size_t i = 0; v && i < len;) {
        char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        if (n == cap) {
            char **w = realloc(v, (cap *= 2) * sizeof *v);
            if (!w) {
                free(v);
                return (size_t)-1;
            }
            v = w;
        }
        text[end] = '\0';
        v[n++] = text + i;
        i = end + 1;
    }
    *lines = v;
    return v ? n : (size_t)-1;
}

/* Compares the output with the golden file line by line; prints the differences. */
static int compare(replay *rp, const char *path)
{
    char *want;
    size_t want_len;
    weir_err err;
    if (weir_io_read_file(&weir_io_posix, path, &want, &want_len, &err) != WEIR_OK) {
        cli_error("replay", "%s", err.msg);
        return CLI_FAIL;
    }
    if (weir_buf_append(&rp->out, "", 1)) {
        free(want);
        return CLI_FAIL;
    }
    char **a, **b;
    size_t na = split_lines(want, want_len, &a), nb = split_lines((char *)rp->out.data, rp->out.len - 1, &b);
    size_t diffs = 0, shown = 0;
    for (size_t i = 0; i < (na > nb ? na : nb); i++) {
        const char *x = i < na ? a[i] : NULL, *y = i < nb ? b[i] : NULL;
        if (x && y && !strcmp(x, y))
            continue;
        diffs++;
        if (shown++ < 10)
            fprintf(stderr, "line %zu:\n  expected: %s\n  got:      %s\n", i + 1, x ? x : "(nothing: the output ended)",
                    y ? y : "(nothing: the output ended)");
    }
    if (diffs)
        fprintf(stderr, "weir replay: %zu of %zu expected lines differ (%zu lines produced)%s\n", diffs, na, nb,
                shown > 10 ? "; the first 10 are shown" : "");
    free(a);
    free(b);
    free(want);
    return diffs ? CLI_FAIL : CLI_OK;
}

static int run_replay(const char **v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const cli_command *c = &cli_replay;
    const char *file = v[cli_index(c, "file")], *input = v[cli_index(c, "input")];
    if (!file || !input) {
        cli_error("replay", "both -f PIPELINE and --input FILE are needed");
        return CLI_USAGE;
    }
    weir_arena arena = {0};
    weir_catalog cat;
    replay rp = {.only = v[cli_index(c, "output")], .streaming = !v[cli_index(c, "expect")]};
    int rc = CLI_FAIL;
    if (!cli_load_pipeline("replay", file, &arena, &cat))
        goto out;
    const char *want = v[cli_index(c, "stream")];
    int nsources = 0;
    rp.cat = &cat;
    for (int i = 0; i < cat.nrels; i++)
        if (cat.rels[i]->is_source && (!want || !strcmp(want, cat.rels[i]->name))) {
            rp.source = cat.rels[i];
            nsources++;
        }
    if (nsources > 1)
        rp.source = NULL; /* each line names its stream */
    if (!nsources) {
        cli_error("replay", want ? "%s has no source stream %s" : "%s declares no source stream (CREATE STREAM with columns)",
                  file, want);
        rc = CLI_USAGE;
        goto out;
    }
    if (!event_time_for_windows(file, &cat)) {
        rc = CLI_USAGE;
        goto out;
    }
    if (rp.only && !weir_catalog_find(&cat, rp.only) &&
        !(strlen(rp.only) > 4 && !strcmp(rp.only + strlen(rp.only) - 4, ".dlq"))) {
        cli_error("replay", "--output %s: %s declares no such stream or table", rp.only, file);
        rc = CLI_USAGE;
        goto out;
    }
    weir_engine_options eo = {.chain = true, .single_partition = true};
    if (weir_engine_new(&cat, &eo, &rp.engine, &rp.err)) {
        cli_error("replay", "%s", rp.err.msg);
        goto out;
    }
    if (feed_input(&rp, input) != CLI_OK)
        goto out;
    weir_emit_target t = {&rp, on_row, on_dead, on_removed};
    if (weir_engine_advance(rp.engine, INT64_MAX, &t, &rp.err)) {
        cli_error("replay", "%s", rp.err.msg);
        goto out;
    }
    if (v[cli_index(c, "expect")]) {
        rc = compare(&rp, v[cli_index(c, "expect")]);
    } else {
        rc = fwrite(rp.out.data ? (char *)rp.out.data : "", 1, rp.out.len, stdout) == rp.out.len && fflush(stdout) == 0
                 ? CLI_OK : CLI_FAIL;
    }
out:
    weir_engine_free(rp.engine);
    weir_buf_free(&rp.out);
    weir_arena_free(&arena);
    return rc;
}

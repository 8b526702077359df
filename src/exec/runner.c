/*
 * runner.c - the serve loop over the embedded log: opening a pipeline
 * (restoring its checkpoint, checkpoint.c writes them), the steps, the
 * emit callbacks that append to the outputs.
 */
#include "exec/runner_internal.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "base/clock.h"
#include "base/codec.h"
#include "base/crc32c.h"
#include "base/hash.h"
#include "exec/decode.h"
#include "exec/repartition.h"
#include "json/json.h"
#include "sql/eval.h"

void weir_pipeline_dir(const char *data_dir, char *out, size_t cap)
{
    snprintf(out, cap, "%s/pipeline", data_dir);
}

output *runner_output(const weir_runner *r, const char *name)
{
    for (int i = 0; i < r->noutputs; i++)
        if (!strcmp(r->outputs[i].name, name))
            return &r->outputs[i];
    return NULL;
}

input *runner_input(const weir_runner *r, const weir_relation *rel)
{
    for (int i = 0; i < r->ninputs; i++)
        if (r->inputs[i].rel == rel)
            return &r->inputs[i];
    return NULL;
}

/* Opens the stream, creating it with the given partitions if missing. */
static int stream_for(weir_runner *r, const char *name, uint32_t partitions, weir_stream **out, weir_err *err)
{
    weir_stream_config c = {.partitions = partitions};
    int rc = weir_stream_open_or_create(r->log, name, &c, out, err);
    if (rc == WEIR_OK && weir_stream_get_config(*out)->partitions != partitions)
        rc = weir_err_set(err, WEIR_EINVAL, "stream %s has %u partitions, the pipeline declares %u", name,
                          weir_stream_get_config(*out)->partitions, partitions);
    return rc;
}

static int add_output(weir_runner *r, const char *name, const weir_relation *rel, uint32_t partitions, weir_err *err)
{
    if (runner_output(r, name))
        return WEIR_OK;
    output *o = &r->outputs[r->noutputs];
    o->name = name;
    o->rel = rel;
    int rc = stream_for(r, name, partitions, &o->stream, err);
    if (rc == WEIR_OK && !(o->checkpointed = calloc(partitions, sizeof *o->checkpointed)))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (rc == WEIR_OK && rel) /* rebuilt from the checkpoint after a crash: fdatasync at checkpoints only */
        weir_stream_defer_sync(o->stream, true);
    if (rc == WEIR_OK)
        r->noutputs++;
    return rc;
}

/* ---- emitting into the log ---- */

/* Appends the text of row's columns cols, joined by '|' (a TEXT as its
 * characters, other values as JSON; a NULL as nothing), as a producer's
 * key = 'a, b' makes it. Returns -1 when out of memory; *any: whether a
 * column was not NULL. */
static int key_text(weir_buf *b, const weir_value *row, const int *cols, int n, bool *any)
{
    *any = false;
    for (int i = 0; i < n; i++) {
        const weir_value *k = &row[cols[i]];
        if ((i && weir_buf_append(b, "|", 1)) ||
            (!k->is_null && (k->type == WEIR_TYPE_TEXT ? weir_buf_append(b, k->s, k->len) : weir_value_to_json(b, k))))
            return -1;
        *any |= !k->is_null;
    }
    return 0;
}

/* The record of an output row (its value, JSON, already in r->json at 0,
 * value_len long): key, headers and partition.
 * - A table (a grouped query, a join of tables) is keyed by its whole
 *   primary key, so that a
 *   compacted topic keeps one record per row: the key column's text when
 *   it is one column (as a producer keys by it), else a JSON object of the
 *   GROUP BY columns and the window start, as the value writes them
 *   ({"device_type":"ios","window_start":"2026-..."}). Its partition is
 *   still that of the partitioning columns (WITH key, or the first GROUP
 *   BY column), so all windows of a key stay in one partition, as Kafka
 *   Streams partitions windowed keys by the key alone.
 * - A stream with WITH (key = ...) is keyed and partitioned by those
 *   columns, one with PARTITION BY by the text of its value (ksqlDB's
 *   re-keying; a NULL or an error: no key). A row of either, or of a
 *   table, without its key goes to the empty key's partition
 *   (weir_partition_for_no_key), as ingest puts such a record, so that a
 *   NULL group is whole in one partition.
 *   A repartition stream (scale-out's) is keyed by its GROUP BY columns
 *   even when all are NULL (the key "", "|" for two...), since one
 *   partition must hold every record of that group too.
 * - Any other stream keeps the key and headers of the record that caused
 *   the row, and its partition. */
static int output_record(weir_buf *json, weir_arena *key_scratch, uint32_t cur_part, const weir_record *cause,
                         const weir_relation *rel, const weir_value *row, size_t value_len, uint32_t partitions,
                         weir_record *rec, int32_t *part)
{
    bool keyed = false;
    size_t at = json->len;
    if (rel->partition_by) { /* an error evaluating it keys the row by nothing, as a NULL does */
        weir_arena_reset(key_scratch);
        weir_eval ev = {.arena = key_scratch, .row = row};
        weir_value v = weir_eval_expr(&ev, rel->partition_by);
        int col = 0;
        if (!ev.err && key_text(json, &v, &col, 1, &keyed))
            return -1;
    } else if (key_text(json, row, rel->key_cols, rel->nkey_cols, &keyed)) {
        return -1;
    }
    keyed |= rel->repartition_of != NULL; /* a NULL group key is a group too: its records all go where "" goes */
    if (keyed)
        *part = (int32_t)weir_partition_for_key(json->data + at, json->len - at, partitions);
    else if (rel->partition_by || rel->nkey_cols) /* a keyed stream's row without its key: one partition, as ingest's */
        *part = (int32_t)weir_partition_for_no_key(partitions);
    else
        *part = (int32_t)(cur_part % partitions);
    bool table = rel->is_table; /* a derived table: append_output returned early for a source table */
    if (table && rel->npk > 1) {
        json->len = at;
        if (weir_encode_json_cols(&rel->schema, row, rel->pk, rel->npk, json))
            return -1;
        keyed = true;
    } else if (table && rel->npk == 1 && rel->pk[0] != rel->key_col) {
        json->len = at;
        if (key_text(json, row, rel->pk, 1, &keyed))
            return -1;
    }
    rec->value = json->data; /* the buffer may have moved */
    rec->value_len = value_len;
    if (keyed) {
        rec->key = json->data + at;
        rec->key_len = json->len - at;
    } else if (!table && rel->nkey_cols == 0 && !rel->partition_by && cause) {
        rec->key = cause->key;
        rec->key_len = cause->key_len;
        rec->headers = cause->headers;
        rec->headers_len = cause->headers_len;
    }
    return 0;
}

int runner_encode_output(weir_buf *json, weir_arena *key_scratch, uint32_t cur_part, const weir_record *cause,
                         const output *o, const weir_value *row, bool removed, weir_record *rec, int32_t *part)
{
    json->len = 0;
    return (!removed && weir_encode_json(&o->rel->schema, row, json)) ||
           output_record(json, key_scratch, cur_part, cause, o->rel, row, json->len,
                         weir_stream_get_config(o->stream)->partitions, rec, part);
}

/* Appends a row of rel to its output stream, or with removed the removal
 * of the row that row's primary key names: its key, and no value (a
 * tombstone, which a Kafka sink sends as a null value). */
static int append_output(weir_runner *r, const weir_relation *rel, const weir_value *row, int64_t ts, bool removed)
{
    if (rel->is_source) /* a source table: its records are its changelog, in the log already; its view learns the row */
        return r->opt.on_output && runner_owns(r, rel) ? r->opt.on_output(r->opt.on_output_ctx, rel, row, removed, &r->cb_err)
                                                       : WEIR_OK;
    output *o = runner_output(r, rel->name);
    if (!o)
        return weir_err_set(&r->cb_err, WEIR_EINVAL, "no output stream for %s", rel->name);
    weir_record rec = {.ts_ms = ts};
    int32_t part;
    if (runner_encode_output(&r->json, &r->key_scratch, r->cur_part, r->cur_rec, o, row, removed, &rec, &part))
        return weir_err_set(&r->cb_err, WEIR_ENOMEM, "out of memory");
    uint32_t engine_part;
    if (rel->repartition_of && /* scale-out's: the record names its origin (repartition.h) */
        (!r->cur || repart_header(engine_of(r, r->cur, r->cur_part, &engine_part), rel, r->cur_part, r->cur_offset, ts,
                                  &rec.headers, &rec.headers_len)))
        return weir_err_set(&r->cb_err, WEIR_ENOMEM, "out of memory writing %s", rel->name);
    int rc = weir_stream_append(o->stream, part, &rec, NULL, NULL, &r->cb_err);
    if (rc == WEIR_OK && r->opt.tasks && r->opt.tasks->emit) /* exactly once: in the task's transaction too */
        rc = tasks_emit(r, o->name, (uint32_t)part, weir_stream_get_config(o->stream)->partitions, &rec);
    r->changes++;
    if (rc == WEIR_OK && r->opt.on_output)
        rc = r->opt.on_output(r->opt.on_output_ctx, rel, row, removed, &r->cb_err);
    return rc;
}

static int on_row(void *ctx, const weir_relation *rel, const weir_value *row, int64_t ts)
{
    return append_output(ctx, rel, row, ts, false);
}

static int on_removed(void *ctx, const weir_relation *rel, const weir_value *row, int64_t ts)
{
    return append_output(ctx, rel, row, ts, true);
}

int runner_dead_letter(const weir_runner *r, const input *in, const weir_relation *src, const uint64_t *pos,
                       weir_dead_reason kind, const char *reason, const char *raw, size_t len, int64_t ts,
                       weir_buf *json, weir_err *err)
{
    if (weir_dead_of_record(kind) && r->opt.input_letters && !r->opt.input_letters[weir_catalog_index(r->cat, src)])
        return -1; /* another runner reading the stream writes it */
    if (!in) /* the engine dead-letters records of the streams it reads, all inputs here */
        return weir_err_set(err, WEIR_EINVAL, "no dead-letter stream for %s", src->name);
    if (pos && pos[1] < in->dead_upto[pos[0]])
        return -1; /* written before the crash this run recovers from */
    uint64_t none[2] = {0, 0};
    json->len = 0;
    int rc = weir_dead_letter_json(json, reason, raw, len, pos ? pos : none, ts);
    if (rc == 0 && r->opt.group) { /* whose it is, for note_dead_letters: {..., "group": "sN"} */
        json->len--;
        rc = weir_buf_append_str(json, ",\"group\":") || weir_json_quote(json, r->opt.group, strlen(r->opt.group)) ||
             weir_buf_append_str(json, "}");
    }
    return rc ? weir_err_set(err, WEIR_ENOMEM, "out of memory") : WEIR_OK;
}

static int on_dead(void *ctx, const weir_relation *src, weir_dead_reason kind, const char *reason, const char *raw, size_t len, int64_t ts)
{
    weir_runner *r = ctx;
    input *in = runner_input(r, src);
    uint64_t pos[2] = {r->cur_part, r->cur_offset};
    int rc = runner_dead_letter(r, in, src, in && in == r->cur ? pos : NULL, kind, reason, raw, len, ts, &r->json, &r->cb_err);
    if (rc)
        return rc < 0 ? WEIR_OK : rc;
    weir_record rec = {.value = r->json.data, .value_len = r->json.len, .ts_ms = ts};
    rc = weir_stream_append(in->dlq, 0, &rec, NULL, NULL, &r->cb_err);
    return rc == WEIR_OK && r->opt.tasks && r->opt.tasks->emit /* exactly once: in the task's transaction too */
               ? tasks_emit(r, weir_stream_name(in->dlq), 0, weir_stream_get_config(in->dlq)->partitions, &rec)
               : rc;
}

/* The end of stream's partition in the stable file at path. */
static bool stable_end_in(const char *path, const char *stream, uint32_t partition, uint64_t *end)
{
    char *text;
    if (weir_io_read_file(&weir_io_posix, path, &text, NULL, NULL) != WEIR_OK)
        return false;
    bool found = false;
    size_t n = strlen(stream);
    for (char *line = text; *line && !found;) {
        char *eol = strchr(line, '\n');
        unsigned p;
        unsigned long long off;
        if (!strncmp(line, stream, n) && line[n] == ' ' && sscanf(line + n, " %u %llu", &p, &off) == 2 && p == partition) {
            *end = off;
            found = true;
        }
        line = eol ? eol + 1 : line + strlen(line);
    }
    free(text);
    return found;
}

bool weir_pipeline_stable_end(const char *data_dir, const char *stream, uint32_t partition, uint64_t *end)
{
    char dir[PATH_MAX], path[PATH_MAX + 600];
    weir_pipeline_dir(data_dir, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/stable", dir);
    if (stable_end_in(path, stream, partition, end))
        return true;
    strncat(dir, "/added", sizeof dir - strlen(dir) - 1); /* the groups of statements added at runtime */
    DIR *d = opendir(dir);
    bool found = false;
    for (struct dirent *e; d && !found && (e = readdir(d));) {
        snprintf(path, sizeof path, "%s/%s/stable", dir, e->d_name);
        found = e->d_name[0] != '.' && stable_end_in(path, stream, partition, end);
    }
    if (d)
        closedir(d);
    return found;
}

/* A dead-letter stream is not cut back to the checkpoint: ingest writes
 * to it too (records refused by a schema), and those are acknowledged.
 * Instead the dead letters written after the checkpoint say which input
 * offsets they came from, and replaying those offsets writes them once.
 * Each runner counts only its own: a group's carry its name. */
static int note_dead_letters(weir_runner *r, output *o, uint64_t from, weir_err *err)
{
    input *in = NULL;
    for (int i = 0; i < r->ninputs && !in; i++)
        if (r->inputs[i].dlq == o->stream)
            in = &r->inputs[i];
    weir_reader *rd;
    int rc = in ? weir_reader_open(o->stream, 0, from, &rd, err) : WEIR_OK;
    if (!in || rc)
        return rc;
    weir_record rec;
    int got;
    while ((got = weir_reader_next(rd, &rec, err)) == 1) {
        weir_json_span part, off;
        if (weir_json_member((const char *)rec.value, rec.value_len, "partition", 9, &part) != 1 ||
            weir_json_member((const char *)rec.value, rec.value_len, "offset", 6, &off) != 1)
            continue; /* refused at ingest: no input offset */
        weir_json_span group;
        bool has_group = weir_json_member((const char *)rec.value, rec.value_len, "group", 5, &group) == 1;
        if (has_group != (r->opt.group != NULL) ||
            (has_group && (group.len != strlen(r->opt.group) + 2 || memcmp(group.p + 1, r->opt.group, group.len - 2))))
            continue; /* another runner's */
        unsigned long long p = strtoull(part.p, NULL, 10), o_ = strtoull(off.p, NULL, 10);
        if (p < in->nparts && o_ + 1 > in->dead_upto[p])
            in->dead_upto[p] = o_ + 1;
    }
    weir_reader_close(rd);
    return got < 0 ? err->code : WEIR_OK;
}

/* Applies a checkpoint: input offsets, outputs cut back, engine state. */
static int restore(weir_runner *r, const uint8_t *data, size_t len, weir_err *err)
{
    uint32_t stored = 0;
    if (len >= 8)
        memcpy(&stored, data + len - 4, 4);
    if (len < 8 || weir_crc32c(0, data, len - 4) != stored)
        return weir_err_set(err, WEIR_ECORRUPT, "%s/checkpoint is damaged (CRC mismatch)", r->dir);
    weir_reader_buf rd = {data, data + len - 4, false};
    if (weir_get_u32(&rd) != CHECKPOINT_MAGIC)
        return weir_err_set(err, WEIR_ECORRUPT, "%s/checkpoint is not a weir checkpoint", r->dir);
    if (weir_get_u64(&rd) != r->sql_hash)
        return weir_err_set(err, WEIR_EINVAL, "the pipeline's SQL changed since its last checkpoint: its state does not "
                                              "fit the new queries; restart with --reset to rebuild it from the log");
    r->epoch = weir_get_u64(&rd);
    uint32_t n = weir_get_u32(&rd);
    for (uint32_t i = 0; i < n && !rd.bad; i++) {
        uint32_t name_len, parts;
        const uint8_t *name = weir_get_bytes(&rd, &name_len);
        parts = weir_get_u32(&rd);
        input *in = NULL;
        for (int k = 0; name && k < r->ninputs; k++)
            if (strlen(r->inputs[k].rel->name) == name_len && !memcmp(r->inputs[k].rel->name, name, name_len))
                in = &r->inputs[k];
        for (uint32_t p = 0; p < parts; p++) {
            uint64_t off = weir_get_u64(&rd);
            if (in && p < in->nparts)
                in->offset[p] = off;
        }
    }
    n = weir_get_u32(&rd);
    for (uint32_t i = 0; i < n && !rd.bad; i++) {
        uint32_t name_len, parts;
        const uint8_t *name = weir_get_bytes(&rd, &name_len);
        parts = weir_get_u32(&rd);
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)name_len, name ? (const char *)name : "");
        output *o = runner_output(r, buf);
        for (uint32_t p = 0; p < parts && !rd.bad; p++) {
            uint64_t end = weir_get_u64(&rd);
            if (o && o->rel && p < weir_stream_get_config(o->stream)->partitions)
                o->checkpointed[p] = end; /* what other runners may read of it until the next checkpoint */
            int rc = !o ? WEIR_OK : o->rel ? weir_stream_truncate(o->stream, p, end, err) : note_dead_letters(r, o, end, err);
            if (rc)
                return weir_err_wrap(err, "rolling %s back to the checkpoint", buf);
        }
    }
    uint32_t state_len;
    const uint8_t *state = weir_get_bytes(&rd, &state_len);
    if (rd.bad || !state)
        return weir_err_set(err, WEIR_ECORRUPT, "%s/checkpoint is damaged", r->dir);
    /* the partition-parallel inputs' engines first: a checkpoint of another layout is refused saying so */
    int rc = workers_load(r, &rd, err);
    return rc ? rc : weir_engine_load(r->engine, state, state_len, err);
}

/* Which inputs the checkpoint (data, or NULL: none) keeps per partition
 * (workers.c's choose follows it, whatever --threads says: the thread
 * count is only how many threads run the partitions' engines); without
 * one, or with --reset, nothing is kept and the inputs' records decide. */
static int layout_as_checkpointed(weir_runner *r, const char *data, size_t len, weir_err *err)
{
    if (!data || r->opt.tasks)
        return WEIR_OK;
    if (!(r->checkpointed_parts = calloc((size_t)r->ninputs + 1, sizeof *r->checkpointed_parts)))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    checkpoint_layout(r, data, len, r->checkpointed_parts);
    return WEIR_OK;
}

/* Without a checkpoint the outputs must start empty (or be emptied by reset). */
static int start_fresh(weir_runner *r, weir_err *err)
{
    for (int i = 0; i < r->noutputs; i++) {
        weir_stream *s = r->outputs[i].stream;
        uint32_t n = weir_stream_get_config(s)->partitions;
        for (uint32_t p = 0; p < n; p++) {
            weir_partition_stats st;
            int rc = weir_stream_partition_stats(s, p, &st, err);
            if (rc)
                return rc;
            if (st.end_offset == 0)
                continue;
            if (!r->outputs[i].rel) { /* dead letters are kept (see note_dead_letters) */
                if ((rc = note_dead_letters(r, &r->outputs[i], 0, err)))
                    return rc;
                continue;
            }
            if (!r->opt.reset && !r->opt.group) /* a group's outputs are its own: what is there came of an earlier one */
                return weir_err_set(err, WEIR_EEXIST, "stream %s already has records but the pipeline has no checkpoint: "
                                                      "restart with --reset to rebuild it from the inputs", r->outputs[i].name);
            if ((rc = weir_stream_truncate(s, p, 0, err)))
                return rc;
        }
    }
    return WEIR_OK;
}

/* DIR/pipeline/pipeline.sql (what `weir query` reads), written only when
 * it changed: a start on a full disk need not write anything. */
static int save_sql(const weir_runner *r, const char *sql, size_t sql_len, weir_err *err)
{
    char path[PATH_MAX + 16], *saved;
    size_t len;
    snprintf(path, sizeof path, "%s/pipeline.sql", r->dir);
    if (weir_io_read_file(weir_log_io(r->log), path, &saved, &len, NULL) == WEIR_OK) {
        bool same = len == sql_len && !memcmp(saved, sql, len);
        free(saved);
        if (same)
            return WEIR_OK;
    }
    return weir_io_write_file_atomic(weir_log_io(r->log), path, sql, sql_len, err);
}

/* A first run: an input whose every reader says WITH (start = 'latest')
 * is read from its end (a source table's records always from the start:
 * they are its rows). */
static int start_at_latest(weir_runner *r, weir_err *err)
{
    for (int i = 0; i < r->ninputs; i++) {
        input *in = &r->inputs[i];
        bool latest = !(in->rel->is_table && in->rel->is_source) && !in->rel->connector, read = false; /* a connector keeps its own place */
        for (int q = 0; q < r->cat->nqueries; q++) {
            const weir_query *query = r->cat->queries[q];
            if (query->source == in->rel || (query->join && query->join->right == in->rel)) {
                read = true;
                latest &= query->start_latest;
            }
        }
        for (uint32_t p = 0; read && latest && p < in->nparts; p++) {
            weir_partition_stats st;
            int rc = weir_stream_partition_stats(in->stream, p, &st, err);
            if (rc)
                return rc;
            in->offset[p] = st.end_offset;
        }
    }
    return WEIR_OK;
}

int weir_runner_open(weir_log *log, const weir_catalog *cat, const char *sql, size_t sql_len,
                     const weir_runner_options *opt, weir_runner **out, weir_err *err)
{
    *out = NULL;
    weir_runner *r = calloc(1, sizeof *r);
    if (!r)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    r->log = log;
    r->cat = cat;
    if (opt)
        r->opt = *opt;
    if (!r->opt.checkpoint_ms) r->opt.checkpoint_ms = 1000;
    if (!r->opt.idle_ms) r->opt.idle_ms = 5000;
    if (!r->opt.batch) r->opt.batch = 4096;
    r->sql_hash = XXH64(sql, sql_len, 0);
    weir_pipeline_dir(weir_log_dir(log), r->dir, sizeof r->dir);
    if (r->opt.group)
        snprintf(r->dir + strlen(r->dir), sizeof r->dir - strlen(r->dir), "/added/%s", r->opt.group);
    snprintf(r->copy_key, sizeof r->copy_key, r->opt.group ? "file:%s" : "file", r->opt.group);
    int rc = WEIR_OK;
    r->inputs = calloc((size_t)cat->nrels + 1, sizeof *r->inputs);
    r->quiet_since = calloc((size_t)cat->nqueries + 1, sizeof *r->quiet_since);
    r->quiet_base = calloc((size_t)cat->nqueries + 1, sizeof *r->quiet_base);
    r->outputs = calloc((size_t)cat->nrels * 2 + 1, sizeof *r->outputs);
    if (rc == WEIR_OK && (!r->inputs || !r->outputs || !r->quiet_since || !r->quiet_base))
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    /* Inputs: every relation a query reads; outputs: every query's relation and every input's dead letters. */
    for (int i = 0; i < cat->nrels && rc == WEIR_OK; i++) {
        const weir_relation *rel = cat->rels[i];
        bool read = rel->is_table && rel->is_source && runner_owns(r, rel), written = false; /* a source table's records make its rows */
        for (int q = 0; q < cat->nqueries; q++) {
            read |= cat->queries[q]->source == rel || (cat->queries[q]->join && cat->queries[q]->join->right == rel);
            written |= cat->queries[q]->output == rel;
        }
        if (written && (rc = add_output(r, rel->name, rel, rel->partitions, err)))
            break;
        if (!read)
            continue;
        input *in = &r->inputs[r->ninputs++];
        in->rel = rel;
        in->nparts = rel->partitions;
        in->offset = calloc(in->nparts, sizeof *in->offset);
        in->readers = calloc(in->nparts, sizeof *in->readers);
        in->last_data_ms = calloc(in->nparts, sizeof *in->last_data_ms);
        in->dead_upto = calloc(in->nparts, sizeof *in->dead_upto);
        if (!in->offset || !in->readers || !in->last_data_ms || !in->dead_upto) {
            rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
            break;
        }
        if ((rc = stream_for(r, rel->name, rel->partitions, &in->stream, err)))
            break;
        char dlq[300];
        snprintf(dlq, sizeof dlq, "%s.dlq", rel->name);
        const char *name = strdup(dlq);
        if (!name || (rc = add_output(r, name, NULL, 1, err)) || !(in->dlq = runner_output(r, name)->stream)) {
            free((void *)name);
            if (!rc)
                rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
            break;
        }
    }
    /* a group's directory made now: any copy of a checkpoint the store holds under its name is an older group's */
    r->new_dir = r->opt.group && access(r->dir, F_OK) != 0;
    char *data = NULL; /* the checkpoint to restore: the file's, or the store's copy if newer */
    size_t len = 0;
    int got = WEIR_ENOENT;
    if (rc == WEIR_OK && !r->opt.reset && (got = checkpoint_read(r, &data, &len, err)) != WEIR_OK && got != WEIR_ENOENT)
        rc = got;
    if (rc == WEIR_OK)
        rc = layout_as_checkpointed(r, got == WEIR_OK ? data : NULL, len, err);
    if (rc == WEIR_OK)
        rc = workers_open(r, err);
    weir_engine_options eo = {.chain = false, .runs = r->runs_here}; /* the queries not run per partition */
    if (rc == WEIR_OK)
        rc = weir_engine_new(cat, &eo, &r->engine, err);
    if (rc == WEIR_OK)
        rc = weir_mkdirs(r->dir, err);
    if (rc == WEIR_OK)
        rc = save_sql(r, sql, sql_len, err);
    if (rc == WEIR_OK)
        rc = checkpoint_attach(r, got == WEIR_ENOENT, err); /* the groups in the state store */
    if (rc == WEIR_OK) {
        if (got == WEIR_OK) {
            rc = restore(r, (const uint8_t *)data, len, err);
        } else if (got == WEIR_ENOENT) {
            /* A first checkpoint at once: a crash before the next one must
             * find outputs it can roll back, not outputs of unknown origin. */
            rc = start_fresh(r, err);
            if (rc == WEIR_OK)
                rc = start_at_latest(r, err);
            if (rc == WEIR_OK)
                rc = weir_runner_checkpoint(r, err);
        }
    }
    free(data);
    if (rc == WEIR_OK && r->opt.tasks && (rc = tasks_check_interval(r, err)) == WEIR_OK)
        rc = tasks_group(r, err);
    for (int i = 0; i < r->ninputs && rc == WEIR_OK; i++) {
        input *in = &r->inputs[i];
        weir_input_tasks callbacks = tasks_callbacks;
        callbacks.ctx = in;
        if (in->lead) /* its partitions are its lead's (tasks.c) */
            callbacks.gained = NULL, callbacks.lost = NULL;
        in->runner = r;
        if (r->opt.tasks && (rc = tasks_init(in, err)))
            break;
        if (r->opt.open_input && (rc = r->opt.open_input(r->opt.open_input_ctx, in->rel, in->offset, in->nparts,
                                                         r->opt.tasks ? &callbacks : NULL, &in->ops, &in->source, err)))
            break;
        for (uint32_t p = 0; p < in->nparts && rc == WEIR_OK && !in->ops; p++)
            rc = weir_reader_open(in->stream, p, in->offset[p], &in->readers[p], err);
    }
    if (rc == WEIR_OK && r->opt.tasks)
        rc = tasks_check(r, err);
    if (rc == WEIR_OK)
        rc = weir_log_commit(log, err); /* streams and truncations are settled before the first step */
    if (rc) {
        weir_runner_close(r);
        return rc;
    }
    *out = r;
    return WEIR_OK;
}

/* The engine keeping watermark w of a query (partition p of input in), and its number there. */
static weir_engine *watermark_engine(const weir_runner *r, const input *in, uint32_t p, int q, uint32_t w, uint32_t *ew)
{
    weir_engine *e = workers_engine(r, in, p, q, ew);
    if (!e) {
        *ew = w;
        e = r->engine;
    }
    return e;
}

/* Idle advance: a partition that gave nothing for idle_ms stops holding
 * windows (or a join's records) open: its watermark rises to the newest of
 * its siblings, a join's two inputs' partitions being siblings (of a
 * temporal join, only the table's: its stream's records wait on it); when
 * the whole stream has been quiet that long, event time moves on with the
 * wall clock so the last windows close too. */
static int idle_advance(weir_runner *r, int64_t now, const weir_emit_target *t, weir_err *err)
{
    if (r->opt.idle_ms < 0)
        return WEIR_OK;
    if (r->opt.tasks)
        return tasks_idle_advance(r, now, t, err);
    for (int q = 0; q < r->cat->nqueries; q++) {
        const weir_query *query = r->cat->queries[q];
        /* The query's watermarks: one per partition of its input, or of each of a join's two. */
        input *ins[2] = {runner_input(r, query->source), query->join ? runner_input(r, query->join->right) : NULL};
        uint32_t nw = weir_engine_query_parts(r->engine, q);
        bool timed = query->window.kind != WEIR_WINDOW_NONE ||
                     (query->join && !query->join->tables && (!query->join->table || query->join->temporal));
        if (!timed || !ins[0] || (query->join && !ins[1]))
            continue;
        uint32_t n = ins[0]->nparts;
        int64_t newest = INT64_MIN, last_data = INT64_MIN;
        for (uint32_t w = 0; w < nw; w++) {
            uint32_t ew;
            const weir_engine *e = watermark_engine(r, ins[w / n], w % n, q, w, &ew);
            int64_t wm = weir_engine_watermark(e, q, ew), seen = ins[w / n]->last_data_ms[w % n];
            newest = wm > newest ? wm : newest;
            last_data = seen > last_data ? seen : last_data;
        }
        if (newest == INT64_MIN)
            continue;
        if (last_data != r->quiet_since[q]) { /* a new quiet period starts from here */
            r->quiet_since[q] = last_data;
            r->quiet_base[q] = newest;
        }
        bool all_quiet = now - last_data >= r->opt.idle_ms;
        for (uint32_t w = 0; w < nw; w++) {
            /* A temporal join waits on its table's time only: a quiet stream's records are not late for it. */
            bool waited_on = !(query->join && query->join->temporal && w < n);
            if (!waited_on || now - ins[w / n]->last_data_ms[w % n] < r->opt.idle_ms)
                continue;
            int64_t to = all_quiet ? r->quiet_base[q] + (now - last_data) : newest;
            uint32_t ew;
            weir_engine *e = watermark_engine(r, ins[w / n], w % n, q, w, &ew);
            r->cur_part = w % n; /* whose windows close: the partition of rows keyed by nothing */
            int rc = weir_engine_raise_watermark(e, q, ew, to, t, err);
            if (rc)
                return rc;
        }
    }
    return WEIR_OK;
}

static int read_input(input *in, uint32_t p, weir_record *rec, weir_err *err)
{
    return in->ops ? in->ops->next(in->source, p, rec, err) : weir_reader_next(in->readers[p], rec, err);
}

int weir_runner_step(weir_runner *r, int64_t now_ms, uint64_t *processed, weir_err *err)
{
    weir_emit_target t = {r, on_row, on_dead, on_removed};
    *processed = 0;
    bool held; /* the engine is the checkpoint's until its state is encoded */
    if (r->ckpt.begun) /* its store transaction reads pages too */
        budget_step(r, now_ms);
    int rc = checkpoint_poll(r, &held, err);
    if (rc || held)
        return rc;
    uint32_t batch = budget_batch(r);
    for (int i = 0; i < r->ninputs; i++) {
        input *in = &r->inputs[i];
        for (uint32_t p = 0; !in->parts && p < in->nparts; p++) {
            if (in->last_data_ms[p] == 0)
                in->last_data_ms[p] = now_ms;
            weir_record rec;
            int got = 0;
            if (r->opt.readable && !in->ops) /* written by another runner: no further than it cannot roll back */
                weir_reader_set_end(in->readers[p], r->opt.readable(r->opt.readable_ctx, in->rel->name, p));
            for (uint32_t k = 0; k < batch && (got = read_input(in, p, &rec, err)) == 1; k++) {
                uint32_t engine_part;
                weir_engine *e = engine_of(r, in, p, &engine_part);
                if (!e) /* scale-out: not this process's partition (any more) */
                    break;
                r->cur = in;
                r->cur_part = p;
                r->cur_offset = rec.offset;
                r->cur_rec = &rec;
                weir_err_clear(&r->cb_err);
                bool apply = true; /* a repartition record applied already is skipped (repartition.h) */
                if (in->rel->repartition_of && repart_take(e, in->rel, &rec, now_ms, &t, &apply, &engine_part, err))
                    return r->cb_err.code ? weir_err_set(err, r->cb_err.code, "%s", r->cb_err.msg) : err->code;
                if (apply && (rec.value_len == 0 && in->rel->is_table
                        ? weir_engine_push_tombstone(e, in->rel, engine_part, (const char *)rec.key, rec.key_len, rec.ts_ms, &t, err)
                        : weir_engine_push_json(e, in->rel, engine_part, (const char *)rec.value, rec.value_len, rec.ts_ms, &t, err)))
                    return r->cb_err.code ? weir_err_set(err, r->cb_err.code, "%s", r->cb_err.msg) : err->code;
                in->offset[p] = rec.offset + 1;
                in->last_data_ms[p] = now_ms;
                (*processed)++;
            }
            if (got < 0)
                return err->code;
        }
    }
    r->cur = NULL;
    r->cur_rec = NULL;
    if ((rc = workers_step(r, &t, batch, now_ms, processed, err)))
        return rc;
    weir_err_clear(&r->cb_err);
    rc = idle_advance(r, now_ms, &t, err);
    if (rc)
        return r->cb_err.code ? weir_err_set(err, r->cb_err.code, "%s", r->cb_err.msg) : rc;
    if ((rc = weir_log_commit(r->log, err)))
        return rc;
    r->step_ms = now_ms;
    if (r->npending)
        tasks_save_delivered(r);
    r->changes += *processed;
    if (*processed)
        budget_step(r, now_ms);
    int64_t interval = tasks_interval(r, r->checkpoint_cost_ms * 10 > r->opt.checkpoint_ms ? r->checkpoint_cost_ms * 10
                                                                                           : r->opt.checkpoint_ms);
    if ((now_ms - r->last_checkpoint_ms >= interval || budget_due(r)) && r->changes && !r->ckpt.begun) {
        r->last_checkpoint_ms = now_ms;
        return checkpoint_begin(r, err);
    }
    return WEIR_OK;
}

int weir_runner_finish(weir_runner *r, weir_err *err)
{
    weir_emit_target t = {r, on_row, on_dead, on_removed};
    r->cur = NULL;
    r->cur_rec = NULL;
    weir_err_clear(&r->cb_err);
    int rc = checkpoint_end(r, err); /* the engine is the checkpoint's until then */
    if (rc)
        return rc;
    rc = weir_engine_advance(r->engine, INT64_MAX, &t, err);
    if (rc == WEIR_OK && (rc = workers_finish(r, err)))
        return rc;
    for (int i = 0; i < r->ninputs && !rc; i++)
        for (uint32_t p = 0; r->inputs[i].tasks && !r->inputs[i].lead && p < r->inputs[i].nparts && !rc; p++) {
            r->cur = &r->inputs[i];
            r->cur_part = p;
            if (r->inputs[i].tasks[p].owned)
                rc = weir_engine_advance(r->inputs[i].tasks[p].engine, INT64_MAX, &t, err);
        }
    if (rc)
        return r->cb_err.code ? weir_err_set(err, r->cb_err.code, "%s", r->cb_err.msg) : err->code;
    return weir_runner_checkpoint(r, err);
}

bool weir_runner_caught_up(weir_runner *r, bool ask_sources)
{
    for (int i = 0; i < r->ninputs; i++)
        for (uint32_t p = 0; p < r->inputs[i].nparts; p++) {
            const input *in = &r->inputs[i];
            weir_partition_stats st;
            if (in->ops ? ask_sources && !in->ops->caught_up(in->source, p, in->offset[p])
                        : weir_stream_partition_stats(in->stream, p, &st, NULL) || st.end_offset > in->offset[p])
                return false;
        }
    return true;
}

/* Calls fn with every engine: the runner's, and each partition's in scale-out. */
static void each_engine(const weir_runner *r, void (*fn)(const weir_engine *e, void *ctx), void *ctx)
{
    fn(r->engine, ctx);
    for (int i = 0; i < r->ninputs; i++)
        for (uint32_t p = 0; r->inputs[i].tasks && !r->inputs[i].lead && p < r->inputs[i].nparts; p++)
            if (r->inputs[i].tasks[p].engine)
                fn(r->inputs[i].tasks[p].engine, ctx);
    workers_each_engine(r, fn, ctx);
}

typedef struct stats_sum {
    int query;                  /* -1: only the dead letters */
    const weir_relation *src;   /* whose dead letters */
    weir_query_stats sum;
    uint64_t dead[WEIR_DEAD_REASONS];
} stats_sum;

static void add_stats(const weir_engine *e, void *ctx)
{
    stats_sum *s = ctx;
    weir_query_stats st = {0};
    if (s->query >= 0)
        weir_engine_query_stats(e, s->query, &st);
    s->sum.rows_in += st.rows_in;
    s->sum.rows_out += st.rows_out;
    s->sum.dead += st.dead;
    s->sum.late += st.late;
    s->sum.groups += st.groups;
    s->sum.state_bytes += st.state_bytes;
    s->sum.entry_bytes = st.entry_bytes;
    if (s->src)
        weir_engine_dead_counts(e, s->src, s->dead);
}

void weir_runner_query_stats(const weir_runner *r, int query, weir_query_stats *out)
{
    stats_sum s = {.query = query};
    each_engine(r, add_stats, &s);
    *out = s.sum;
    const input *in = runner_input(r, r->cat->queries[query]->source);
    out->partition_engines = in && in->parts && r->per_part[query] ? in->nparts : 0;
    out->unplaced = r->unplaced && r->unplaced[query];
}

void weir_runner_dead_counts(const weir_runner *r, const weir_relation *src, uint64_t counts[WEIR_DEAD_REASONS])
{
    stats_sum s = {.query = -1, .src = src};
    each_engine(r, add_stats, &s);
    for (int k = 0; k < WEIR_DEAD_REASONS; k++)
        counts[k] += s.dead[k];
}

bool weir_runner_input_lag(const weir_runner *r, const char *stream, uint32_t partition, uint64_t *lag)
{
    for (int i = 0; i < r->ninputs; i++) {
        const input *in = &r->inputs[i];
        if (strcmp(in->rel->name, stream) || partition >= in->nparts)
            continue;
        weir_partition_stats st;
        int64_t end = in->ops ? in->ops->end(in->source, partition)
                    : weir_stream_partition_stats(in->stream, partition, &st, NULL) ? -1 : (int64_t)st.end_offset;
        if (end < 0)
            return false;
        *lag = (uint64_t)end > in->offset[partition] ? (uint64_t)end - in->offset[partition] : 0;
        return true;
    }
    return false;
}

int64_t weir_runner_checkpoint_ms(const weir_runner *r) { return r->last_checkpoint_wall_ms; }

bool weir_runner_checkpointed_end(const weir_runner *r, const char *stream, uint32_t partition, uint64_t *end)
{
    for (int i = 0; i < r->noutputs; i++)
        if (!strcmp(r->outputs[i].name, stream) && partition < weir_stream_get_config(r->outputs[i].stream)->partitions) {
            *end = r->outputs[i].checkpointed[partition];
            return true;
        }
    return false;
}

void weir_runner_close(weir_runner *r)
{
    if (!r)
        return;
    checkpoint_free(r); /* its thread reads the engine */
    workers_close(r);
    for (int i = 0; i < r->ninputs; i++) {
        input *in = &r->inputs[i];
        for (uint32_t p = 0; in->readers && p < in->nparts; p++)
            weir_reader_close(in->readers[p]);
        if (in->ops)
            in->ops->close(in->source);
        free(in->readers);
        free(in->offset);
        free(in->last_data_ms);
        free(in->dead_upto);
    }
    tasks_close(r);
    for (int i = 0; i < r->noutputs; i++) {
        if (!r->outputs[i].rel)
            free((void *)r->outputs[i].name);
        free(r->outputs[i].checkpointed);
    }
    free(r->inputs);
    free(r->outputs);
    free(r->quiet_since);
    free(r->quiet_base);
    weir_engine_free(r->engine);
    weir_buf_free(&r->json);
    weir_arena_free(&r->key_scratch);
    free(r);
}

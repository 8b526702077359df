/*
 * test_ingest.c - a stream's key (weir_stream_config.key): kept in its
 * stream.conf across reopens and reconfigures, taken by an empty stream
 * only, and forgotten (durably) by conn/ingest.c once a record is placed
 * otherwise than by it: by other fields, or forced into another partition.
 */
#include <limits.h>

#include "base/hash.h"
#include "base/io.h"
#include "conn/ingest.h"
#include "log_helpers.h"

static weir_stream *reopen(weir_log **log, const char *dir, const char *name)
{
    weir_err err;
    weir_stream *s = NULL;
    weir_log_close(*log, &err);
    *log = open_log_with(dir, (weir_log_options){0});
    weir_stream_open(*log, name, &s, &err);
    return s;
}

static int ingest(weir_stream *s, int32_t partition, const char *fields, const char *json, uint32_t *where)
{
    weir_buf scratch = {0};
    weir_err err;
    int rc = weir_ingest_json(s, partition, fields, json, strlen(json), 0, NULL, &scratch, where, NULL, &err);
    weir_buf_free(&scratch);
    return rc;
}

int main(void)
{
    plan(12);
    char *dir = tap_tmpdir("ingest");
    weir_log *log = open_log_with(dir, (weir_log_options){0});
    weir_stream *s;
    weir_err err;
    weir_stream_config c = {.partitions = 4};
    snprintf(c.key, sizeof c.key, "%s", "city,user");
    weir_stream_create(log, "keyed", &c, &s, &err);
    s = reopen(&log, dir, "keyed");
    ok(!strcmp(weir_stream_get_config(s)->key, "city,user") && weir_stream_keyed(s),
       "a stream keeps its key across a reopen, and says so to readers");
    weir_stream_config retention = {.retention_ms = 1000};
    weir_stream_reconfigure(s, &retention, &err);
    s = reopen(&log, dir, "keyed");
    ok(!strcmp(weir_stream_get_config(s)->key, "city,user") && weir_stream_get_config(s)->retention_ms == 1000,
       "a reconfigure changes its settings and keeps its key");

    uint32_t home;
    ok(ingest(s, -1, "city,user", "{\"city\":\"x\",\"user\":\"u\"}", &home) == WEIR_OK && weir_log_commit(log, &err) == WEIR_OK,
       "a record appended by its key");
    ingest(s, (int32_t)home, "city,user", "{\"city\":\"x\",\"user\":\"u\"}", NULL);
    uint32_t keyless;
    ingest(s, -1, "city,user", "{\"other\":1,\"city\":null}", &keyless);
    ingest(s, (int32_t)keyless, "city,user", "{\"other\":2}", NULL);
    is_str(weir_stream_get_config(s)->key, "city,user", "... and forced into its key's partition keep the key");
    is_int(keyless, weir_partition_for_no_key(4), "a record without its key goes to the empty key's partition");
    ingest(s, (int32_t)((home + 1) % 4), "city,user", "{\"city\":\"x\",\"user\":\"u\"}", NULL);
    ok(!weir_stream_get_config(s)->key[0] && !weir_stream_keyed(s),
       "a record forced into another partition makes the stream forget it, and say so to readers");
    char path[PATH_MAX], *conf = NULL;
    snprintf(path, sizeof path, "%s/streams/keyed/stream.conf", dir);
    ok(weir_io_read_file(&weir_io_posix, path, &conf, NULL, &err) == WEIR_OK && !strstr(conf, "key="),
       "... in its stream.conf before the record is committed");
    free(conf);
    weir_log_commit(log, &err);
    s = reopen(&log, dir, "keyed");
    is_str(weir_stream_get_config(s)->key, "", "... and after a reopen");

    bool adopted;
    ok(weir_stream_adopt_key(s, "city", &adopted, &err) == WEIR_OK && !adopted && !weir_stream_get_config(s)->key[0],
       "a stream with records does not take a key");
    weir_stream_config plain = {.partitions = 2};
    weir_stream *e;
    weir_stream_create(log, "empty", &plain, &e, &err);
    ok(!weir_stream_keyed(e) && weir_stream_adopt_key(e, "city", &adopted, &err) == WEIR_OK && adopted &&
       weir_stream_keyed(e), "an empty one does");
    e = reopen(&log, dir, "empty");
    ingest(e, -1, NULL, "{\"city\":\"x\"}", NULL);
    is_str(weir_stream_get_config(e)->key, "", "a record appended without its key makes it forget it");
    weir_stream_create(log, "other", &c, &e, &err);
    ingest(e, -1, "city", "{\"city\":\"x\"}", NULL);
    is_str(weir_stream_get_config(e)->key, "", "so does one placed by other fields");
    weir_log_close(log, &err);
    tap_rmrf(dir);
    free(dir);
    return done();
}

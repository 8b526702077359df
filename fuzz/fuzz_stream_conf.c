/*
 * fuzz_stream_conf.c - a stream's stream.conf (log.c's parse_config): the
 * input is the file. Opening the stream either fails with an error or
 * gives a config within its bounds (partitions 1..10000, a key of one line
 * shorter than WEIR_STREAM_KEY_MAX); then a rewrite of the config (the
 * stream forgetting its key) is read back the same by a second open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log/log.h"

static const char *dir;

/* A broken property: says which before aborting. */
static void fail(const char *what, const weir_err *err)
{
    fprintf(stderr, "fuzz_stream_conf: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    abort();
}

/* Opens the log and its stream f (the log reads every stream.conf at open). */
static int open_f(weir_log **log, weir_stream **s, weir_err *err)
{
    weir_log_options o = {.fsync = WEIR_FSYNC_NONE};
    int rc = weir_log_open(dir, &o, log, err);
    if (rc)
        *log = NULL;
    return rc ? rc : weir_stream_open(*log, "f", s, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dir = fuzz_scratch_dir("stream-conf", "streams/f");
    char path[512];
    snprintf(path, sizeof path, "%s/streams/f/stream.conf", dir);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size))
        fail("cannot write stream.conf", NULL);
    fclose(f);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s/streams/f/[0-9]*", dir); /* partitions made by an earlier input */
    if (system(cmd) != 0)
        fail("cannot remove the partitions", NULL);
    weir_log *log;
    weir_stream *s;
    weir_err err;
    if (open_f(&log, &s, &err) == WEIR_OK) {
        weir_stream_config c = *weir_stream_get_config(s);
        size_t key_len = strnlen(c.key, sizeof c.key);
        if (c.partitions < 1 || c.partitions > 10000 || key_len == sizeof c.key || memchr(c.key, '\n', key_len))
            fail("a config out of its bounds", NULL);
        if (weir_stream_forget_key(s, &err) != WEIR_OK)
            fail("the config cannot be rewritten", &err);
        if (weir_log_close(log, &err) != WEIR_OK || open_f(&log, &s, &err) != WEIR_OK)
            fail("what weir wrote it does not read", &err);
        const weir_stream_config *again = weir_stream_get_config(s);
        if (again->partitions != c.partitions || again->segment_bytes != c.segment_bytes ||
            again->retention_ms != c.retention_ms || again->retention_bytes != c.retention_bytes ||
            again->compact != c.compact || again->key[0])
            fail("the config read back differs", NULL);
    } else if (!err.msg[0]) {
        fail("a refusal without a reason", NULL);
    }
    weir_log_close(log, &err);
    return 0;
}

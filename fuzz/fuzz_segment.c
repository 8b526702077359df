/*
 * fuzz_segment.c - the segment reader end to end: the input becomes the
 * only segment file of a one-partition stream, and the log is opened
 * (recovery scans it and cuts what is bad) and read to the end, then
 * appended to and read again. Nothing may crash, and after recovery every
 * read must succeed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "log/log.h"

static char dir[256];

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n))
        abort();
    fclose(f);
}

static void cleanup(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static void setup(void)
{
    if (dir[0])
        return;
    atexit(cleanup);
    snprintf(dir, sizeof dir, "%s/weir-fuzz-segment-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    char path[512];
    snprintf(path, sizeof path, "mkdir -p %s/streams/f/0", dir);
    if (system(path) != 0)
        abort();
    snprintf(path, sizeof path, "%s/streams/f/stream.conf", dir);
    write_file(path, "partitions=1\n", 13);
}

static uint64_t read_all(weir_stream *s)
{
    weir_reader *r;
    weir_err err;
    weir_record rec;
    uint64_t n = 0;
    if (weir_reader_open(s, 0, 0, &r, &err))
        abort();
    int got;
    while ((got = weir_reader_next(r, &rec, &err)) == 1)
        n++;
    if (got < 0)
        abort(); /* recovery must have cut whatever cannot be read */
    weir_reader_close(r);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    char path[512];
    snprintf(path, sizeof path, "%s/streams/f/0/00000000000000000000.log", dir);
    uint8_t *fixed = malloc(size ? size : 1);
    if (!fixed)
        return 0;
    memcpy(fixed, data, size);
    if (size && data[0] & 1) /* half the time the checksums are right */
        fuzz_fix_crcs(fixed, size);
    write_file(path, fixed, size);
    free(fixed);
    snprintf(path, sizeof path, "%s/streams/f/0/00000000000000000000.idx", dir);
    unlink(path);
    weir_log *log;
    weir_err err;
    weir_log_options o = {.fsync = WEIR_FSYNC_NONE};
    if (weir_log_open(dir, &o, &log, &err) != WEIR_OK)
        return 0;
    weir_stream *s;
    if (weir_stream_open(log, "f", &s, &err) == WEIR_OK) {
        uint64_t before = read_all(s);
        weir_record r = {.value = (const uint8_t *)"{}", .value_len = 2};
        if (weir_stream_append(s, 0, &r, NULL, NULL, &err) == WEIR_OK && weir_log_commit(log, &err) == WEIR_OK &&
            read_all(s) != before + 1)
            abort();
    }
    weir_log_close(log, &err);
    return 0;
}

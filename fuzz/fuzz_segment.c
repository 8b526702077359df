/*
 * fuzz_segment.c - the segment reader and recovery end to end. The input is
 * a control byte and then batches: bit 0 of the control byte asks for the
 * CRCs to be fixed, the rest (k) puts the first k batches in partition 0's
 * segment file and the others in partition 1's (k = 0: all in partition 0),
 * so recovery's cross-partition commit rule (docs/LOG_FORMAT.md rule 8) sees
 * hostile commit markers. The log is opened (recovery cuts what is bad or
 * incomplete), read to the end, appended to and read again. Nothing may
 * crash, and after recovery every read must succeed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "log/log.h"

static const char *dir;

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n))
        abort();
    fclose(f);
}

static void setup(void)
{
    if (dir)
        return;
    dir = fuzz_scratch_dir("segment", "streams/f/0 streams/f/1");
    char path[512];
    snprintf(path, sizeof path, "%s/streams/f/stream.conf", dir);
    write_file(path, "partitions=2\n", 13);
}

static uint64_t read_all(weir_stream *s)
{
    uint64_t n = 0;
    for (uint32_t p = 0; p < 2; p++) {
        weir_reader *r;
        weir_err err;
        weir_record rec;
        if (weir_reader_open(s, p, 0, &r, &err))
            abort();
        int got;
        while ((got = weir_reader_next(r, &rec, &err)) == 1)
            n++;
        if (got < 0)
            abort(); /* recovery must have cut whatever cannot be read */
        weir_reader_close(r);
    }
    return n;
}

/* Where the k-th batch ends (batches laid end to end), or n if there are
 * fewer whole batches. */
static size_t batch_boundary(const uint8_t *p, size_t n, unsigned k)
{
    size_t pos = 0;
    for (unsigned i = 0; i < k; i++) {
        uint32_t len;
        if (n - pos < WEIR_BATCH_HEADER_SIZE)
            return n;
        memcpy(&len, p + pos + 4, 4);
        if (len < 12 || len > n - pos)
            return n;
        pos += len;
    }
    return pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size == 0)
        return 0;
    uint8_t ctl = data[0];
    size--;
    uint8_t *fixed = malloc(size ? size : 1);
    if (!fixed)
        return 0;
    memcpy(fixed, data + 1, size);
    if (ctl & 1) /* half the time the checksums are right */
        fuzz_fix_crcs(fixed, size);
    size_t split = ctl >> 1 ? batch_boundary(fixed, size, ctl >> 1) : size;
    char path[512];
    for (int p = 0; p < 2; p++) {
        snprintf(path, sizeof path, "%s/streams/f/%d/00000000000000000000.log", dir, p);
        write_file(path, p ? fixed + split : fixed, p ? size - split : split);
        snprintf(path, sizeof path, "%s/streams/f/%d/00000000000000000000.idx", dir, p);
        unlink(path);
    }
    free(fixed);
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

/*
 * log_helpers.h - shared by the log tests: numbered records whose value
 * says what they are, and a check that a partition holds exactly the
 * expected, intact sequence.
 */
#ifndef WEIR_TEST_LOG_HELPERS_H
#define WEIR_TEST_LOG_HELPERS_H

#include <stdbool.h>

#include "../tap.h"
#include "base/hash.h"
#include "log/log.h"

/* Opens dir with the given options or stops the test. */
static inline weir_log *open_log_with(const char *dir, weir_log_options o)
{
    weir_log *log;
    weir_err err;
    if (weir_log_open(dir, &o, &log, &err))
        BAIL("open %s: %s", dir, err.msg);
    return log;
}

/* Appends record number `seq`: key "k<seq>", value {"seq":<seq>,"pad":"..."}. */
static inline int append_seq(weir_stream *s, uint64_t seq, int64_t ts, weir_err *err)
{
    char key[32], value[160];
    int kn = snprintf(key, sizeof key, "k%llu", (unsigned long long)seq);
    int vn = snprintf(value, sizeof value, "{\"seq\":%llu,\"pad\":\"%.*s\"}", (unsigned long long)seq,
                      (int)(seq % 64), "0123456789012345678901234567890123456789012345678901234567890123");
    weir_record r = {.key = (const uint8_t *)key, .key_len = (size_t)kn,
                     .value = (const uint8_t *)value, .value_len = (size_t)vn, .ts_ms = ts};
    return weir_stream_append(s, -1, &r, NULL, NULL, err);
}

/* Parses the seq back out of a value written by append_seq; -1 if it does
 * not look exactly like one (so damage is noticed). */
static inline long long value_seq(const weir_record *r)
{
    unsigned long long seq;
    char tail[128];
    char text[200];
    if (r->value_len >= sizeof text)
        return -1;
    memcpy(text, r->value, r->value_len);
    text[r->value_len] = '\0';
    if (sscanf(text, "{\"seq\":%llu,\"pad\":\"%127[0-9]\"}", &seq, tail) < 1)
        return -1;
    char expect[160];
    snprintf(expect, sizeof expect, "{\"seq\":%llu,\"pad\":\"%.*s\"}", seq, (int)(seq % 64),
             "0123456789012345678901234567890123456789012345678901234567890123");
    return strcmp(expect, text) == 0 ? (long long)seq : -1;
}

/* Reads every partition of s; marks seen[seq]. Returns false on a read
 * error, a damaged value, a duplicate, a record on the wrong partition or
 * offsets out of order. */
static inline bool read_all(weir_stream *s, unsigned char *seen, uint64_t max_seq, uint64_t *count)
{
    uint32_t n = weir_stream_get_config(s)->partitions;
    *count = 0;
    for (uint32_t p = 0; p < n; p++) {
        weir_reader *r;
        weir_err err;
        if (weir_reader_open(s, p, 0, &r, &err))
            return diag("reader_open: %s", err.msg), false;
        weir_record rec;
        int got;
        uint64_t last = 0;
        bool first = true;
        while ((got = weir_reader_next(r, &rec, &err)) == 1) {
            long long seq = value_seq(&rec);
            if (seq < 0 || (uint64_t)seq >= max_seq || seen[seq]) {
                diag("partition %u offset %llu: bad or duplicate record", p, (unsigned long long)rec.offset);
                weir_reader_close(r);
                return false;
            }
            if (!first && rec.offset <= last) {
                diag("partition %u: offsets out of order", p);
                weir_reader_close(r);
                return false;
            }
            char key[32];
            int kn = snprintf(key, sizeof key, "k%lld", seq);
            if (!rec.key || rec.key_len != (size_t)kn || memcmp(rec.key, key, (size_t)kn) ||
                weir_partition_for_key(key, (size_t)kn, n) != p) {
                diag("record %lld has a wrong key or partition", seq);
                weir_reader_close(r);
                return false;
            }
            first = false;
            last = rec.offset;
            seen[seq] = 1;
            (*count)++;
        }
        weir_reader_close(r);
        if (got < 0)
            return diag("read partition %u: %s", p, err.msg), false;
    }
    return true;
}

#endif

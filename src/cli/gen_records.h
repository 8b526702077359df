/*
 * gen_records.h - generators of realistic records for the example systems
 * (`weir gen`; the command's own library, not a connector): each
 * produces NDJSON lines, deterministic for a seed, with event timestamps
 * given by the caller (a virtual clock or the wall clock).
 *
 *   collatz  {number, step, value, ts}: every step of the chain of each
 *            number, numbers drawn from a range (default 14 digits);
 *            a step that would overflow uint64 is reported, never wrapped
 *   likes    {video_id, user_id, ts}: 1,000 videos with Zipf-like popularity
 *   logins   {user_id, app_version, ip, locale, device_id, timestamp,
 *            device_type}, about 5% malformed (a missing field, a bad IP, a
 *            bad timestamp, a bad version)
 *   sensors  hoverboard, customer and trip records, tagged "type"
 *   tweets   {id, user_id, city, is_retweet, created_at}: 50 cities with
 *            skewed activity, 20,000 users, a quarter retweets
 */
#ifndef WEIR_GEN_RECORDS_H
#define WEIR_GEN_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

typedef struct weir_gen weir_gen;

typedef struct weir_gen_options {
    uint64_t seed;
    uint64_t min, max;         /* collatz: the numbers' range; 0, 0: 14 digits */
} weir_gen_options;

int weir_gen_new(const char *name, const weir_gen_options *opt, weir_gen **out, weir_err *err);
/* Appends the next record (one line, with its newline) stamped ts_ms.
 * Returns WEIR_OK, or an error (a collatz overflow is WEIR_EINVAL with the
 * number and step; the generator goes on with the next number). */
int weir_gen_next(weir_gen *g, int64_t ts_ms, weir_buf *out, weir_err *err);
/* Whether the last record left a group that should not be cut under way
 * (a collatz chain): a caller stopping after N records finishes it first. */
bool weir_gen_within_group(const weir_gen *g);
void weir_gen_free(weir_gen *g);

#endif

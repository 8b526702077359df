/*
 * decode.h - a JSON record into a row of typed values, by a schema.
 *
 * Members are matched to columns by exact name; members the schema does not
 * name are ignored, columns the record lacks (or sets to null) are NULL. A
 * value that does not fit its column's type makes the record type-invalid:
 * the caller sends it to the dead-letter stream with the reason.
 *
 *   BOOL: true/false          INT/UINT: integral numbers in range
 *   DOUBLE: any number        TEXT: strings; other scalars and nested
 *                             objects/arrays as their JSON text
 *   TIMESTAMP: ISO 8601 strings, or epoch seconds (< 1e11) / milliseconds
 *   JSON: any value, kept as its JSON text
 */
#ifndef WEIR_DECODE_H
#define WEIR_DECODE_H

#include "base/arena.h"
#include "sql/plan.h"

/* Fills row[0..schema->ncols). TEXT values point into json, or into arena
 * when they had escapes. Returns 0, or -1 with a reason in why ("column
 * step: expected UINT, found -3"). */
int weir_decode_json(const weir_schema *schema, const char *json, size_t len, weir_arena *arena,
                     weir_value *row, char *why, size_t cap);

/* What decoding remembers from one record to the next, so that a stream's
 * records, which mostly look like the one before, cost less: the column
 * names and their lengths of the last few schemas (the scanner matches
 * member names against them as it goes, json.h weir_json_names; a name it
 * did not match is compared with a column's only when their lengths
 * agree, and no column name is measured per record), and the minute of
 * the last ISO 8601 timestamp in the form YYYY-MM-DDTHH:MM:SS[.fff]Z
 * (records come mostly in time order, so the next one in the same minute
 * needs only its seconds read). It changes no result: whatever it does
 * not cover is decoded as without it. Zeroed to start; one thread's; a
 * schema it saw must outlive its use (an engine's catalog outlives the
 * engine). */
#define WEIR_DECODE_MEMO_SCHEMAS 4 /* schemas a memo keeps names of: a join's sides take turns */

typedef struct weir_decode_names {
    const weir_schema *schema; /* whose column names these are; NULL: none yet */
    const weir_column *cols;   /* schema->cols and ncols when measured: a schema that changed is measured again */
    int ncols;
    uint32_t *lens;            /* strlen of each column's name */
    const char **plain;        /* each column's name, NULL where not plain ASCII (json.h) */
} weir_decode_names;

typedef struct weir_decode_memo {
    weir_decode_names names[WEIR_DECODE_MEMO_SCHEMAS]; /* the schemas seen last */
    int replace;               /* the entry of names a new schema takes next (round robin) */
    char minute[16];           /* "YYYY-MM-DDTHH:MM" of the last timestamp of that form */
    int64_t minute_ms;         /* that minute's start, when minute_set */
    bool minute_set;
} weir_decode_memo;

/* weir_decode_json, helped by m (NULL: not). */
int weir_decode_json_memo(weir_decode_memo *m, const weir_schema *schema, const char *json, size_t len,
                          weir_arena *arena, weir_value *row, char *why, size_t cap);
void weir_decode_memo_free(weir_decode_memo *m);

/* A table's row named by the key of a record of its changelog (as the
 * runner keys it: one primary-key column's text, or a JSON object of
 * several), its other columns NULL: what a tombstone (a record with a key
 * and no value) removes. 0, or -1 with a reason in why. */
int weir_decode_table_key(const weir_relation *table, const char *key, size_t len, weir_arena *arena,
                          weir_value *row, char *why, size_t cap);

/* Appends the primary key a tombstone's record key names as a JSON object
 * of the table's key columns ({"number":5}), as weir shows a removal; a
 * key that does not decode as its text (a JSON string), none as null.
 * -1 when out of memory. */
int weir_table_key_json(const weir_relation *table, const char *key, size_t len, weir_buf *out);

/* The opposite: a row as a JSON object with the schema's column names. */
int weir_encode_json(const weir_schema *schema, const weir_value *row, weir_buf *out);

/* The same for the n columns cols of the row, in that order (cols NULL:
 * the first n). */
int weir_encode_json_cols(const weir_schema *schema, const weir_value *row, const int *cols, int n, weir_buf *out);

#endif

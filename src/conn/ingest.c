/*
 * ingest.c - JSON records into the log (see ingest.h).
 */
#include "conn/ingest.h"

#include <string.h>

#include "base/hash.h"
#include "json/json.h"

/* The partition a stream keyed by the fields the record was keyed by gives it. */
static uint32_t home_of(uint32_t n, const weir_record *rec)
{
    return rec->key ? weir_partition_for_key(rec->key, rec->key_len, n) : weir_partition_for_no_key(n);
}

/* Whether the record would break the stream's promise that its records
 * are placed by its key: placed by other fields, or forced into a partition
 * that is not its key's. */
static bool misplaces(const weir_stream *s, int32_t partition, const char *key_fields, const weir_record *rec)
{
    const weir_stream_config *c = weir_stream_get_config(s);
    if (!c->key[0])
        return false;
    if (!key_fields || strcmp(key_fields, c->key))
        return true;
    return partition >= 0 && home_of(c->partitions, rec) != (uint32_t)partition;
}

int weir_ingest_json(weir_stream *s, int32_t partition, const char *key_fields, const char *json, size_t len,
                     int64_t ts_ms, const weir_buf *headers, weir_buf *scratch, uint32_t *partition_out,
                     uint64_t *offset_out, weir_err *err)
{
    weir_record rec = {.value = (const uint8_t *)json, .value_len = len, .ts_ms = ts_ms};
    if (headers && headers->len) {
        rec.headers = headers->data;
        rec.headers_len = headers->len;
    }
    bool found;
    if (weir_json_key_text(json, len, key_fields, scratch, &found))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (found) {
        rec.key = scratch->data ? scratch->data : (const uint8_t *)"";
        rec.key_len = scratch->len;
    }
    if (!found && key_fields && partition < 0) /* not round-robin: see weir_partition_for_no_key */
        partition = (int32_t)weir_partition_for_no_key(weir_stream_get_config(s)->partitions);
    int rc = misplaces(s, partition, key_fields, &rec) ? weir_stream_forget_key(s, err) : WEIR_OK;
    return rc ? rc : weir_stream_append(s, partition, &rec, partition_out, offset_out, err);
}

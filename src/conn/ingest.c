/*
 * ingest.c - JSON records into the log (see ingest.h).
 */
#include "conn/ingest.h"

#include <string.h>

#include "json/json.h"

/* Whether a record keyed by key_fields, whose key puts it in home, would
 * break the stream's promise that its records are placed by its key:
 * placed by other fields, or forced into another partition. */
static bool misplaces(const weir_stream *s, int32_t partition, const char *key_fields, uint32_t home)
{
    const weir_stream_config *c = weir_stream_get_config(s);
    if (!c->key[0])
        return false;
    if (!key_fields || strcmp(key_fields, c->key))
        return true;
    return (uint32_t)partition != home;
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
    uint32_t home;
    if (weir_json_key_partition(json, len, key_fields, weir_stream_get_config(s)->partitions, scratch, &found, &home))
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    if (found) {
        rec.key = scratch->data ? scratch->data : (const uint8_t *)"";
        rec.key_len = scratch->len;
    }
    if (key_fields && partition < 0) /* its key's, or the empty key's without it (not round-robin) */
        partition = (int32_t)home;
    int rc = misplaces(s, partition, key_fields, home) ? weir_stream_forget_key(s, err) : WEIR_OK;
    return rc ? rc : weir_stream_append(s, partition, &rec, partition_out, offset_out, err);
}

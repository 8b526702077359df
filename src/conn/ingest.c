/*
 * ingest.c - JSON records into the log (see ingest.h).
 */
#include "conn/ingest.h"

#include <string.h>

#include "json/json.h"

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
    return weir_stream_append(s, partition, &rec, partition_out, offset_out, err);
}

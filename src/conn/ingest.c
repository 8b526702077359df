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
    bool found = false;
    scratch->len = 0;
    for (const char *f = key_fields; f && *f;) { /* "a,b": the texts of a and b joined by '|' */
        size_t n = strcspn(f, ",");
        weir_json_span k;
        bool here = weir_json_member(json, len, f, n, &k) == 1 && k.type != WEIR_JSON_NULL;
        int rc = f != key_fields && weir_buf_append(scratch, "|", 1);
        if (!rc && here)
            rc = k.type == WEIR_JSON_STRING ? weir_json_unescape(k.p, k.len, scratch) : weir_buf_append(scratch, k.p, k.len);
        if (rc)
            return weir_err_set(err, WEIR_ENOMEM, "out of memory");
        found |= here;
        f += n + (f[n] == ',');
    }
    if (found) {
        rec.key = scratch->data ? scratch->data : (const uint8_t *)"";
        rec.key_len = scratch->len;
    }
    return weir_stream_append(s, partition, &rec, partition_out, offset_out, err);
}

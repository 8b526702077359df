/*
 * fuzz_batch.c - the batch checker on arbitrary bytes: whatever it accepts
 * must iterate to exactly the record count it reported, with every record
 * inside the batch.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log/record.h"

static int check(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size); /* as given: the CRC almost always fails */
    uint8_t *fixed = malloc(size ? size : 1);
    if (!fixed)
        return 0;
    memcpy(fixed, data, size);
    fuzz_fix_crcs(fixed, size);
    check(fixed, size);
    free(fixed);
    return 0;
}

static int check(const uint8_t *data, size_t size)
{
    weir_batch_info info;
    bool truncated;
    weir_err err;
    if (weir_batch_check(data, size, &info, &truncated, &err) != WEIR_OK)
        return 0;
    weir_batch_iter it;
    weir_batch_iter_init(&it, data, &info);
    weir_record r;
    uint32_t n = 0;
    while (weir_batch_next(&it, &r)) {
        const uint8_t *end = data + info.len;
        if (r.value + r.value_len > end || (r.key && r.key + r.key_len > end))
            abort();
        size_t pos = 0;
        weir_header h;
        while (weir_headers_next(r.headers, r.headers_len, &pos, &h))
            ;
        n++;
    }
    if (n != info.count)
        abort();
    return 0;
}

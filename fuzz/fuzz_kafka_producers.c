/*
 * fuzz_kafka_producers.c - the records of __weir_producers, idempotent
 * producers' state as the log keeps it (runtime/kafka_producers.c), read
 * back as after a restart: each input is a sequence of records, each a
 * length byte and that many bytes. Whatever they hold, a record is taken
 * or refused, and the state stays one the checks can use.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "runtime/kafka_producers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_producers *p = weir_producers_new();
    if (!p)
        return 0;
    for (size_t i = 0; i < size;) {
        size_t n = data[i++];
        if (n > size - i)
            n = size - i;
        producers_take(p, data + i, n, (int64_t)i * 1000000); /* entries spread over hours: some expire as others come */
        i += n;
    }
    weir_producers_free(p);
    return 0;
}

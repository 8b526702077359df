/*
 * fuzz_kafka_config.c - serve --kafka-config's properties file parser
 * (conn/kafka_client.h) on arbitrary text: it must accept or refuse with
 * WEIR_EINVAL, and what it accepts is pairs of a non-empty name without
 * '=' and a value, ended by NULL.
 */
#include <stdlib.h>
#include <string.h>

#include "conn/kafka_client.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* the reader refuses a NUL byte before parsing */
    weir_arena a = {0};
    weir_err err;
    const char *const *props;
    if (weir_kafka_config_parse(text, "fuzz.conf", &a, &props, &err) == WEIR_OK) {
        for (; *props; props += 2)
            if (!*props[0] || strchr(props[0], '=') || !props[1])
                abort(); /* a pair the parser should have refused */
    } else if (err.code != WEIR_EINVAL && err.code != WEIR_ENOMEM) {
        abort();
    }
    weir_arena_free(&a);
    free(text);
    return 0;
}

/*
 * schema_internal.h - the compiled form of a JSON Schema, shared by the
 * compiler (schema.c), the checker (schema_check.c) and the compatibility
 * check (schema_compat.c). Not for use outside src/json.
 */
#ifndef WEIR_JSON_SCHEMA_INTERNAL_H
#define WEIR_JSON_SCHEMA_INTERNAL_H

#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base/buf.h"
#include "json/json.h"
#include "json/schema.h"

enum {
    T_NULL = 1, T_BOOLEAN = 2, T_INTEGER = 4, T_NUMBER = 8, T_STRING = 16, T_ARRAY = 32, T_OBJECT = 64,
};

typedef struct property {
    char *name;
    weir_jschema *schema;
} property;

struct weir_jschema {
    unsigned types;            /* allowed types; 0: any */
    bool has_min, has_max, min_exclusive, max_exclusive;
    double minimum, maximum;
    int64_t min_len, max_len;  /* -1: none */
    int64_t min_items, max_items;
    pcre2_code *pattern;       /* NULL: no pattern; read-only once compiled, so threads share it */
    pcre2_match_context *limits; /* the match, depth and heap limits of schema.h, with pattern */
    char *pattern_src;         /* the pattern as written, for messages and the compatibility check */
    bool date_time;
    char **enum_values;        /* canonical text of each allowed value (see canonical()) */
    int nenum;
    property *props;
    int nprops;
    char **required;
    int nrequired;
    bool closed;               /* additionalProperties: false */
    weir_jschema *additional;  /* additionalProperties: {schema} */
    weir_jschema *items;
    char *unusable;            /* not NULL: a saved schema that no longer compiles (why); refuses every value */
};


/* A number span's value (read from a copy: spans are not NUL-terminated). */
double weir_jschema_number(const weir_json_span *v);
/* A value's comparable text (enum, const): see schema.c. */
int weir_jschema_canonical(const weir_json_span *v, weir_buf *out);
/* The T_* bits of a value (an integral number is both INTEGER and NUMBER). */
unsigned weir_jschema_type_of(const weir_json_span *v);
/* "string or null", for messages. */
void weir_jschema_type_list(unsigned types, char *out, size_t cap);

#endif

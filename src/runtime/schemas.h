/*
 * schemas.h - the schema registry as its clients see it: JSON Schemas by
 * subject, in numbered versions, each new one backward compatible with
 * the latest (see registry.h), which source streams bound to a subject
 * check their records against at ingest.
 */
#ifndef WEIR_RUNTIME_SCHEMAS_H
#define WEIR_RUNTIME_SCHEMAS_H

#include "runtime/runtime.h"

/* {"subjects": [{subject, latest}]} */
void weir_runtime_schemas(weir_runtime *s, weir_answer *a);

/* {subject, version, versions, schema} of a version (0: the latest); 404
 * when the subject or version does not exist. */
void weir_runtime_schema(weir_runtime *s, const char *subject, int version, weir_answer *a);

/* Registers body (JSON Schema text, len bytes) as the subject's next
 * version: 201 with it as weir_runtime_schema answers; 200 if it equals
 * the latest; 400 bad JSON; 409 not backward compatible; 422 not a schema
 * weir can check (or a bad subject name). */
void weir_runtime_schema_add(weir_runtime *s, const char *subject, const char *body, size_t len, weir_answer *a);

#endif

/*
 * registry.h - the schema registry: JSON Schemas by subject, in numbered
 * versions, kept in DIR/schemas/<subject>/<version>.json.
 *
 * A new version must be backward compatible with the latest one
 * (weir_jschema_compatible): records valid under the old schema stay
 * valid, so a stream bound to the subject never refuses what it used to
 * accept. Registering the latest text again returns its version (unless
 * that version no longer compiles: then it is compiled again and refused).
 * Not thread-safe: the runtime calls it under its lock.
 */
#ifndef WEIR_REGISTRY_H
#define WEIR_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "json/schema.h"

typedef struct weir_registry weir_registry;

/* Loads every subject under dir (created if missing). A saved version
 * that does not compile does not fail this: it refuses every record
 * (weir_jschema_unusable) and weir_registry_warnings names it. */
int weir_registry_open(const char *dir, weir_registry **out, weir_err *err);
void weir_registry_free(weir_registry *r);
/* One line per saved version that did not compile at open ("" if none),
 * for the CLI to print; valid until the registry is freed. */
const char *weir_registry_warnings(const weir_registry *r);

int weir_registry_count(const weir_registry *r);
/* The i-th subject (in name order) and its number of versions. */
const char *weir_registry_subject(const weir_registry *r, int i, int *versions);

/* A version's text and compiled schema (version 0: the latest); NULL if
 * the subject or version does not exist. *version gets the number. The
 * pointers stay valid until the registry is freed. */
const char *weir_registry_get(const weir_registry *r, const char *subject, int version, int *version_out,
                              const weir_jschema **compiled);

/* Registers text as the subject's next version. WEIR_EINVAL: not a schema
 * weir can check (or a bad subject name); WEIR_EEXIST: incompatible with
 * the latest version (err says why). *created is false when the text
 * equals the latest version's. */
int weir_registry_add(weir_registry *r, const char *subject, const char *text, size_t len, int *version,
                      bool *created, weir_err *err);

#endif

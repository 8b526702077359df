/*
 * options.h - the declarative option table every connector has: each
 * option of its WITH (...) with its type, default, whether it is required,
 * a sentence of help and an optional check of the value.
 *
 * One table per connector is the single place an option is written down:
 * pipelines are checked against it when they load (connectors.c, with the
 * option's line:col), connectors read their values through it (a default
 * lives only here), and `weir connectors --markdown` prints it as
 * docs/CONFIGURATION.md. Librdkafka's property table and Fluent Bit's
 * config_map are the models.
 */
#ifndef WEIR_CONN_OPTIONS_H
#define WEIR_CONN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "sql/plan.h"

typedef struct weir_conn_option {
    const char *name;          /* as written in WITH (name = ...), lower case; ending in '.', a family:
                                  every option whose name starts so (properties.<librdkafka property>) */
    weir_type type;            /* WEIR_TYPE_TEXT, WEIR_TYPE_INT or WEIR_TYPE_BOOL: what a value must be */
    const char *dflt;          /* the default: a TEXT's characters (unquoted), "true"/"false", digits; NULL: none */
    bool required;             /* a statement without it is refused */
    const char *help;          /* what it means, one or two sentences, for the docs and --help */
    /* NULL when any value of the type will do; else NULL for a good value
     * or why it is not (a static string, shown after the option's name). */
    const char *(*check)(const weir_value *v);
} weir_conn_option;

/* The option of that name in a table of n (or the family it belongs
 * to), or NULL. */
const weir_conn_option *weir_conn_option_find(const weir_conn_option *opts, size_t n, const char *name);

/* Whether o names a family of options (its name ends in '.'), shown as
 * "name.*". */
bool weir_conn_option_family(const weir_conn_option *o);

/* Whether an option's value is a secret, never to be shown (in errors,
 * logs, answers): its name speaks of a password, secret, token or private
 * key (properties.sasl.password, password, properties.ssl.key.pem). */
bool weir_conn_secret(const char *name);

/* The TEXT value of option name of a statement, or the table's default,
 * or NULL when it has none. The statement was checked against
 * the table (weir_connectors_check), so a given value has the right type.
 * Borrowed from the statement or the table. */
const char *weir_conn_text(const weir_stmt *decl, const weir_conn_option *opts, size_t n, const char *name);
/* The BOOL value of option name, or the table's default (false if none). */
bool weir_conn_bool(const weir_stmt *decl, const weir_conn_option *opts, size_t n, const char *name);

/* "a string in quotes", "a whole number", "true or false": what a value
 * of type t is, for errors and docs. */
const char *weir_conn_type_words(weir_type t);

/* Checks statement st's WITH options but its own (own[0..nown): connector,
 * and a source stream's partitions, key, ...) against connector conn's
 * table: an option the table lacks, a value of the wrong type or one its
 * check refuses, a required option missing. On error: WEIR_EINVAL and e at
 * the option (or the statement), naming it, what ("sink NAME", "stream
 * NAME"), and the options it could have been. */
int weir_conn_options_check(const char *what, const char *conn, const weir_conn_option *opts, size_t n,
                            const char *const *own, size_t nown, const weir_stmt *st, weir_sql_error *e);

#endif

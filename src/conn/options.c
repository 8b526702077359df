/*
 * options.c - reading and checking a connector's WITH (...) through its
 * option table (options.h).
 */
#include "conn/options.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const weir_conn_option *weir_conn_option_find(const weir_conn_option *opts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(opts[i].name);
        if (weir_conn_option_family(&opts[i]) ? !strncmp(opts[i].name, name, len) && name[len]
                                              : !strcmp(opts[i].name, name))
            return &opts[i];
    }
    return NULL;
}

bool weir_conn_option_family(const weir_conn_option *o)
{
    size_t len = strlen(o->name);
    return len && o->name[len - 1] == '.';
}

bool weir_conn_secret(const char *name)
{
    static const char *const telling[] = {"password", "secret", "token", "oauthbearer", "key.pem", "ssl.key"};
    for (size_t i = 0; i < sizeof telling / sizeof *telling; i++)
        if (strstr(name, telling[i]))
            return true;
    return false;
}

const char *weir_conn_text(const weir_stmt *decl, const weir_conn_option *opts, size_t n, const char *name)
{
    const weir_with_option *o = weir_stmt_option(decl, name);
    if (o && o->value.type == WEIR_TYPE_TEXT)
        return o->value.s;
    const weir_conn_option *spec = weir_conn_option_find(opts, n, name);
    return spec ? spec->dflt : NULL;
}

bool weir_conn_bool(const weir_stmt *decl, const weir_conn_option *opts, size_t n, const char *name)
{
    const weir_with_option *o = weir_stmt_option(decl, name);
    if (o && o->value.type == WEIR_TYPE_BOOL)
        return o->value.b;
    const weir_conn_option *spec = weir_conn_option_find(opts, n, name);
    return spec && spec->dflt && !strcmp(spec->dflt, "true");
}

const char *weir_conn_type_words(weir_type t)
{
    switch (t) {
    case WEIR_TYPE_BOOL: return "true or false";
    case WEIR_TYPE_INT: return "a whole number";
    default: return "a string in quotes";
    }
}

typedef struct table { /* a connector's options and the statement's own (skipped) */
    const weir_conn_option *opts;
    size_t n;
    const char *const *own;
    size_t nown;
} table;

static bool is_own(const table *t, const char *name)
{
    for (size_t i = 0; i < t->nown; i++)
        if (!strcmp(t->own[i], name))
            return true;
    return false;
}

/* Fills e at pos with the message, then " (its options: a, b, c)" and the
 * statement's own options but connector (a source stream's partitions, ...). */
static int refuse(weir_sql_error *e, weir_sql_pos pos, const table *t, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(weir_sql_error *e, weir_sql_pos pos, const table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    weir_sql_error_vset(e, pos, fmt, ap);
    va_end(ap);
    size_t len = strlen(e->msg);
    len += (size_t)snprintf(e->msg + len, sizeof e->msg - len, t->n ? " (its options: " : " (it takes no options");
    for (size_t i = 0; i < t->n && len < sizeof e->msg; i++)
        len += (size_t)snprintf(e->msg + len, sizeof e->msg - len, "%s%s%s", i ? ", " : "", t->opts[i].name,
                                weir_conn_option_family(&t->opts[i]) ? "*" : "");
    for (size_t i = 0, k = 0; i < t->nown && len < sizeof e->msg; i++)
        if (strcmp(t->own[i], "connector"))
            len += (size_t)snprintf(e->msg + len, sizeof e->msg - len, "%s%s", k++ ? ", " : "; the stream's own: ",
                                    t->own[i]);
    if (len < sizeof e->msg)
        snprintf(e->msg + len, sizeof e->msg - len, ")");
    return WEIR_EINVAL;
}

int weir_conn_options_check(const char *what, const char *conn, const weir_conn_option *opts, size_t n,
                            const char *const *own, size_t nown, const weir_stmt *st, weir_sql_error *e)
{
    const table tab = {opts, n, own, nown}, *t = &tab;
    for (int i = 0; i < st->nwith; i++) {
        const weir_with_option *o = &st->with[i];
        if (is_own(t, o->name))
            continue;
        const weir_conn_option *spec = weir_conn_option_find(opts, n, o->name);
        if (!spec)
            return refuse(e, o->pos, t, "%s: connector '%s' has no option %s", what, conn, o->name);
        /* a whole number where a TEXT is wanted is the usual slip (topic = 7): say what it must be */
        if (o->value.type != spec->type)
            return refuse(e, o->pos, t, "%s: option %s of connector '%s' must be %s", what, o->name, conn,
                          weir_conn_type_words(spec->type));
        const char *why = spec->check ? spec->check(&o->value) : NULL;
        if (why)
            return refuse(e, o->pos, t, "%s: option %s of connector '%s': %s", what, o->name, conn, why);
    }
    for (size_t i = 0; i < n; i++)
        if (opts[i].required && !weir_stmt_option(st, opts[i].name))
            return refuse(e, st->pos, t, "%s: connector '%s' needs option %s", what, conn, opts[i].name);
    return WEIR_OK;
}

/*
 * endpoint.c - a CREATE ENDPOINT's SELECT made concrete for one request:
 * each {name} replaced by a literal of its parameter's value, checked
 * against the parameter's type first (plan.h), so that a bad value is the
 * caller's 400 naming the parameter, never a SQL error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "sql/plan.h"

/* Appends value as the SQL literal of type t, or fails saying why. */
static int literal(const weir_endpoint_param *p, const char *value, weir_buf *out, weir_err *err)
{
    char *end;
    errno = 0;
    switch (p->type) {
    case WEIR_TYPE_UINT:
        if (value[0] < '0' || value[0] > '9' || (strtoull(value, &end, 10), *end) || errno == ERANGE)
            return weir_err_set(err, WEIR_EINVAL, "{%s} must be a whole number from 0 to 18446744073709551615, not '%s'",
                                p->name, value);
        return weir_buf_append_str(out, value);
    case WEIR_TYPE_INT:
        if (!*value || (strtoll(value, &end, 10), *end) || errno == ERANGE || strchr(value, ' ') || value[0] == '+')
            return weir_err_set(err, WEIR_EINVAL, "{%s} must be a whole number from -9223372036854775808 to "
                                "9223372036854775807, not '%s'", p->name, value);
        return weir_buf_append_str(out, value);
    case WEIR_TYPE_DOUBLE:
        if (!*value || (strtod(value, &end), *end) || errno == ERANGE || strspn(value, "0123456789.-eE") != strlen(value))
            return weir_err_set(err, WEIR_EINVAL, "{%s} must be a number, not '%s'", p->name, value);
        return weir_buf_append_str(out, value);
    case WEIR_TYPE_BOOL:
        if (strcmp(value, "true") && strcmp(value, "false"))
            return weir_err_set(err, WEIR_EINVAL, "{%s} must be true or false, not '%s'", p->name, value);
        return weir_buf_append_str(out, value);
    case WEIR_TYPE_TIMESTAMP: {
        int64_t ms;
        if (!weir_timestamp_parse(value, strlen(value), &ms) || strchr(value, '\''))
            return weir_err_set(err, WEIR_EINVAL, "{%s} must be a timestamp like 2026-11-23T10:00:00Z, not '%s'",
                                p->name, value);
        return weir_buf_printf(out, "TIMESTAMP '%s'", value);
    }
    default: { /* text: quoted, quotes doubled */
        int rc = weir_buf_append_str(out, "'");
        for (const char *c = value; *c && !rc; c++)
            rc = *c == '\'' ? weir_buf_append_str(out, "''") : weir_buf_append(out, c, 1);
        return rc || weir_buf_append_str(out, "'");
    }
    }
}

int weir_endpoint_sql(const weir_endpoint *ep, const char *const *values, weir_buf *out, weir_err *err)
{
    out->len = 0;
    bool quoted = false;
    for (const char *c = ep->sql; *c;) {
        if (*c == '\'')
            quoted = !quoted;
        const char *close = !quoted && *c == '{' ? strchr(c, '}') : NULL;
        int i = 0;
        while (close && i < ep->nparams &&
               (strlen(ep->params[i].name) != (size_t)(close - c - 1) || memcmp(ep->params[i].name, c + 1, (size_t)(close - c - 1))))
            i++;
        if (!close || i == ep->nparams) {
            if (weir_buf_append(out, c++, 1))
                return weir_err_set(err, WEIR_ENOMEM, "out of memory");
            continue;
        }
        int rc = literal(&ep->params[i], values[i], out, err);
        if (rc)
            return err->code ? rc : weir_err_set(err, WEIR_ENOMEM, "out of memory");
        c = close + 1;
    }
    return WEIR_OK;
}

/*
 * err.c - filling weir_err. See err.h for the convention.
 */
#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int weir_err_set(weir_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

static int code_of_errno(int errnum)
{
    switch (errnum) {
    case ENOSPC:
    case EDQUOT: return WEIR_ENOSPC;
    case ENOENT: return WEIR_ENOENT;
    case EEXIST: return WEIR_EEXIST;
    case ENOMEM: return WEIR_ENOMEM;
    case EWOULDBLOCK: return WEIR_EBUSY;
    case EINVAL:
    case ENAMETOOLONG: return WEIR_EINVAL;
    default: return WEIR_EIO;
    }
}

int weir_err_errno(weir_err *err, int errnum, const char *fmt, ...)
{
    int code = code_of_errno(errnum);
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof err->msg)
            snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(errnum));
        err->code = code;
    }
    return code;
}

int weir_err_wrap(weir_err *err, const char *fmt, ...)
{
    if (!err)
        return WEIR_EIO;
    char prefix[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    return err->code;
}

void weir_err_clear(weir_err *err)
{
    if (err) {
        err->code = WEIR_OK;
        err->msg[0] = '\0';
    }
}

/*
 * err.h - error codes and the message buffer every library call fills.
 *
 * The library never prints and never exits: a failing call returns one of
 * the codes below and writes a one-line, human-readable message (what,
 * where, why) into the caller's weir_err. The CLI decides what to show.
 */
#ifndef WEIR_ERR_H
#define WEIR_ERR_H

#include <stddef.h>

enum weir_code {
    WEIR_OK = 0,
    WEIR_EINVAL,   /* bad argument or input (parse errors, bad names) */
    WEIR_ENOENT,   /* a named thing does not exist */
    WEIR_EEXIST,   /* a named thing already exists */
    WEIR_EIO,      /* an I/O call failed; the message names the call and file */
    WEIR_ENOSPC,   /* the disk is full; nothing of the failed batch was kept */
    WEIR_ECORRUPT, /* stored data failed its checksum or format check */
    WEIR_EBUSY,    /* the resource is locked by another process */
    WEIR_EFATAL,   /* a sticky failure (e.g. fsync failed): reopen to recover */
    WEIR_ENOMEM,   /* allocation failed */
};

typedef struct weir_err {
    int code;       /* one of enum weir_code; WEIR_OK when nothing failed */
    char msg[512];  /* NUL-terminated description of the failure */
} weir_err;

/* Fills err (which may be NULL) and returns code, so callers can write
 * `return weir_err_set(err, WEIR_EINVAL, "...", ...);`. */
int weir_err_set(weir_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like weir_err_set, appending ": strerror(errnum)"; the code is derived
 * from errnum (ENOSPC/EDQUOT -> WEIR_ENOSPC, ENOENT -> WEIR_ENOENT, ...). */
int weir_err_errno(weir_err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "context: " to an error already set (for adding where it happened). */
int weir_err_wrap(weir_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void weir_err_clear(weir_err *err);

#endif

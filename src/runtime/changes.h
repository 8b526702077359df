/*
 * changes.h - change feeds: a client follows one stream's or table's new
 * records, or several streams' at once, as Server-Sent Events, resuming
 * from the positions an event id gives.
 *
 * The runtime writes a feed's events through the callbacks of a
 * weir_feed_out, which the transport fills (the HTTP server: a streamed
 * answer); the pipeline thread writes what each step committed.
 */
#ifndef WEIR_RUNTIME_CHANGES_H
#define WEIR_RUNTIME_CHANGES_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/runtime.h"

/* Where a feed's bytes go. The runtime calls these under its lock, from
 * the pipeline thread (or the thread that opened the feed, for its first
 * bytes), and end exactly once, after which it calls none of them. */
typedef struct weir_feed_out {
    bool (*write)(void *ctx, const void *data, size_t len);  /* false: the client is gone (the feed ends) */
    bool (*closed)(void *ctx);    /* whether the client is gone */
    void (*end)(void *ctx);       /* the feed is over */
    void *ctx;
} weir_feed_out;

#endif

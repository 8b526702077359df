/*
 * changes.h - change feeds: a client follows one stream's (or a table's
 * changelog's) committed records, or several streams' at once, as
 * Server-Sent Events ("event: change", "data: {partition, offset,
 * timestamp, row}"), resuming from the positions an event id gives.
 *
 * The runtime writes a feed's events through the callbacks of a
 * weir_feed_out, which the transport fills (the HTTP server: a streamed
 * answer); the pipeline thread writes what each step committed, and a
 * keep-alive comment when a feed has been quiet for 15 s.
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

/* Opens the output of a feed whose readers are in place: fills *out, or
 * returns false (out of memory). Called at most once, under the runtime's
 * lock, by the thread that asked for the feed. */
typedef bool (*weir_feed_open)(void *ctx, weir_feed_out *out);

/* Follows stream `name` (a table's changelog has the table's name): each
 * event's id lists every partition's next offset ("12,40,3"). It starts
 * where last_id (such an id, or NULL) says, else at from: "beginning",
 * "end" or NULL (the end). 0 once open() made the feed; else -1 with the
 * refusal in *a: 400 (a bad from or last_id), 404 (no such stream), 500,
 * 503 (stopping, or as many feeds open as weir_runtime_options' max_feeds
 * allows: change feeds and push queries together). */
int weir_runtime_follow(weir_runtime *s, const char *name, const char *from, const char *last_id, weir_feed_open open,
                        void *open_ctx, weir_answer *a);

/* Follows the streams of `list` ("a,b@beginning,c@end": a suffix says
 * where that one starts, else from does) over one feed: each event names
 * its stream, and the id that comes with the last event of each batch
 * lists every stream's positions ("a:12,40;b:3"); last_id resumes the
 * streams it names (events since the last id may come again). Returns as
 * weir_runtime_follow (400 also for an empty list or more than 256
 * streams). */
int weir_runtime_follow_many(weir_runtime *s, const char *list, const char *from, const char *last_id,
                             weir_feed_open open, void *open_ctx, weir_answer *a);

/* Runs sql when it is a push query (SELECT ... FROM a stream or table
 * [WHERE] EMIT CHANGES [LIMIT n]): a feed open() makes gets first
 * {"columns": [{name, type}]}, then one event per new record that passes
 * the WHERE, {partition, offset, timestamp, row} with row projected (a
 * table's row that left it, or that now fails the WHERE: "row": null,
 * "removed": {key}), until the client goes or n rows went; as NDJSON lines (a quiet feed sends an empty
 * line every 15 s), or with sse as Server-Sent Events ("event: columns",
 * then "event: change"). It starts at from: "beginning", "end" or NULL
 * (the end). Returns 1, answering nothing, when sql is no push query (or
 * does not parse: a pull query's answer says why), 0 once the feed is
 * open, else -1 with the refusal in *a (400 for the SQL or from, 500,
 * 503). */
int weir_runtime_push(weir_runtime *s, const char *sql, size_t len, const char *from, bool sse, weir_feed_open open,
                      void *open_ctx, weir_answer *a);

#endif

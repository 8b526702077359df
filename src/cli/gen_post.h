/*
 * gen_post.h - weir gen --post: records to a weir server over HTTP (see
 * gen_post.c).
 */
#ifndef WEIR_CLI_GEN_POST_H
#define WEIR_CLI_GEN_POST_H

#include <stddef.h>

typedef struct gen_poster gen_poster;

/* url: where to POST, with {field} naming a record's field. -1: out of memory. */
int gen_poster_new(const char *url, gen_poster **out);
/* Queues one record (its line, with the newline): 0, or -1 out of memory,
 * or 1 when the record lacks a field its URL names (reported, skipped). */
int gen_poster_add(gen_poster *p, const char *rec, size_t len);
/* POSTs what is queued, a request per URL; a failure is reported (-1) and
 * the records of that request are dropped. */
int gen_poster_flush(gen_poster *p);
void gen_poster_free(gen_poster *p);

#endif

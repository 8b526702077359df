/*
 * produce_remote.h - `weir produce` through a running `weir serve` that
 * holds the data directory (see produce_remote.c).
 */
#ifndef WEIR_CLI_PRODUCE_REMOTE_H
#define WEIR_CLI_PRODUCE_REMOTE_H

#include <stddef.h>

typedef struct produce_remote produce_remote;

/* Finds the server recorded in DATA/serve.url: 1 with *out (free with
 * produce_remote_free), 0 when none is recorded, -1 out of memory. */
int produce_remote_open(const char *data_dir, const char *stream, produce_remote **out);
/* The server's address, as recorded. */
const char *produce_remote_server(const produce_remote *r);
/* Adds one record (a JSON text, without its newline) to the batch: 0, or -1 out of memory. */
int produce_remote_add(produce_remote *r, const char *rec, size_t len);
size_t produce_remote_bytes(const produce_remote *r);
/* Forgets the batch (its input was bad). */
void produce_remote_drop(produce_remote *r);
/* POSTs the batch; 0 once the server stored it (durably), else -1 with why
 * filled (the server's answer, or that none came). */
int produce_remote_send(produce_remote *r, char *why, size_t cap);
void produce_remote_free(produce_remote *r);

#endif

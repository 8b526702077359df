/*
 * produce_remote.h - `weir produce` through a running `weir serve` that
 * holds the data directory (see produce_remote.c).
 */
#ifndef WEIR_CLI_PRODUCE_REMOTE_H
#define WEIR_CLI_PRODUCE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct produce_remote produce_remote;

/* The server recorded in DATA/serve.url: its URL into server, and the
 * certificate it names over HTTPS into ca_file ("" if none); false when
 * none is recorded (no weir serve holds the directory). */
bool serve_url_read(const char *data_dir, char *server, size_t cap, char *ca_file, size_t ca_cap);
/* Content-Type and, with $WEIR_TOKEN, Authorization headers (NULL: out of memory). */
struct curl_slist *serve_headers(const char *content_type);

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

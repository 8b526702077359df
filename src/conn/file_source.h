/*
 * file_source.h - a source stream fed from NDJSON: a file
 * (CREATE STREAM s (...) WITH (connector = 'file', path = 'in.ndjson')),
 * followed as it grows, like tail -f; or a descriptor read to its end, such
 * as standard input (weir serve --stdin).
 *
 * A file is read exactly once without a progress file: the stream is fed
 * by the file alone (ingest into it is refused), so the records it holds,
 * counted by its partitions' end offsets, are the file's first lines; on
 * start that many lines are skipped. Lines are appended as they are (a bad
 * one reaches the pipeline's dead letters), a file's only once complete
 * (newline-terminated), a descriptor's last one at its end too.
 */
#ifndef WEIR_FILE_SOURCE_H
#define WEIR_FILE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "log/log.h"
#include "sql/plan.h"

typedef struct weir_file_source weir_file_source;

/* Opens rel's file for rel's stream (which must exist), skipping the lines
 * the stream already holds. A missing file is waited for. */
int weir_file_source_open(weir_log *log, const weir_relation *rel, weir_file_source **out, weir_err *err);
/* Reads fd (made non-blocking) to its end into stream `rel`, skipping
 * nothing; label names it in errors ("standard input"). */
int weir_file_source_open_fd(weir_log *log, const weir_relation *rel, int fd, const char *label,
                             weir_file_source **out, weir_err *err);
/* Appends the complete lines that arrived, up to max_bytes; *eof when a
 * file has nothing more right now, or a descriptor has reached its end. */
int weir_file_source_poll(weir_file_source *f, size_t max_bytes, uint64_t *appended, bool *eof, weir_err *err);
/* Closes a file (a descriptor given to open_fd stays open). */
void weir_file_source_close(weir_file_source *f);

#endif

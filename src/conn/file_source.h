/*
 * file_source.h - a source stream fed from an NDJSON file
 * (CREATE STREAM s (...) WITH (connector = 'file', path = 'in.ndjson')),
 * followed as it grows, like tail -f.
 *
 * Exactly once without a progress file: the stream is fed by the file
 * alone (ingest into it is refused), so the records it holds, counted by
 * its partitions' end offsets, are the file's first lines; on start that
 * many lines are skipped. Lines are appended as they are (a bad one reaches
 * the pipeline's dead letters), only once complete (newline-terminated).
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
/* Appends the complete lines that arrived, up to max_bytes; *eof when
 * the file has nothing more right now. */
int weir_file_source_poll(weir_file_source *f, size_t max_bytes, uint64_t *appended, bool *eof, weir_err *err);
void weir_file_source_close(weir_file_source *f);

#endif

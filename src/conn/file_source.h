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

#include "conn/source.h"

/* An ingest feed reading fd (made non-blocking) to its end into stream
 * `rel`, skipping nothing; label names it in errors ("standard input").
 * Closing the feed leaves fd open. (A file, connector 'file', is opened
 * through weir_source_file, registered in connectors.c.) */
int weir_file_source_open_fd(weir_log *log, const weir_relation *rel, int fd, const char *label,
                             weir_source_feed *out, weir_err *err);

#endif

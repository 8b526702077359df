/*
 * file_source.h - a source stream fed from NDJSON: a file
 * (CREATE STREAM s (...) WITH (connector = 'file', path = 'in.ndjson')),
 * followed as it grows, like tail -f; or a descriptor read to its end, such
 * as standard input (weir serve --stdin).
 *
 * Each line goes through the runtime's ingest admission (source.h): one
 * that breaks the stream's schema goes to <stream>.dlq, one that is not
 * JSON reaches the pipeline's dead letters; a file's only once complete
 * (newline-terminated), a descriptor's last one at its end too.
 *
 * A file is read exactly once without a progress file: every record keeps
 * its line number (WEIR_FEED_POSITION), and the stream is fed by the file
 * alone (ingest into it is refused), so on start the lines up to the
 * largest number the stream or its dead letters hold are skipped.
 */
#ifndef WEIR_FILE_SOURCE_H
#define WEIR_FILE_SOURCE_H

#include "conn/source.h"

/* An ingest feed reading fd (made non-blocking) to its end, skipping
 * nothing; label names it in errors ("standard input"). Closing the feed
 * leaves fd open. (A file, connector 'file', is opened through
 * weir_source_file, registered in connectors.c.) */
int weir_file_source_open_fd(int fd, const char *label, weir_source_feed *out, weir_err *err);

#endif

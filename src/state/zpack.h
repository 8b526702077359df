/*
 * zpack.h - zero bytes packed away: a byte string as, for each run of 8
 * bytes, a byte whose bit i says byte i is not zero, then those bytes.
 * The engine's groups (exec/group_store.c) keep their accumulators so in
 * the state store: they are mostly fixed 8-byte little-endian slots
 * holding small numbers ("seen" bits, counts, steps), two thirds zeros
 * (a Collatz group's 16 bytes pack to 7, its length included). Cap'n Proto's
 * packing, without its runs: a string of no zeros grows by an eighth,
 * which the writer avoids by storing such a string as it is.
 */
#ifndef WEIR_ZPACK_H
#define WEIR_ZPACK_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/codec.h"

/* Appends in[0..n) packed to out: its length (a LEB128 varint), then the
 * packed bytes. -1 when out of memory. */
int weir_zpack(const uint8_t *in, size_t n, weir_buf *out);

/* Unpacks what weir_zpack wrote, the rest of r, into out (appended). -1
 * when r is not exactly such a string (r->bad set) or out of memory (not
 * set). Only
 * what weir_zpack writes is accepted: no flagged zero byte, no bit past
 * the length, nothing after the last byte. */
int weir_zunpack(weir_reader_buf *r, weir_buf *out);

#endif

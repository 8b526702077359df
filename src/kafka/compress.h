/*
 * compress.h - the codecs of Kafka's record batches (attributes bits 0-2):
 * gzip (zlib), snappy (raw, or in the xerial framing the Java client
 * writes), lz4 (the LZ4 frame format) and zstd, through their Debian
 * libraries. weir decompresses what producers send; what it serves is
 * uncompressed.
 */
#ifndef WEIR_KAFKA_COMPRESS_H
#define WEIR_KAFKA_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

enum { WEIR_KCODEC_NONE, WEIR_KCODEC_GZIP, WEIR_KCODEC_SNAPPY, WEIR_KCODEC_LZ4, WEIR_KCODEC_ZSTD };

/* The largest decompressed batch weir takes: more is refused (a small
 * compressed batch may claim gigabytes). */
#define WEIR_KAFKA_MAX_PLAIN (64u << 20)

/* Appends the decompression of in[0..len) with codec to out. 0, or -1
 * with a message in err (cap bytes): a corrupt input, one past
 * WEIR_KAFKA_MAX_PLAIN, or an unknown codec. */
int weir_kafka_decompress(int codec, const uint8_t *in, size_t len, weir_buf *out, char *err, size_t cap);

#endif

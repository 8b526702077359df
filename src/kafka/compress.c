/*
 * compress.c - decompressing record batches (see compress.h). Each codec
 * streams into a growing buffer, since a batch does not say how large it
 * is once decompressed, and stops at WEIR_KAFKA_MAX_PLAIN.
 */
#include "kafka/compress.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define CHUNK (64u << 10)

/* Room for CHUNK more bytes in out, within the limit. */
static int room(weir_buf *out, size_t start, char *err, size_t cap)
{
    if (out->len - start >= WEIR_KAFKA_MAX_PLAIN) {
        snprintf(err, cap, "the batch decompresses to more than %u bytes", WEIR_KAFKA_MAX_PLAIN);
        return -1;
    }
    if (weir_buf_reserve(out, CHUNK)) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    return 0;
}

static int gunzip(const uint8_t *in, size_t len, weir_buf *out, char *err, size_t cap)
{
    z_stream z = {0};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        snprintf(err, cap, "gzip: cannot start zlib");
        return -1;
    }
    size_t start = out->len;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    int zrc = Z_OK;
    while (zrc != Z_STREAM_END) {
        if (room(out, start, err, cap))
            break;
        z.next_out = out->data + out->len;
        z.avail_out = CHUNK;
        zrc = inflate(&z, Z_NO_FLUSH);
        out->len += CHUNK - z.avail_out;
        if (zrc == Z_STREAM_END && z.avail_in > 0) /* concatenated members */
            zrc = inflateReset(&z) == Z_OK ? Z_OK : Z_DATA_ERROR;
        else if (zrc == Z_BUF_ERROR && z.avail_in == 0)
            zrc = Z_DATA_ERROR; /* the input ended inside the stream */
        if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
            snprintf(err, cap, "gzip: %s", z.msg ? z.msg : "corrupt or truncated data");
            break;
        }
    }
    inflateEnd(&z);
    return zrc == Z_STREAM_END ? 0 : -1;
}

static int unsnappy_raw(const uint8_t *in, size_t len, weir_buf *out, size_t start, char *err, size_t cap)
{
    size_t n;
    if (snappy_uncompressed_length((const char *)in, len, &n) != SNAPPY_OK) {
        snprintf(err, cap, "snappy: corrupt data");
        return -1;
    }
    if (out->len - start + n > WEIR_KAFKA_MAX_PLAIN) {
        snprintf(err, cap, "the batch decompresses to more than %u bytes", WEIR_KAFKA_MAX_PLAIN);
        return -1;
    }
    if (weir_buf_reserve(out, n ? n : 1)) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    if (snappy_uncompress((const char *)in, len, (char *)out->data + out->len, &n) != SNAPPY_OK) {
        snprintf(err, cap, "snappy: corrupt data");
        return -1;
    }
    out->len += n;
    return 0;
}

/* snappy-java's framing: a 16-byte header ("\x82SNAPPY\0", two versions),
 * then blocks of a big-endian length and raw snappy. */
static int unsnappy(const uint8_t *in, size_t len, weir_buf *out, char *err, size_t cap)
{
    static const uint8_t xerial[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    size_t start = out->len;
    if (len < 16 || memcmp(in, xerial, 8))
        return unsnappy_raw(in, len, out, start, err, cap);
    for (size_t pos = 16; pos < len;) {
        if (len - pos < 4) {
            snprintf(err, cap, "snappy: a block length cut short at byte %zu", pos);
            return -1;
        }
        size_t n = (size_t)in[pos] << 24 | (size_t)in[pos + 1] << 16 | (size_t)in[pos + 2] << 8 | in[pos + 3];
        pos += 4;
        if (n > len - pos) {
            snprintf(err, cap, "snappy: a block of %zu bytes at byte %zu, %zu left", n, pos, len - pos);
            return -1;
        }
        if (unsnappy_raw(in + pos, n, out, start, err, cap))
            return -1;
        pos += n;
    }
    return 0;
}

static int unlz4(const uint8_t *in, size_t len, weir_buf *out, char *err, size_t cap)
{
    LZ4F_dctx *d;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) {
        snprintf(err, cap, "lz4: cannot start");
        return -1;
    }
    size_t start = out->len, pos = 0, hint = 1;
    int rc = 0;
    while (hint != 0) {
        if ((rc = room(out, start, err, cap)))
            break;
        size_t dst = CHUNK, src = len - pos;
        hint = LZ4F_decompress(d, out->data + out->len, &dst, in + pos, &src, NULL);
        if (LZ4F_isError(hint)) {
            snprintf(err, cap, "lz4: %s", LZ4F_getErrorName(hint));
            rc = -1;
            break;
        }
        out->len += dst;
        pos += src;
        if (hint != 0 && pos == len && dst == 0) {
            snprintf(err, cap, "lz4: the frame is cut short");
            rc = -1;
            break;
        }
    }
    LZ4F_freeDecompressionContext(d);
    return rc;
}

static int unzstd(const uint8_t *in, size_t len, weir_buf *out, char *err, size_t cap)
{
    ZSTD_DStream *d = ZSTD_createDStream();
    if (!d) {
        snprintf(err, cap, "zstd: cannot start");
        return -1;
    }
    size_t start = out->len, hint = 1;
    ZSTD_inBuffer src = {in, len, 0};
    int rc = 0;
    while (rc == 0 && (src.pos < src.size || hint != 0)) {
        if ((rc = room(out, start, err, cap)))
            break;
        ZSTD_outBuffer dst = {out->data + out->len, CHUNK, 0};
        hint = ZSTD_decompressStream(d, &dst, &src);
        out->len += dst.pos;
        if (ZSTD_isError(hint)) {
            snprintf(err, cap, "zstd: %s", ZSTD_getErrorName(hint));
            rc = -1;
        } else if (hint != 0 && src.pos == src.size && dst.pos < CHUNK) {
            snprintf(err, cap, "zstd: the frame is cut short");
            rc = -1;
        }
    }
    ZSTD_freeDStream(d);
    return rc;
}

int weir_kafka_decompress(int codec, const uint8_t *in, size_t len, weir_buf *out, char *err, size_t cap)
{
    switch (codec) {
    case WEIR_KCODEC_GZIP: return gunzip(in, len, out, err, cap);
    case WEIR_KCODEC_SNAPPY: return unsnappy(in, len, out, err, cap);
    case WEIR_KCODEC_LZ4: return unlz4(in, len, out, err, cap);
    case WEIR_KCODEC_ZSTD: return unzstd(in, len, out, err, cap);
    default: snprintf(err, cap, "compression type %d is not one Kafka defines", codec); return -1;
    }
}

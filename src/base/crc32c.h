/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of every log record batch.
 *
 * Castagnoli rather than zlib's CRC-32 because x86 computes it in hardware
 * (SSE4.2 crc32 instruction) at memory speed; it is also what Kafka uses for
 * its record batches. No Debian package ships a C implementation, so this is
 * written here: hardware when the CPU has it, a table otherwise.
 */
#ifndef WEIR_CRC32C_H
#define WEIR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over n bytes at p. Thread-safe. */
uint32_t weir_crc32c(uint32_t crc, const void *p, size_t n);

/* The portable table version, exposed so tests can compare the two paths. */
uint32_t weir_crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif

/*
 * hash.c - Kafka's murmur2, written from the algorithm's description (32-bit
 * MurmurHash2 with Kafka's seed; bytes read little-endian, the tail folded
 * in from the highest byte down).
 */
#include "base/hash.h"

uint32_t weir_murmur2(const void *key, size_t len)
{
    const uint8_t *d = key;
    const uint32_t m = 0x5bd1e995u;
    const int r = 24;
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;
    size_t n4 = len / 4;

    for (size_t i = 0; i < n4; i++) {
        const uint8_t *q = d + 4 * i;
        uint32_t k = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    const uint8_t *tail = d + 4 * n4;
    switch (len & 3) {
    case 3: h ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2: h ^= (uint32_t)tail[1] << 8;  /* fall through */
    case 1: h ^= tail[0]; h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

uint32_t weir_partition_for_key(const void *key, size_t len, uint32_t n)
{
    return (weir_murmur2(key, len) & 0x7fffffffu) % n;
}

uint32_t weir_partition_for_no_key(uint32_t n)
{
    return weir_partition_for_key("", 0, n);
}

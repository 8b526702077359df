/*
 * keyfilter.c - a layered, blocked Bloom filter of 64-bit hashes (see
 * keyfilter.h). A layer of capacity c keys has c * 12 bits in 64-byte
 * blocks; a hash picks a block and 6 bits in it. Adding goes to the
 * newest layer, which is replaced by one twice its capacity when full;
 * a lookup asks every layer, newest first.
 */
#include "state/keyfilter.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_KEYS 65536 /* the first layer's keys: 96 KiB */
#define BITS_PER_KEY 12
#define PROBES 6
#define MAX_LAYERS 40

typedef struct layer {
    uint64_t *blocks; /* nblocks * 8 words */
    size_t nblocks, keys, cap;
} layer;

struct weir_keyfilter {
    layer layers[MAX_LAYERS];
    int n;
    size_t bytes;
};

/* splitmix64's finaliser: the callers' hashes may be weak in some bits. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

weir_keyfilter *weir_keyfilter_new(void) { return calloc(1, sizeof(weir_keyfilter)); }

void weir_keyfilter_free(weir_keyfilter *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n; i++)
        free(f->layers[i].blocks);
    free(f);
}

/* The block of l that x picks (its high half; the bits in it come from another mix of x). */
static uint64_t *block_of(const layer *l, uint64_t x)
{
    return l->blocks + (size_t)(((x >> 32) * (uint64_t)l->nblocks) >> 32) * 8;
}

static void set_bits(uint64_t *b, uint64_t y)
{
    for (int k = 0; k < PROBES; k++) {
        unsigned bit = (unsigned)(y >> (9 * k)) & 511;
        b[bit >> 6] |= UINT64_C(1) << (bit & 63);
    }
}

static bool has_bits(const uint64_t *b, uint64_t y)
{
    for (int k = 0; k < PROBES; k++) {
        unsigned bit = (unsigned)(y >> (9 * k)) & 511;
        if (!(b[bit >> 6] & (UINT64_C(1) << (bit & 63))))
            return false;
    }
    return true;
}

int weir_keyfilter_add(weir_keyfilter *f, uint64_t hash)
{
    layer *l = f->n ? &f->layers[f->n - 1] : NULL;
    if (!l || l->keys == l->cap) {
        if (f->n == MAX_LAYERS)
            return -1;
        size_t cap = l ? l->cap * 2 : FIRST_KEYS, nblocks = cap * BITS_PER_KEY / 512;
        uint64_t *blocks = calloc(nblocks, 64);
        if (!blocks)
            return -1;
        l = &f->layers[f->n++];
        *l = (layer){blocks, nblocks, 0, cap};
        f->bytes += nblocks * 64;
    }
    uint64_t x = mix(hash);
    set_bits(block_of(l, x), mix(x));
    l->keys++;
    return 0;
}

bool weir_keyfilter_maybe(const weir_keyfilter *f, uint64_t hash)
{
    uint64_t x = mix(hash), y = mix(x);
    for (int i = f ? f->n : 0; i-- > 0;)
        if (has_bits(block_of(&f->layers[i], x), y))
            return true;
    return false;
}

size_t weir_keyfilter_bytes(const weir_keyfilter *f) { return f ? f->bytes + sizeof *f : 0; }

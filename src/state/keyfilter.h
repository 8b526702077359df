/*
 * keyfilter.h - a set of 64-bit key hashes that answers "maybe" or "no"
 * (a Bloom filter; docs/STATE_STORE.md, "Bounded memory"): which groups
 * left memory for the state store, so that a key memory lacks is looked
 * up in the store only if it may be one of them.
 *
 * Never a false "no"; a false "maybe" for about 1 key in 100 per layer.
 * It grows by layers, each twice the keys of the one before (a Bloom
 * filter cannot be rebuilt larger without its keys), each 12 bits a key,
 * a key's 6 bits in one 64-byte block (one cache line read per layer).
 */
#ifndef WEIR_KEYFILTER_H
#define WEIR_KEYFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct weir_keyfilter weir_keyfilter;

/* NULL when out of memory. */
weir_keyfilter *weir_keyfilter_new(void);
void weir_keyfilter_free(weir_keyfilter *f);
/* Adds a hash; -1 when out of memory (the hash is then not in the set). */
int weir_keyfilter_add(weir_keyfilter *f, uint64_t hash);
/* false: the hash was never added; true: it may have been. */
bool weir_keyfilter_maybe(const weir_keyfilter *f, uint64_t hash);
/* Bytes of memory held. */
size_t weir_keyfilter_bytes(const weir_keyfilter *f);

#endif

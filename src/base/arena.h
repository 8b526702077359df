/*
 * arena.h - bump allocation for things that die together: a parsed SQL
 * statement and its plan, the rows of one batch. Freeing the arena frees
 * everything allocated from it; nothing is freed one by one.
 */
#ifndef WEIR_ARENA_H
#define WEIR_ARENA_H

#include <stddef.h>

typedef struct weir_arena_block weir_arena_block;

typedef struct weir_arena {
    weir_arena_block *head;  /* newest block; NULL until the first allocation */
    size_t block_size;       /* size of ordinary blocks; 0: 64 KiB */
} weir_arena;

/* Zeroed memory aligned for any type, or NULL when out of memory. */
void *weir_arena_alloc(weir_arena *a, size_t n);
/* A NUL-terminated copy of p[0..n). */
char *weir_arena_strndup(weir_arena *a, const char *p, size_t n);
/* Forgets every allocation but keeps the first block for reuse. */
void weir_arena_reset(weir_arena *a);
void weir_arena_free(weir_arena *a);

#endif

/*
 * arena.c - a list of blocks, newest first; allocations larger than a
 * quarter block get a block of their own so they waste no space.
 */
#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct weir_arena_block {
    weir_arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

void *weir_arena_alloc(weir_arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    if (n == 0)
        n = align;
    weir_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t bs = a->block_size ? a->block_size : 64 * 1024;
        size_t cap = n > bs / 4 ? n : bs;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        if (n > bs / 4 && a->head) { /* a big one goes behind the current block */
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *weir_arena_strndup(weir_arena *a, const char *p, size_t n)
{
    char *s = weir_arena_alloc(a, n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

void weir_arena_reset(weir_arena *a)
{
    weir_arena_block *keep = NULL, *b = a->head;
    while (b) {
        weir_arena_block *next = b->next;
        if (!next) { /* the oldest block stays */
            keep = b;
            keep->used = 0;
        } else {
            free(b);
        }
        b = next;
    }
    a->head = keep;
}

void weir_arena_free(weir_arena *a)
{
    weir_arena_block *b = a->head;
    while (b) {
        weir_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

/*
 * groups.c - the grouped-state hash table (see groups.h).
 *
 * Entry layout: uint64 hash (0 = empty slot), int64 window, weir_value
 * keys[nkeys], then the accumulator block (acc.h). The table doubles at 3/4
 * full. The hash has 46 bits; above them, 16 bits of the tick of the
 * entry's last upsert (its age, for dropping the least recently used: a
 * tick is a checkpoint, and an age counts modulo 2^16), and the entry's
 * two flags when the table keeps its changes for a store: CHANGED (in the
 * changed list) and STORED (the store has it, or a sealed batch puts it).
 *
 * The changed list holds slot indices. Entries move (a resize, the
 * backward shift of a removal), so an index may go stale: a moved entry
 * that is CHANGED is listed again at its new slot (a resize lists them
 * all anew), and the walk takes an index only if its slot holds a
 * CHANGED entry, clearing the flag, so each is seen once.
 *
 * A windowed table (TUMBLE, HOP, CUMULATE: windows that close in order)
 * also lists its entries by window (group_windows.h), so that closing
 * windows and evicting them touch their own entries only, not every slot.
 * Every path that makes an entry goes through insert_at, and every one
 * that ends an entry but eviction (which drops whole buckets) through
 * forget; a resize moves entries but not their items.
 */
#include "state/groups.h"

#include <stdlib.h>
#include <string.h>

#include "state/budget.h"
#include "state/group_windows.h"
#include "state/keyfilter.h"
#include "state/rows.h"

struct weir_groups {
    const weir_query *q;
    const weir_acc_ops *ops;   /* the accumulators' init and release */
    uint8_t *slots;
    size_t cap, n;             /* cap: a power of two */
    size_t entry_size;
    size_t key_bytes;          /* owned TEXT key bytes */
    /* keeping changes for a store (weir_groups_keep_changes) */
    bool keeping;              /* changes are kept (weir_groups_keep_changes) */
    const weir_store *store;   /* whose key length cuts store keys; NULL: a scale-out task's (store.h) */
    uint32_t *changed;         /* slot indices of CHANGED entries (and stale ones: see above) */
    size_t nchanged, changed_cap;
    weir_buf removed;          /* store keys of STORED entries removed: u32 length, bytes */
    bool lost;                 /* a change could not be recorded (out of memory): the next take fails */
    weir_groups_loader load;   /* fills a new entry from the store; NULL: none */
    void *load_ctx;
    bool loading;              /* load is called (weir_groups_stop_loading until a drop) */
    weir_keyfilter *left;      /* hashes of the entries dropped (weir_groups_drop); NULL: none yet */
    bool unfiltered;           /* load every key memory lacks, not only those `left` may hold */
    bool filter_lost;          /* a key could not be added to `left` (out of memory): unfiltered for good */
    uint16_t tick;             /* weir_groups_tick's count: upserts stamp their entry with it */
    bool by_window;            /* a windowed table: windows lists the entries by window */
    weir_gwin windows;
};

#define CHANGED_BIT (UINT64_C(1) << 63)
#define STORED_BIT (UINT64_C(1) << 62)
#define TICK_SHIFT 46
#define TICK_BITS (UINT64_C(0xFFFF) << TICK_SHIFT)
#define HASH_BITS ((UINT64_C(1) << TICK_SHIFT) - 1)
#define HASH(e) (*(uint64_t *)(e))
#define WINDOW(e) (*(int64_t *)((e) + 8))
#define KEYS(e) ((weir_value *)((e) + 16))
#define ACCS(g, e) ((weir_acc *)((e) + 16 + (size_t)(g)->q->nkeys * sizeof(weir_value)))

static uint8_t *slot_at(const weir_groups *g, size_t i) { return g->slots + i * g->entry_size; }

weir_groups *weir_groups_new(const weir_query *q, const weir_acc_ops *ops)
{
    weir_groups *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->q = q;
    g->ops = ops;
    g->entry_size = 16 + (size_t)q->nkeys * sizeof(weir_value) + weir_accs_size(q);
    g->by_window = q->window.kind == WEIR_WINDOW_TUMBLE || q->window.kind == WEIR_WINDOW_HOP;
    weir_gwin_init(&g->windows, q->nkeys);
    return g;
}

uint64_t weir_groups_key_hash(const weir_groups *g, const weir_value *keys)
{
    uint64_t h = 0;
    for (int i = 0; i < g->q->nkeys; i++)
        h = weir_value_hash(&keys[i], h);
    return h;
}

/* An entry's hash: its keys' (weir_groups_key_hash), which a caller
 * looking the keys up in several windows computes once, mixed with the
 * window (a splitmix64 finaliser: the slot is taken from the low bits). */
static uint64_t entry_hash(uint64_t key_hash, int64_t window)
{
    uint64_t h = key_hash ^ (uint64_t)window * 0x9e3779b97f4a7c15ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    h &= HASH_BITS;
    return h ? h : 1;
}

static uint64_t hash_of(const weir_groups *g, const weir_value *keys, int64_t window)
{
    return entry_hash(weir_groups_key_hash(g, keys), window);
}

/* Whether two key values are the same key: same type and value (the
 * common cases, integers and text, compared directly). */
static inline bool same_key(const weir_value *a, const weir_value *b)
{
    if (a->type != b->type || a->is_null != b->is_null)
        return false;
    if (a->is_null)
        return true;
    switch (a->type) {
    case WEIR_TYPE_INT:
    case WEIR_TYPE_UINT:
    case WEIR_TYPE_TIMESTAMP: return a->i == b->i;
    case WEIR_TYPE_TEXT: return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    default: return weir_value_same(a, b);
    }
}

static bool matches(const weir_groups *g, const uint8_t *e, uint64_t h, const weir_value *keys, int64_t window)
{
    if ((HASH(e) & HASH_BITS) != h || WINDOW(e) != window)
        return false;
    for (int i = 0; i < g->q->nkeys; i++)
        if (!same_key(&KEYS(e)[i], &keys[i]))
            return false;
    return true;
}

/* Lists slot i as changed; -1 when out of memory. */
static int note_changed(weir_groups *g, size_t i)
{
    if (g->nchanged == g->changed_cap) {
        uint32_t *c = weir_array_grow(g->changed, &g->changed_cap, sizeof *c, 256);
        if (!c)
            return -1;
        g->changed = c;
    }
    g->changed[g->nchanged++] = (uint32_t)i;
    return 0;
}

/* The entry at slot i changes: listed once until the next take. */
static void mark_changed(weir_groups *g, size_t i)
{
    uint8_t *e = slot_at(g, i);
    if (!g->keeping || (HASH(e) & CHANGED_BIT))
        return;
    HASH(e) |= CHANGED_BIT;
    if (note_changed(g, i))
        g->lost = true;
}

/* Moves the entries into a table of cap slots (a power of two). */
static int resize(weir_groups *g, size_t cap)
{
    uint8_t *slots = calloc(cap, g->entry_size);
    if (!slots)
        return -1;
    for (size_t i = 0; i < g->cap; i++) {
        uint8_t *e = slot_at(g, i);
        if (!HASH(e))
            continue;
        size_t j = HASH(e) & (cap - 1);
        while (HASH(slots + j * g->entry_size))
            j = (j + 1) & (cap - 1);
        memcpy(slots + j * g->entry_size, e, g->entry_size);
    }
    free(g->slots);
    g->slots = slots;
    g->cap = cap;
    if (g->keeping) { /* the entries moved: list the changed ones anew */
        g->nchanged = 0;
        for (size_t i = 0; i < cap; i++)
            if ((HASH(slot_at(g, i)) & CHANGED_BIT) && note_changed(g, i))
                g->lost = true;
    }
    return 0;
}

static int grow(weir_groups *g) { return resize(g, g->cap ? g->cap * 2 : 64); }

int weir_groups_reserve(weir_groups *g, size_t n)
{
    size_t cap = g->cap ? g->cap : 64;
    while (n * 4 > cap * 3)
        cap *= 2;
    return cap == g->cap ? 0 : resize(g, cap);
}

weir_acc *weir_groups_find(weir_groups *g, const weir_value *keys, int64_t window)
{
    return weir_groups_find_hashed(g, weir_groups_key_hash(g, keys), keys, window);
}

weir_acc *weir_groups_find_hashed(weir_groups *g, uint64_t key_hash, const weir_value *keys, int64_t window)
{
    if (!g->cap)
        return NULL;
    uint64_t h = entry_hash(key_hash, window);
    for (size_t i = h & (g->cap - 1);; i = (i + 1) & (g->cap - 1)) {
        uint8_t *e = slot_at(g, i);
        if (!HASH(e))
            return NULL;
        if (matches(g, e, h, keys, window))
            return ACCS(g, e);
    }
}

/* The slot of (keys, window): *found, or the empty slot where it goes. */
static size_t lookup(const weir_groups *g, uint64_t h, const weir_value *keys, int64_t window, bool *found)
{
    size_t i = h & (g->cap - 1);
    for (;; i = (i + 1) & (g->cap - 1)) {
        uint8_t *e = slot_at(g, i);
        if (!HASH(e)) {
            *found = false;
            return i;
        }
        if (matches(g, e, h, keys, window)) {
            *found = true;
            return i;
        }
    }
}

/* Frees the owned TEXT of the first n key values k. */
static void free_keys(weir_groups *g, weir_value *k, int n)
{
    for (int j = 0; j < n; j++)
        if (weir_type_has_text(k[j].type) && !k[j].is_null) {
            g->key_bytes -= k[j].len;
            free((void *)k[j].s);
        }
}

/* A new entry (keys, window) in the empty slot i (kh its keys' hash, h
 * its own), its accumulators initialised: NULL when out of memory. */
static uint8_t *insert_at(weir_groups *g, size_t i, uint64_t kh, uint64_t h, const weir_value *keys, int64_t window)
{
    uint8_t *e = slot_at(g, i);
    weir_value *k = KEYS(e);
    for (int j = 0; j < g->q->nkeys; j++) {
        k[j] = keys[j];
        if (weir_type_has_text(keys[j].type) && !keys[j].is_null) {
            char *s = malloc(keys[j].len ? keys[j].len : 1);
            if (!s) {
                free_keys(g, k, j);
                return NULL;
            }
            memcpy(s, keys[j].s, keys[j].len);
            k[j].s = s;
            g->key_bytes += keys[j].len;
        }
    }
    if (g->by_window && weir_gwin_add(&g->windows, window, kh, k)) {
        free_keys(g, k, g->q->nkeys);
        return NULL;
    }
    HASH(e) = h | (uint64_t)g->tick << TICK_SHIFT;
    WINDOW(e) = window;
    g->ops->init(g->q, ACCS(g, e));
    g->n++;
    return e;
}

static void forget(weir_groups *g, size_t i, bool dropped);

weir_acc *weir_groups_upsert(weir_groups *g, const weir_value *keys, int64_t window)
{
    if ((g->n + 1) * 4 > g->cap * 3 && grow(g))
        return NULL;
    uint64_t kh = weir_groups_key_hash(g, keys), h = entry_hash(kh, window);
    bool found;
    size_t i = lookup(g, h, keys, window, &found);
    uint8_t *e = found ? slot_at(g, i) : insert_at(g, i, kh, h, keys, window);
    if (!e)
        return NULL;
    if (!found && g->loading && (g->unfiltered || weir_keyfilter_maybe(g->left, h))) { /* the store may have it */
        int got = g->load(g->load_ctx, g->q, keys, window, ACCS(g, e));
        if (got < 0) {
            forget(g, i, false);
            return NULL;
        }
        if (got)
            HASH(e) |= STORED_BIT;
    }
    HASH(e) = (HASH(e) & ~TICK_BITS) | (uint64_t)g->tick << TICK_SHIFT;
    mark_changed(g, i);
    return ACCS(g, e);
}

weir_acc *weir_groups_insert_stored(weir_groups *g, const weir_value *keys, int64_t window)
{
    if ((g->n + 1) * 4 > g->cap * 3 && grow(g))
        return NULL;
    uint64_t kh = weir_groups_key_hash(g, keys), h = entry_hash(kh, window);
    bool found;
    size_t i = lookup(g, h, keys, window, &found);
    if (found)
        return NULL;
    uint8_t *e = insert_at(g, i, kh, h, keys, window);
    if (!e)
        return NULL;
    HASH(e) |= STORED_BIT;
    return ACCS(g, e);
}

bool weir_groups_next(weir_groups *g, size_t *pos, const weir_value **keys, int64_t *window, weir_acc **accs)
{
    while (*pos < g->cap) {
        uint8_t *e = slot_at(g, (*pos)++);
        if (HASH(e)) {
            *keys = KEYS(e);
            *window = WINDOW(e);
            *accs = ACCS(g, e);
            return true;
        }
    }
    return false;
}

bool weir_groups_next_window(weir_groups *g, weir_groups_walk *walk, int64_t lo, int64_t hi, const weir_value **keys,
                             uint64_t *key_hash, int64_t *window)
{
    if (!g->by_window) { /* every slot, those in [lo, hi] */
        while (walk->at < g->cap) {
            uint8_t *e = slot_at(g, walk->at++);
            if (HASH(e) && WINDOW(e) >= lo && WINDOW(e) <= hi) {
                *keys = KEYS(e);
                *key_hash = weir_groups_key_hash(g, KEYS(e));
                *window = WINDOW(e);
                return true;
            }
        }
        return false;
    }
    const weir_gwin *w = &g->windows;
    if (!walk->begun) {
        walk->at = weir_gwin_seek(w, lo);
        walk->item = 0;
        walk->begun = true;
    }
    for (; walk->at < w->nb && w->b[walk->at].window <= hi; walk->at++, walk->item = 0)
        if (walk->item < w->b[walk->at].n) {
            *key_hash = weir_gwin_hash(w, &w->b[walk->at], walk->item);
            *keys = weir_gwin_keys(w, &w->b[walk->at], walk->item++);
            *window = w->b[walk->at].window;
            return true;
        }
    return false;
}

/* Records the store key of e, a STORED entry going away, for deletion. */
static void note_removed(weir_groups *g, const uint8_t *e)
{
    weir_value stack[17], *vals = g->q->nkeys < 17 ? stack : malloc((size_t)(g->q->nkeys + 1) * sizeof *vals);
    weir_err err = {0};
    size_t at = g->removed.len;
    uint32_t len = 0;
    if (!vals || weir_buf_append(&g->removed, &len, sizeof len)) {
        g->lost = true;
    } else {
        memcpy(vals, KEYS(e), (size_t)g->q->nkeys * sizeof *vals);
        vals[g->q->nkeys] = weir_timestamp(WINDOW(e));
        if (weir_groups_store_key(g->store, vals, g->q->nkeys, &g->removed, &err)) {
            g->removed.len = at;
            g->lost = true;
        } else {
            len = (uint32_t)(g->removed.len - at - sizeof len);
            memcpy(g->removed.data + at, &len, sizeof len);
        }
    }
    if (vals != stack)
        free(vals);
}

/* Frees what e holds; a STORED entry going away (not dropped from memory
 * only) is recorded for deletion from the store. */
static void release_entry(weir_groups *g, uint8_t *e, bool dropped)
{
    if (g->keeping && (HASH(e) & STORED_BIT) && !dropped)
        note_removed(g, e);
    free_keys(g, KEYS(e), g->q->nkeys);
    g->ops->release(g->q, ACCS(g, e));
}

static void release(weir_groups *g, uint8_t *e) { release_entry(g, e, false); }

/* Empties slot i and shifts later entries of its probe run back into it. */
static void remove_at(weir_groups *g, size_t i)
{
    size_t mask = g->cap - 1;
    memset(slot_at(g, i), 0, g->entry_size);
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        uint8_t *e = slot_at(g, j);
        if (!HASH(e))
            break;
        size_t home = HASH(e) & mask;
        /* e may fill the hole at i if its home is at or before i on its probe path */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            memcpy(slot_at(g, i), e, g->entry_size);
            memset(e, 0, g->entry_size);
            if ((HASH(slot_at(g, i)) & CHANGED_BIT) && note_changed(g, i))
                g->lost = true;
            i = j;
        }
    }
    g->n--;
}

/* Ends the entry at slot i: release_entry, out of the window lists, its slot emptied. */
static void forget(weir_groups *g, size_t i, bool dropped)
{
    uint8_t *e = slot_at(g, i);
    if (g->by_window)
        weir_gwin_remove(&g->windows, WINDOW(e), weir_groups_key_hash(g, KEYS(e)), KEYS(e));
    release_entry(g, e, dropped);
    remove_at(g, i);
}

/* The slot of the entry an item of the window lists copies (byte for
 * byte: its keys' TEXT is the entry's own); cap when absent, which the
 * lists' invariant rules out. */
static size_t slot_of_item(const weir_groups *g, int64_t window, uint64_t key_hash, const weir_value *keys)
{
    if (!g->cap)
        return 0;
    uint64_t h = entry_hash(key_hash, window);
    for (size_t i = h & (g->cap - 1);; i = (i + 1) & (g->cap - 1)) {
        const uint8_t *e = slot_at(g, i);
        if (!HASH(e))
            return g->cap;
        if ((HASH(e) & HASH_BITS) == h && WINDOW(e) == window &&
            memcmp(KEYS(e), keys, (size_t)g->q->nkeys * sizeof *keys) == 0)
            return i;
    }
}

/* Evicts whole windows from the front of the window lists: each entry is
 * found by its hash, so the cost is the evicted entries', not the table's. */
static void evict_by_window(weir_groups *g, int64_t before)
{
    weir_gwin *w = &g->windows;
    size_t nb = weir_gwin_seek(w, before);
    for (size_t b = 0; b < nb; b++)
        for (size_t j = 0; j < w->b[b].n; j++) {
            size_t i = slot_of_item(g, w->b[b].window, weir_gwin_hash(w, &w->b[b], j), weir_gwin_keys(w, &w->b[b], j));
            if (i < g->cap) {
                release(g, slot_at(g, i));
                remove_at(g, i);
            }
        }
    weir_gwin_drop_front(w, nb);
}

void weir_groups_evict(weir_groups *g, int64_t before)
{
    if (g->by_window) {
        evict_by_window(g, before);
        return;
    }
    for (size_t i = 0; i < g->cap;) {
        uint8_t *e = slot_at(g, i);
        if (HASH(e) && WINDOW(e) < before) {
            release(g, e);
            remove_at(g, i); /* another entry may have moved into i: look again */
        } else {
            i++;
        }
    }
}

void weir_groups_remove(weir_groups *g, const weir_value *keys, int64_t window)
{
    if (!g->cap)
        return;
    uint64_t h = hash_of(g, keys, window);
    for (size_t i = h & (g->cap - 1);; i = (i + 1) & (g->cap - 1)) {
        uint8_t *e = slot_at(g, i);
        if (!HASH(e))
            return;
        if (matches(g, e, h, keys, window)) {
            forget(g, i, false);
            return;
        }
    }
}

const weir_query *weir_groups_query(const weir_groups *g) { return g->q; }

size_t weir_groups_count(const weir_groups *g) { return g->n; }
size_t weir_groups_bytes(const weir_groups *g)
{
    return g->cap * g->entry_size + g->key_bytes + g->windows.bytes + weir_keyfilter_bytes(g->left);
}
size_t weir_groups_entry_size(const weir_groups *g) { return g->entry_size; }

void weir_groups_free(weir_groups *g)
{
    if (!g)
        return;
    g->keeping = false; /* freeing is not removing */
    for (size_t i = 0; i < g->cap; i++)
        if (HASH(slot_at(g, i)))
            release(g, slot_at(g, i));
    free(g->slots);
    free(g->changed);
    weir_buf_free(&g->removed);
    weir_gwin_free(&g->windows);
    weir_keyfilter_free(g->left);
    free(g);
}

void weir_groups_keep_changes(weir_groups *g, const weir_store *store, weir_groups_loader load, void *ctx)
{
    g->keeping = true;
    g->store = store;
    g->load = load;
    g->load_ctx = ctx;
    g->loading = load != NULL;
    g->unfiltered = true;
}

void weir_groups_filter_loads(weir_groups *g) { g->unfiltered = g->filter_lost; }

/* Adds hash h to the filter of entries memory lacks; on failure loads are unfiltered for good. */
static int filter_add(weir_groups *g, uint64_t h)
{
    if (!g->filter_lost && ((!g->left && !(g->left = weir_keyfilter_new())) || weir_keyfilter_add(g->left, h)))
        g->filter_lost = g->unfiltered = true; /* out of memory: every key memory lacks is looked up again */
    return g->filter_lost ? -1 : 0;
}

int weir_groups_filter_add(weir_groups *g, const weir_value *keys, int64_t window)
{
    return filter_add(g, hash_of(g, keys, window));
}

void weir_groups_stop_loading(weir_groups *g) { g->loading = false; }

static int by_slot(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

bool weir_groups_any_changed(const weir_groups *g) { return g->nchanged > 0; }

bool weir_groups_next_changed(weir_groups *g, size_t *pos, const weir_value **keys, int64_t *window, weir_acc **accs)
{
    if (*pos == 0 && g->nchanged > 1) /* in slot order: the walk reads the table front to back, not at random */
        qsort(g->changed, g->nchanged, sizeof *g->changed, by_slot);
    while (*pos < g->nchanged) {
        uint8_t *e = slot_at(g, g->changed[(*pos)++]);
        if (!(HASH(e) & CHANGED_BIT))
            continue; /* stale, or seen */
        HASH(e) = (HASH(e) & ~CHANGED_BIT) | STORED_BIT;
        *keys = KEYS(e);
        *window = WINDOW(e);
        *accs = ACCS(g, e);
        return true;
    }
    g->nchanged = 0;
    return false;
}

int weir_groups_take_removed(weir_groups *g, weir_buf *out)
{
    if (g->lost || weir_buf_append(out, g->removed.data, g->removed.len)) {
        g->lost = true;
        return -1;
    }
    g->removed.len = 0;
    return 0;
}

int weir_groups_store_key(const weir_store *s, const weir_value *keys_and_window, int nkeys, weir_buf *out, weir_err *err)
{
    return weir_rows_key(s, keys_and_window, NULL, nkeys + 1, out, err);
}

void weir_groups_tick(weir_groups *g) { g->tick++; }

/* Whether e may leave memory: the store has it as it is, and can give it back. */
static bool droppable(const weir_groups *g, const uint8_t *e)
{
    return g->load && !g->lost && (HASH(e) & (STORED_BIT | CHANGED_BIT)) == STORED_BIT;
}

/* What dropping e frees: its slot (counted twice: the table is between
 * 3/8 and 3/4 full) and its keys' text. */
static size_t entry_bytes(const weir_groups *g, const uint8_t *e)
{
    size_t n = 2 * g->entry_size;
    for (int j = 0; j < g->q->nkeys; j++)
        if (weir_type_has_text(KEYS(e)[j].type) && !KEYS(e)[j].is_null)
            n += KEYS(e)[j].len;
    return n;
}

static unsigned age_of(const weir_groups *g, const uint8_t *e)
{
    return weir_budget_age(g->tick, (uint16_t)((HASH(e) & TICK_BITS) >> TICK_SHIFT));
}

void weir_groups_droppable(const weir_groups *g, weir_budget_ages *ages)
{
    for (size_t i = 0; i < g->cap && g->load; i++) {
        const uint8_t *e = slot_at(g, i);
        if (HASH(e) && droppable(g, e))
            ages->bytes[age_of(g, e)] += entry_bytes(g, e);
    }
}

size_t weir_groups_drop(weir_groups *g, unsigned age, uint64_t at_age)
{
    size_t dropped = 0;
    for (size_t i = 0; i < g->cap;) {
        uint8_t *e = slot_at(g, i);
        unsigned a = HASH(e) && droppable(g, e) ? age_of(g, e) : 0;
        if (!HASH(e) || !droppable(g, e) || a < age || (a == age && !at_age)) {
            i++;
            continue;
        }
        if (a == age) {
            size_t b = entry_bytes(g, e);
            at_age -= b < at_age ? b : at_age;
        }
        (void)filter_add(g, HASH(e) & HASH_BITS); /* a failure is kept in g: loads unfiltered */
        forget(g, i, true); /* another entry may have moved into i: look again */
        dropped++;
    }
    size_t cap = 64;
    while (cap < g->n * 2)
        cap *= 2;
    if (cap < g->cap)
        (void)resize(g, cap); /* out of memory: the table stays as large as it was */
    if (dropped)
        g->loading = true; /* what left memory comes back from the store */
    return dropped;
}

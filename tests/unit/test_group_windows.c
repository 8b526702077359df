/*
 * test_group_windows.c - a windowed grouped-state table lists its entries
 * by window (state/group_windows.h): under random upserts, removals,
 * evictions and the resizes they cause, with TEXT keys that the table
 * owns, walking a range of windows visits exactly the live entries of
 * those windows, each once, in window order, and agrees with an unwindowed
 * table (which walks its slots) and a reference array; the lists' memory
 * is counted and given back; entries dropped from memory (--state-memory)
 * and restored from a store leave and join the lists as well.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../tap.h"
#include "exec/agg.h"
#include "state/groups.h"
#include "state/store.h"

enum { KEYS = 150, WINDOWS = 64 };
static int64_t ref[KEYS][WINDOWS];

static weir_value key_of(int k, char *buf)
{
    int n = snprintf(buf, 16, "city-%d", k);
    return weir_text(buf, (size_t)n);
}

static void add(weir_groups *g, const weir_query *q, int k, int w)
{
    char buf[16];
    weir_value key = key_of(k, buf);
    weir_acc *a = weir_groups_upsert(g, &key, w);
    weir_value yes[1] = {weir_bool(true)};
    int which;
    if (!a || weir_accs_add(q, a, yes, 1, &which))
        BAIL("out of memory");
}

/* Walks [lo, hi] of g: whether it visits each live reference entry in the range once, in window order. */
static bool walk_agrees(weir_groups *g, int64_t lo, int64_t hi, size_t *visited)
{
    static int64_t seen[KEYS][WINDOWS];
    memset(seen, 0, sizeof seen);
    weir_groups_walk walk = {0};
    const weir_value *keys;
    int64_t window, prev = INT64_MIN;
    uint64_t kh;
    bool good = true, windowed = weir_groups_query(g)->window.kind != WEIR_WINDOW_NONE;
    *visited = 0;
    while (weir_groups_next_window(g, &walk, lo, hi, &keys, &kh, &window)) {
        int k = 0; /* the key's number: the table's copy of the TEXT has no NUL */
        for (uint32_t i = 5; i < keys[0].len; i++)
            k = k * 10 + (keys[0].s[i] - '0');
        good &= window >= lo && window <= hi && window >= 0 && window < WINDOWS && k >= 0 && k < KEYS;
        if (!good)
            return false;
        good &= !seen[k][window]++ && ref[k][window] && kh == weir_groups_key_hash(g, keys) &&
                weir_groups_find_hashed(g, kh, keys, window) == weir_groups_find(g, keys, window) &&
                weir_groups_find(g, keys, window);
        good &= !windowed || window >= prev;
        prev = window;
        ++*visited;
    }
    for (int k = 0; k < KEYS; k++)
        for (int64_t w = lo < 0 ? 0 : lo; w <= hi && w < WINDOWS; w++)
            good &= (ref[k][w] != 0) == (seen[k][w] != 0);
    return good;
}

static bool same_as_ref(weir_groups *g, const weir_query *q)
{
    bool same = true;
    size_t live = 0;
    for (int k = 0; k < KEYS; k++)
        for (int w = 0; w < WINDOWS; w++) {
            char buf[16];
            weir_value key = key_of(k, buf);
            weir_acc *a = weir_groups_find(g, &key, w);
            same &= ref[k][w] ? a && weir_acc_result(q, a, 0).i == ref[k][w] : a == NULL;
            live += ref[k][w] != 0;
        }
    return same && weir_groups_count(g) == live;
}

static void test_random(void)
{
    weir_agg count = {.fn = WEIR_AGG_COUNT, .type = WEIR_TYPE_INT, .slot = 0};
    weir_query hop = {.nkeys = 1, .naggs = 1, .nslots = 1, .aggs = &count,
                      .window = {.kind = WEIR_WINDOW_HOP, .slide_ms = 1, .size_ms = 5}};
    weir_query plain = hop;
    plain.window.kind = WEIR_WINDOW_NONE;
    weir_groups *g = weir_groups_new(&hop, &weir_agg_acc_ops), *flat = weir_groups_new(&plain, &weir_agg_acc_ops);
    weir_groups_evict(g, 5); /* nothing listed yet (under SANITIZE=1: no memmove of a NULL array) */
    ok(weir_groups_count(g) == 0 && weir_groups_bytes(g) == 0, "evicting from a windowed table that never held an entry");
    int evicted_below = 0, newest = 8;
    bool same = true, walks = true, flat_walks = true;
    size_t ranges = 0, visited_total = 0, peak = 0;
    for (int round = 0; round < 300000; round++) {
        int k = (int)(tap_rand() % KEYS), r = (int)(tap_rand() % 100);
        /* windows near the newest, some behind: a partition that lags */
        int w = newest - (int)(tap_rand() % (r < 80 ? 3 : 12));
        if (w < evicted_below)
            w = evicted_below;
        if (r < 92) {
            add(g, &hop, k, w);
            add(flat, &plain, k, w);
            ref[k][w]++;
        } else if (r < 97) { /* a removal of one entry, present or not */
            char buf[16];
            weir_value key = key_of(k, buf);
            weir_groups_remove(g, &key, w);
            weir_groups_remove(flat, &key, w);
            ref[k][w] = 0;
        } else if (r == 97 && newest < WINDOWS - 1) {
            newest++;
        }
        if (weir_groups_count(g) > peak)
            peak = weir_groups_count(g);
        if (round % 5000 == 4999 && newest - evicted_below > 6) { /* windows close, oldest first */
            int before = evicted_below + 1 + (int)(tap_rand() % 3);
            weir_groups_evict(g, before);
            weir_groups_evict(flat, before);
            for (; evicted_below < before; evicted_below++)
                for (int i = 0; i < KEYS; i++)
                    ref[i][evicted_below] = 0;
        }
        if (round % 997 == 0) {
            int64_t lo = (int64_t)(tap_rand() % WINDOWS) - 4, hi = lo + (int64_t)(tap_rand() % 10);
            size_t v1, v2;
            walks &= walk_agrees(g, lo, hi, &v1);
            flat_walks &= walk_agrees(flat, lo, hi, &v2) && v1 == v2;
            visited_total += v1;
            ranges++;
        }
    }
    same = same_as_ref(g, &hop) && same_as_ref(flat, &plain);
    ok(same, "a windowed and a plain table match a reference after 300k upserts and removals (%zu live, %zu at most)",
       weir_groups_count(g), peak);
    ok(walks, "walking %zu ranges of windows visits their live entries once each, in window order (%zu in all)", ranges,
       visited_total);
    ok(flat_walks, "an unwindowed table's walk of the same ranges, by its slots, visits the same entries");
    size_t all = 0;
    bool agrees = walk_agrees(g, INT64_MIN, INT64_MAX, &all);
    ok(agrees && all == weir_groups_count(g), "a walk of every window visits all %zu", all);
    ok(weir_groups_bytes(g) > weir_groups_bytes(flat), "the lists by window are counted in the table's bytes (%zu > %zu)",
       weir_groups_bytes(g), weir_groups_bytes(flat));
    weir_groups_evict(g, INT64_MAX);
    weir_groups_evict(flat, INT64_MAX);
    memset(ref, 0, sizeof ref);
    agrees = walk_agrees(g, INT64_MIN, INT64_MAX, &all);
    ok(weir_groups_count(g) == 0 && agrees && all == 0, "evicting every window leaves nothing to walk");
    size_t empty = weir_groups_bytes(g);
    add(g, &hop, 1, 3);
    ref[1][3] = 1;
    agrees = walk_agrees(g, 0, WINDOWS, &all);
    ok(agrees && all == 1 && weir_groups_bytes(g) > empty, "an entry made after that is listed again");
    weir_groups_free(g);
    weir_groups_free(flat);
    memset(ref, 0, sizeof ref);
}

static int no_load(void *ctx, const weir_query *q, const weir_value *keys, int64_t window, weir_acc *accs)
{
    (void)ctx; (void)q; (void)keys; (void)window; (void)accs;
    return 0;
}

/* Entries the store holds leave memory (weir_groups_drop) and come back
 * from it (weir_groups_insert_stored): the lists follow. */
static void test_store_paths(void)
{
    weir_agg count = {.fn = WEIR_AGG_COUNT, .type = WEIR_TYPE_INT, .slot = 0};
    weir_query q = {.nkeys = 1, .naggs = 1, .nslots = 1, .aggs = &count,
                    .window = {.kind = WEIR_WINDOW_TUMBLE, .slide_ms = 1, .size_ms = 1}};
    char *dir = tap_tmpdir("group_windows");
    weir_store *s;
    weir_err err = {0};
    if (weir_store_open(dir, NULL, &s, &err))
        BAIL("%s", err.msg);
    weir_groups *g = weir_groups_new(&q, &weir_agg_acc_ops);
    weir_groups_keep_changes(g, s, no_load, NULL);
    for (int k = 0; k < 40; k++)
        for (int w = 0; w < 4; w++) {
            add(g, &q, k, w);
            ref[k][w] = 1;
        }
    /* a checkpoint's seal: every entry now held by the store */
    size_t pos = 0, sealed = 0;
    const weir_value *keys;
    int64_t window;
    weir_acc *accs;
    while (weir_groups_next_changed(g, &pos, &keys, &window, &accs))
        sealed++;
    weir_groups_tick(g);
    add(g, &q, 0, 0); /* changed again: it stays */
    weir_groups_tick(g);
    size_t dropped = weir_groups_drop(g, 0, UINT64_MAX);
    memset(ref, 0, sizeof ref);
    ref[0][0] = 2;
    size_t all = 0;
    bool agrees = walk_agrees(g, INT64_MIN, INT64_MAX, &all);
    ok(sealed == 160 && dropped == 159 && agrees && all == 1,
       "dropping the %zu entries the store holds takes them out of the lists (%zu left)", dropped, all);
    char buf[16];
    for (int k = 1; k < 40; k++) {
        weir_value key = key_of(k, buf);
        if (!weir_groups_insert_stored(g, &key, 2))
            BAIL("insert_stored");
        ref[k][2] = 1;
    }
    agrees = walk_agrees(g, INT64_MIN, INT64_MAX, &all);
    ok(agrees && all == 40,
       "groups read back from the store are listed by their window (%zu)", all);
    weir_buf removed = {0};
    weir_groups_evict(g, 3);
    int took = weir_groups_take_removed(g, &removed);
    ok(weir_groups_count(g) == 0 && took == 0 && removed.len > 0,
       "evicting them records their store keys for deletion (%zu bytes)", removed.len);
    weir_buf_free(&removed);
    weir_groups_free(g);
    weir_store_close(s);
    tap_rmrf(dir);
    free(dir);
    memset(ref, 0, sizeof ref);
}

int main(void)
{
    plan(11);
    tap_rng = 0x5eed5eed12345678ull;
    test_random();
    test_store_paths();
    return done();
}

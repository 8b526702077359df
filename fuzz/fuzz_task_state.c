/*
 * fuzz_task_state.c - a scale-out task store's records (exec/task_log.c:
 * heads, pieces with their undos, vouches) as arbitrary bytes make them,
 * read as a process taking a task over reads the Kafka topic: loading must
 * never crash or leak, and a whole save on top of whatever was read must
 * read back as what it had plus that save's changes.
 *
 * Input: records, each a flags byte (bit 0: a value, bit 1: an undo, bit 2:
 * vouches; bits 3-4: the key's kind, the task's head, one of its pieces or
 * another task's piece), an epoch byte, a sequence byte, then for the
 * piece's own key, the value, the undo and the vouches text each a length
 * byte and its bytes, each cut to what is left.
 */
#include <stdio.h>

#include "exec/task_log.h"
#include "fuzz.h"
#include "state/changes.h"

/* Takes up to a length byte's worth of bytes from *p; NULL if none are left. */
static const uint8_t *take(const uint8_t **p, const uint8_t *end, size_t *len)
{
    if (*p >= end) {
        *len = 0;
        return NULL;
    }
    *len = **p;
    (*p)++;
    if (*len > (size_t)(end - *p))
        *len = (size_t)(end - *p);
    const uint8_t *at = *p;
    *p += *len;
    return at;
}

/* The loaded pieces of s/0 as changes.h puts; a head whose count of
 * pieces is not what the log holds is refused (WEIR_ECORRUPT); any other
 * failure aborts. */
static int load(weir_task_log *l, weir_task_saved *s)
{
    weir_err err;
    int rc = weir_task_log_load(l, "s/0", s, &err);
    if (rc && rc != WEIR_ECORRUPT)
        abort();
    return rc;
}

/* Whether pieces holds key with exactly val (NULL: not at all). */
static bool holds(const weir_buf *pieces, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    size_t at = 0, kl, vl;
    const uint8_t *k, *v;
    while (weir_changes_next(pieces, &at, &k, &kl, &v, &vl))
        if (kl == klen && !memcmp(k, key, klen))
            return val && vl == vlen && !memcmp(v, val, vlen);
    return val == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_task_log *l = weir_task_log_new();
    if (!l)
        abort();
    const uint8_t *p = data, *end = data + size;
    uint64_t top_epoch = 0;
    while (end - p >= 3) {
        uint8_t flags = p[0];
        weir_task_record r = {.epoch = p[1], .seq = p[2], .writer = "w"};
        p += 3;
        size_t klen, vlen, ulen, elen;
        const uint8_t *k = take(&p, end, &klen), *v = take(&p, end, &vlen), *u = take(&p, end, &ulen), *e = take(&p, end, &elen);
        char key[300], epochs[300];
        int kind = flags >> 3 & 3;
        int n = snprintf(key, sizeof key, "%s", kind == 0 ? "state/s/0" : kind == 1 ? "piece/s/0:" : "piece/s/1:");
        if (kind && k)
            memcpy(key + n, k, klen), n += (int)klen;
        snprintf(epochs, sizeof epochs, "%.*s", (int)elen, e ? (const char *)e : "");
        r.key = (const uint8_t *)key;
        r.klen = (size_t)n;
        r.value = flags & 1 ? (v ? v : (const uint8_t *)"") : NULL;
        r.vlen = flags & 1 ? vlen : 0;
        r.undo = flags & 2 ? (u ? u : (const uint8_t *)"") : NULL;
        r.undo_len = flags & 2 ? ulen : 0;
        r.epochs = flags & 4 ? epochs : NULL;
        if (weir_task_log_apply(l, &r))
            abort();
        top_epoch = r.epoch > top_epoch ? r.epoch : top_epoch;
    }

    /* a takeover: what it read, then a whole save of its own with one piece changed, one added, one removed */
    weir_task_saved before = {0}, after = {0};
    if (load(l, &before)) /* what was read is short of its head's count: the takeover stops there */
        before.pieces.len = 0;
    weir_buf changes = {0};
    size_t at = 0, klen, vlen;
    const uint8_t *k, *v, *first = NULL;
    size_t first_len = 0;
    if (weir_changes_next(&before.pieces, &at, &k, &klen, &v, &vlen)) {
        first = k;
        first_len = klen;
        if (weir_changes_add(&changes, k, klen, NULL, 0))
            abort();
    }
    if (weir_changes_add(&changes, "\x01new", 4, "v", 1))
        abort();
    weir_task_save_plan plan;
    weir_err err;
    if (weir_task_log_plan(l, "s/0", top_epoch + 1, "taker", (const uint8_t *)"head", 4, &changes, &plan, &err))
        abort();
    for (size_t i = 0; i < plan.n; i++)
        if ((i == plan.n - 1 && weir_task_log_count(l, "s/0", &plan)) || weir_task_log_apply(l, &plan.records[i]))
            abort();
    weir_task_save_plan_free(&plan);
    if (load(l, &after) || !after.found || after.state.len != 4 || !holds(&after.pieces, (const uint8_t *)"\x01new", 4, (const uint8_t *)"v", 1) ||
        (first && !holds(&after.pieces, first, first_len, NULL, 0)))
        abort();
    at = 0; /* every other piece read as before the save */
    while (weir_changes_next(&before.pieces, &at, &k, &klen, &v, &vlen))
        if (k != first && !(klen == 4 && !memcmp(k, "\x01new", 4)) && !holds(&after.pieces, k, klen, v, vlen))
            abort();
    weir_buf_free(&changes);
    weir_buf_free(&before.state);
    weir_buf_free(&before.pieces);
    weir_buf_free(&after.state);
    weir_buf_free(&after.pieces);
    weir_task_log_free(l);
    return 0;
}

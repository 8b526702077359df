/*
 * task_log.c - the kept records of a task store and what a task's state
 * resolves to (task_log.h says the rules).
 *
 * The records are held in an open-addressing table by key. Loading or
 * saving a task walks every record for its own (the store holds a whole
 * group's tasks): its cost follows the group's state, not its history.
 */
#include "exec/task_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "state/changes.h"

typedef struct entry {
    uint8_t *key;
    size_t klen;
    bool has_value, has_undo;
    weir_buf value, undo, epochs; /* epochs: a head's list, NUL-terminated, or empty */
    uint64_t epoch, seq;
    char writer[64];
    bool counted;               /* a head that says how many pieces its task holds: npieces */
    uint64_t npieces;
} entry;

struct weir_task_log {
    entry **slots;              /* open addressing by XXH64 of the key; NULL: free */
    size_t cap, n;
    /* Per task, its head as the last load answered it (its value left out):
     * the first save of a new epoch vouches for what was restored, not for
     * a stale owner's head that arrived since. NULL in that log itself. */
    struct weir_task_log *restored;
};

/* One epoch a head vouches for: its pieces count up to seq. */
typedef struct vouch {
    uint64_t epoch, seq;
} vouch;

weir_task_log *weir_task_log_new(void)
{
    weir_task_log *l = calloc(1, sizeof *l);
    if (l && !(l->restored = calloc(1, sizeof *l->restored))) {
        free(l);
        return NULL;
    }
    return l;
}

static void entry_free(entry *e)
{
    free(e->key);
    weir_buf_free(&e->value);
    weir_buf_free(&e->undo);
    weir_buf_free(&e->epochs);
    free(e);
}

void weir_task_log_free(weir_task_log *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->cap; i++)
        if (l->slots[i])
            entry_free(l->slots[i]);
    free(l->slots);
    weir_task_log_free(l->restored);
    free(l);
}

static size_t slot_of(const weir_task_log *l, const void *key, size_t klen)
{
    size_t i = (size_t)XXH64(key, klen, 0) & (l->cap - 1);
    while (l->slots[i] && !(l->slots[i]->klen == klen && !memcmp(l->slots[i]->key, key, klen)))
        i = (i + 1) & (l->cap - 1);
    return i;
}

static entry *find(const weir_task_log *l, const void *key, size_t klen)
{
    return l->cap ? l->slots[slot_of(l, key, klen)] : NULL;
}

static int grow(weir_task_log *l)
{
    size_t cap = l->cap ? l->cap * 2 : 64;
    entry **slots = calloc(cap, sizeof *slots), **old = l->slots;
    if (!slots)
        return -1;
    size_t old_cap = l->cap;
    l->slots = slots;
    l->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            slots[slot_of(l, old[i]->key, old[i]->klen)] = old[i];
    free(old);
    return 0;
}

static int set_bytes(weir_buf *b, bool *has, const uint8_t *p, size_t len)
{
    b->len = 0;
    if (has)
        *has = p != NULL;
    return p && weir_buf_append(b, p, len) ? -1 : 0;
}

int weir_task_log_apply(weir_task_log *l, const weir_task_record *r)
{
    entry *e = find(l, r->key, r->klen);
    /* the latest of the highest epoch; within an epoch, not an older save's (a record read back after a newer one was kept) */
    if (e && (r->epoch < e->epoch || (r->epoch == e->epoch && r->seq < e->seq)))
        return 0;
    if (!e) {
        if ((l->n + 1) * 4 > l->cap * 3 && grow(l))
            return -1;
        if (!(e = calloc(1, sizeof *e)) || !(e->key = malloc(r->klen ? r->klen : 1))) {
            free(e);
            return -1;
        }
        memcpy(e->key, r->key, r->klen);
        e->klen = r->klen;
        l->slots[slot_of(l, r->key, r->klen)] = e;
        l->n++;
    }
    e->epoch = r->epoch;
    e->seq = r->seq;
    e->counted = r->counted;
    e->npieces = r->npieces;
    snprintf(e->writer, sizeof e->writer, "%s", r->writer ? r->writer : "");
    if (set_bytes(&e->value, &e->has_value, r->value, r->vlen) || set_bytes(&e->undo, &e->has_undo, r->undo, r->undo_len) ||
        set_bytes(&e->epochs, NULL, (const uint8_t *)r->epochs, r->epochs ? strlen(r->epochs) + 1 : 0))
        return -1;
    return 0;
}

static void as_record(const entry *e, weir_task_record *r)
{
    *r = (weir_task_record){e->key, e->klen, e->has_value ? e->value.data : NULL, e->value.len, e->epoch, e->seq, e->writer,
                            e->has_undo ? e->undo.data : NULL, e->undo.len,
                            e->epochs.len ? (const char *)e->epochs.data : NULL, e->counted, e->npieces};
}

bool weir_task_log_get(const weir_task_log *l, const void *key, size_t klen, weir_task_record *out)
{
    const entry *e = find(l, key, klen);
    if (e)
        as_record(e, out);
    return e != NULL;
}

/* The epochs head vouches for (its list; a head from before pieces: its own epoch, nothing saved in pieces). */
static int vouches_in(const char *text, uint64_t epoch, uint64_t seq, vouch **out, size_t *n)
{
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    vouch *v = malloc(cap * sizeof *v);
    if (!v)
        return -1;
    const char *p = text;
    *n = 0;
    while (*p && *n < cap) {
        char *end;
        uint64_t e = strtoull(p, &end, 10), s = *end == ':' ? strtoull(end + 1, &end, 10) : 0;
        v[(*n)++] = (vouch){e, s};
        p = *end == ',' ? end + 1 : end + strlen(end);
    }
    if (!*n)
        v[(*n)++] = (vouch){epoch, seq};
    *out = v;
    return 0;
}

static int vouches_of(const entry *head, vouch **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    return head ? vouches_in(head->epochs.len ? (const char *)head->epochs.data : "", head->epoch, head->seq, out, n) : 0;
}

/* Whether piece e is of a save its head saw whole. */
static bool counts(const entry *e, const vouch *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].epoch == e->epoch)
            return e->seq <= v[i].seq;
    return false;
}

/* What piece e holds by the head's vouches: its value, its undo, or nothing (*val NULL). */
static void resolve(const entry *e, const vouch *v, size_t n, const uint8_t **val, size_t *len)
{
    bool mine = counts(e, v, n);
    bool has = mine ? e->has_value : e->has_undo;
    const weir_buf *b = mine ? &e->value : &e->undo;
    *val = has ? b->data : NULL;
    *len = has ? b->len : 0;
    if (has && !*val) /* an empty value */
        *val = (const uint8_t *)"";
}

static int key_of(weir_buf *out, const char *kind, const char *task)
{
    out->len = 0;
    return weir_buf_printf(out, "%s/%s%s", kind, task, strcmp(kind, "piece") ? "" : ":");
}

/* Whether e is one of task's records (its head, claim or a piece: prefixes made by key_of). */
static bool of_task(const entry *e, const weir_buf *head_key, const weir_buf *owner_key, const weir_buf *prefix)
{
    return (e->klen == head_key->len && !memcmp(e->key, head_key->data, head_key->len)) ||
           (e->klen == owner_key->len && !memcmp(e->key, owner_key->data, owner_key->len)) ||
           (e->klen >= prefix->len && !memcmp(e->key, prefix->data, prefix->len));
}

int weir_task_log_load(weir_task_log *l, const char *task, weir_task_saved *out, weir_err *err)
{
    weir_buf head_key = {0}, owner_key = {0}, prefix = {0};
    vouch *v = NULL;
    size_t nv = 0;
    uint64_t npieces = 0;
    int rc = key_of(&head_key, "state", task) || key_of(&owner_key, "owner", task) || key_of(&prefix, "piece", task)
                 ? WEIR_ENOMEM : WEIR_OK;
    const entry *head = rc ? NULL : find(l, head_key.data, head_key.len);
    if (rc == WEIR_OK && vouches_of(head, &v, &nv))
        rc = WEIR_ENOMEM;
    out->found = head && head->has_value;
    out->state.len = out->pieces.len = 0;
    out->last_epoch = 0;
    if (rc == WEIR_OK && out->found) {
        out->epoch = head->epoch;
        snprintf(out->writer, sizeof out->writer, "%s", head->writer);
        weir_task_record restored = {head->key, head->klen, NULL, 0, head->epoch, head->seq, head->writer, NULL, 0,
                                     head->epochs.len ? (const char *)head->epochs.data : NULL, false, 0};
        if (weir_buf_append(&out->state, head->value.data, head->value.len) || weir_task_log_apply(l->restored, &restored))
            rc = WEIR_ENOMEM;
    }
    for (size_t i = 0; rc == WEIR_OK && i < l->cap; i++) {
        const entry *e = l->slots[i];
        const uint8_t *val;
        size_t len;
        if (!e || !of_task(e, &head_key, &owner_key, &prefix))
            continue;
        out->last_epoch = e->epoch > out->last_epoch ? e->epoch : out->last_epoch;
        if (!out->found || !head->seq || e->klen < prefix.len || memcmp(e->key, prefix.data, prefix.len))
            continue; /* a head of before pieces (no sequence number) has none */
        resolve(e, v, nv, &val, &len);
        if (val && weir_changes_add(&out->pieces, e->key + prefix.len, e->klen - prefix.len, val, len))
            rc = WEIR_ENOMEM;
        npieces += val != NULL;
    }
    free(v);
    weir_buf_free(&head_key);
    weir_buf_free(&owner_key);
    weir_buf_free(&prefix);
    if (rc)
        return weir_err_set(err, rc, "out of memory loading the state of %s", task);
    if (out->found && head->counted && npieces != head->npieces)
        return weir_err_set(err, WEIR_ECORRUPT, "the state of %s in its task store holds %" PRIu64 " of the %" PRIu64
                            " groups its last save left: records were deleted (the state topic must be compacted, "
                            "cleanup.policy=compact, with no retention)", task, npieces, head->npieces);
    return WEIR_OK;
}

/* How many of task's pieces count under the vouches of head r (its own save's pieces applied). */
static int count_pieces(const weir_task_log *l, const weir_buf *prefix, const weir_task_record *r, uint64_t *n)
{
    vouch *v;
    size_t nv;
    if (vouches_in(r->epochs ? r->epochs : "", r->epoch, r->seq, &v, &nv))
        return -1;
    *n = 0;
    for (size_t i = 0; i < l->cap; i++) {
        const entry *e = l->slots[i];
        const uint8_t *val;
        size_t len;
        if (!e || e->klen < prefix->len || memcmp(e->key, prefix->data, prefix->len))
            continue;
        resolve(e, v, nv, &val, &len);
        *n += val != NULL;
    }
    free(v);
    return 0;
}

int weir_task_log_count(const weir_task_log *l, const char *task, weir_task_save_plan *p)
{
    weir_buf prefix = {0};
    weir_task_record *head = &p->records[p->n - 1];
    int rc = key_of(&prefix, "piece", task) || count_pieces(l, &prefix, head, &head->npieces) ? -1 : 0;
    head->counted = rc == 0;
    weir_buf_free(&prefix);
    return rc;
}

void weir_task_save_plan_free(weir_task_save_plan *p)
{
    free(p->records);
    weir_buf_free(&p->bytes);
    *p = (weir_task_save_plan){0};
}

/* Appends bytes to the plan's buffer; their offset into it, or SIZE_MAX when out of memory. */
static size_t keep(weir_task_save_plan *p, const void *a, size_t alen, const void *b, size_t blen)
{
    size_t at = p->bytes.len;
    return weir_buf_append(&p->bytes, a, alen) || weir_buf_append(&p->bytes, b, blen) ? SIZE_MAX : at;
}

/* The head's vouches after this save: this epoch's up to seq, and each
 * other one that a piece of the task left in the log still needs. */
static int vouch_text(const weir_task_log *l, const weir_buf *prefix, const vouch *v, size_t nv, uint64_t epoch,
                      uint64_t seq, weir_buf *out)
{
    int rc = weir_buf_printf(out, "%" PRIu64 ":%" PRIu64, epoch, seq);
    for (size_t j = 0; j < nv && !rc; j++) {
        bool needed = false;
        for (size_t i = 0; i < l->cap && !needed && v[j].epoch != epoch; i++) {
            const entry *e = l->slots[i];
            needed = e && e->epoch == v[j].epoch && e->klen >= prefix->len && !memcmp(e->key, prefix->data, prefix->len);
        }
        if (needed)
            rc = weir_buf_printf(out, ",%" PRIu64 ":%" PRIu64, v[j].epoch, v[j].seq);
    }
    return rc || weir_buf_append(out, "", 1) ? -1 : 0;
}

int weir_task_log_plan(const weir_task_log *l, const char *task, uint64_t epoch, const char *writer, const uint8_t *head,
                       size_t hlen, const weir_buf *pieces, weir_task_save_plan *out, weir_err *err)
{
    *out = (weir_task_save_plan){0};
    weir_buf head_key = {0}, prefix = {0}, epochs = {0};
    vouch *v = NULL;
    size_t nv = 0, n = 1, at = 0, klen, vlen;
    const uint8_t *k, *val;
    int rc = key_of(&head_key, "state", task) || key_of(&prefix, "piece", task) ? WEIR_ENOMEM : WEIR_OK;
    const entry *h = rc ? NULL : find(l, head_key.data, head_key.len);
    /* this epoch's own head, else the head this process restored (not one a stale owner wrote since) */
    const entry *restored = rc ? NULL : find(l->restored, head_key.data, head_key.len);
    const entry *base = h && h->epoch == epoch ? h : restored ? restored : h; /* h: a save with no load before it */
    weir_buf owner_key = {0};
    const entry *claim = rc || key_of(&owner_key, "owner", task) ? NULL : find(l, owner_key.data, owner_key.len);
    weir_buf_free(&owner_key);
    if (claim && claim->epoch > epoch)
        h = claim; /* claimed since by another process: the same refusal */
    if (rc == WEIR_OK && h && h->epoch > epoch)
        rc = weir_err_set(err, WEIR_EBUSY, "%s was taken at epoch %" PRIu64 " by %s, after this process's %" PRIu64
                          ": another process owns it now", task, h->epoch, h->writer, epoch);
    else if (rc == WEIR_OK && vouches_of(base, &v, &nv))
        rc = WEIR_ENOMEM;
    while (rc == WEIR_OK && weir_changes_next(pieces, &at, &k, &klen, &val, &vlen))
        n++;
    if (rc == WEIR_OK && !(out->records = calloc(n, sizeof *out->records)))
        rc = WEIR_ENOMEM;
    uint64_t seq = h && h->epoch == epoch ? h->seq + 1 : 1;
    /* first every offset into bytes (which may move as it grows), then the pointers */
    size_t *key_at = rc == WEIR_OK ? calloc(n, 2 * sizeof *key_at) : NULL;
    if (rc == WEIR_OK && !key_at)
        rc = WEIR_ENOMEM;
    at = 0;
    for (size_t i = 0; rc == WEIR_OK && weir_changes_next(pieces, &at, &k, &klen, &val, &vlen); i++) {
        weir_task_record *r = &out->records[i];
        const entry *was = NULL;
        const uint8_t *undo = NULL;
        size_t undo_len = 0;
        key_at[2 * i] = keep(out, prefix.data, prefix.len, k, klen);
        if (key_at[2 * i] != SIZE_MAX && (was = find(l, out->bytes.data + key_at[2 * i], prefix.len + klen)))
            resolve(was, v, nv, &undo, &undo_len);
        key_at[2 * i + 1] = undo ? keep(out, undo, undo_len, NULL, 0) : SIZE_MAX - 1;
        if (key_at[2 * i] == SIZE_MAX || key_at[2 * i + 1] == SIZE_MAX)
            rc = WEIR_ENOMEM;
        *r = (weir_task_record){NULL, prefix.len + klen, val, vlen, epoch, seq, writer, NULL, undo_len, NULL, false, 0};
    }
    if (rc == WEIR_OK && vouch_text(l, &prefix, v, nv, epoch, seq, &epochs))
        rc = WEIR_ENOMEM;
    size_t epochs_at = rc == WEIR_OK ? keep(out, epochs.data, epochs.len, NULL, 0) : SIZE_MAX;
    size_t head_key_at = rc == WEIR_OK ? keep(out, head_key.data, head_key.len, NULL, 0) : SIZE_MAX;
    if (rc == WEIR_OK && (epochs_at == SIZE_MAX || head_key_at == SIZE_MAX))
        rc = WEIR_ENOMEM;
    if (rc == WEIR_OK) {
        for (size_t i = 0; i + 1 < n; i++) {
            out->records[i].key = out->bytes.data + key_at[2 * i];
            out->records[i].undo = key_at[2 * i + 1] == SIZE_MAX - 1 ? NULL : out->bytes.data + key_at[2 * i + 1];
        }
        out->records[n - 1] = (weir_task_record){out->bytes.data + head_key_at, head_key.len, head, hlen, epoch, seq, writer,
                                                 NULL, 0, (const char *)out->bytes.data + epochs_at, false, 0};
        out->n = n;
    }
    free(key_at);
    free(v);
    weir_buf_free(&head_key);
    weir_buf_free(&prefix);
    weir_buf_free(&epochs);
    if (rc)
        weir_task_save_plan_free(out);
    return rc == WEIR_ENOMEM ? weir_err_set(err, rc, "out of memory saving the state of %s", task) : rc;
}

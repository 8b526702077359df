/*
 * topk.c - Space-Saving top-k (see topk.h). Lookups scan the counters,
 * which is cheap at CAP <= 512 and keeps the structure simple.
 */
#include "exec/topk.h"

#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"

static int setup(weir_topk *t, uint32_t k)
{
    if (t->items)
        return 0;
    t->k = k;
    t->cap = k * 16 > 256 ? k * 16 : 256;
    t->items = calloc(t->cap, sizeof *t->items);
    return t->items ? 0 : WEIR_ENOMEM;
}

static int set_json(weir_topk_item *it, const char *json, size_t len)
{
    char *s = malloc(len ? len : 1);
    if (!s)
        return WEIR_ENOMEM;
    memcpy(s, json, len);
    free(it->json);
    it->json = s;
    it->json_len = (uint32_t)len;
    return 0;
}

/* Counts `count` more of the value with this hash and JSON text. */
static int add_hashed(weir_topk *t, uint64_t hash, const char *json, size_t len, int64_t count, int64_t err)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->items[i].hash == hash) {
            if (__builtin_add_overflow(t->items[i].count, count, &t->items[i].count))
                t->items[i].count = INT64_MAX; /* a count past 2^63 saturates */
            if (__builtin_add_overflow(t->items[i].err, err, &t->items[i].err))
                t->items[i].err = INT64_MAX;
            return 0;
        }
    if (t->n < t->cap) {
        weir_topk_item *it = &t->items[t->n];
        if (set_json(it, json, len))
            return WEIR_ENOMEM;
        it->hash = hash;
        it->count = count;
        it->err = err;
        t->n++;
        return 0;
    }
    uint32_t min = 0; /* replace the least counted: the newcomer inherits its count as error */
    for (uint32_t i = 1; i < t->n; i++)
        if (t->items[i].count < t->items[min].count)
            min = i;
    weir_topk_item *it = &t->items[min];
    if (set_json(it, json, len))
        return WEIR_ENOMEM;
    it->hash = hash;
    if (__builtin_add_overflow(it->count, err, &it->err))
        it->err = INT64_MAX;
    if (__builtin_add_overflow(it->count, count, &it->count))
        it->count = INT64_MAX;
    return 0;
}

int weir_topk_add(weir_topk *t, uint32_t k, const weir_value *v, int64_t count)
{
    if (setup(t, k))
        return WEIR_ENOMEM;
    weir_buf b = {0};
    int rc = weir_value_to_json(&b, v) ? WEIR_ENOMEM
                                       : add_hashed(t, weir_value_hash(v, 0), (const char *)b.data, b.len, count, 0);
    weir_buf_free(&b);
    return rc;
}

/* Ranks by guaranteed count (count - err): a newcomer that inherited a
 * large error does not push out a value really seen more often. */
static int by_count(const void *pa, const void *pb)
{
    const weir_topk_item *a = pa, *b = pb;
    if (a->count - a->err != b->count - b->err)
        return a->count - a->err > b->count - b->err ? -1 : 1;
    uint32_t n = a->json_len < b->json_len ? a->json_len : b->json_len;
    int c = memcmp(a->json, b->json, n);
    return c ? c : (int)a->json_len - (int)b->json_len;
}

int weir_topk_merge(weir_topk *dst, const weir_topk *src)
{
    if (!src->n)
        return 0;
    if (setup(dst, src->k))
        return WEIR_ENOMEM;
    for (uint32_t i = 0; i < src->n; i++) {
        const weir_topk_item *it = &src->items[i];
        if (add_hashed(dst, it->hash, it->json, it->json_len, it->count, it->err))
            return WEIR_ENOMEM;
    }
    return 0;
}

weir_value weir_topk_result(weir_topk *t)
{
    t->result.len = 0;
    if (t->n)
        qsort(t->items, t->n, sizeof *t->items, by_count);
    int rc = weir_buf_append(&t->result, "[", 1);
    for (uint32_t i = 0; i < t->n && i < t->k && !rc; i++)
        rc = (i && weir_buf_append(&t->result, ",", 1)) || weir_buf_append_str(&t->result, "{\"value\":") ||
             weir_buf_append(&t->result, t->items[i].json, t->items[i].json_len) ||
             weir_buf_printf(&t->result, ",\"count\":%lld}", (long long)t->items[i].count);
    if (rc || weir_buf_append(&t->result, "]", 1))
        return weir_null(WEIR_TYPE_JSON);
    weir_value v = weir_text((const char *)t->result.data, t->result.len);
    v.type = WEIR_TYPE_JSON;
    return v;
}

void weir_topk_free(weir_topk *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(t->items[i].json);
    free(t->items);
    weir_buf_free(&t->result);
    memset(t, 0, sizeof *t);
}

int weir_topk_save(const weir_topk *t, weir_buf *out)
{
    int rc = weir_put_u32(out, t->k) || weir_put_u32(out, t->n);
    for (uint32_t i = 0; i < t->n && !rc; i++)
        rc = weir_put_u64(out, t->items[i].hash) || weir_put_u64(out, (uint64_t)t->items[i].count) ||
             weir_put_u64(out, (uint64_t)t->items[i].err) || weir_put_bytes(out, t->items[i].json, t->items[i].json_len);
    return rc;
}

int weir_topk_load(weir_topk *t, weir_reader_buf *in)
{
    uint32_t k = weir_get_u32(in), n = weir_get_u32(in);
    if (in->bad || k == 0 || k > WEIR_TOPK_MAX_K || setup(t, k) || n > t->cap)
        return in->bad = true, -1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t hash = weir_get_u64(in);
        int64_t count = (int64_t)weir_get_u64(in), err = (int64_t)weir_get_u64(in);
        uint32_t len;
        const uint8_t *json = weir_get_bytes(in, &len);
        if (!json || count < 0 || err < 0 || err > count)
            return in->bad = true, -1;
        if (add_hashed(t, hash, (const char *)json, len, count, err))
            return -1;
    }
    return 0;
}

/*
 * test_window_expiry.c - a windowed table's rows by window end until
 * their retention passes (exec/window_expiry.h): taken from the front
 * in the order listed, a row listed behind a later end leaving with it,
 * TEXT keys owned, a checkpoint's bytes read back and damage refused.
 */
#include <stdio.h>
#include <string.h>

#include "../tap.h"
#include "base/err.h"
#include "exec/window_expiry.h"

/* Appends "key@ws-we " for each row taken to the string ctx. */
static int note(void *ctx, const weir_value *keys, int64_t ws, int64_t we)
{
    char *s = ctx;
    snprintf(s + strlen(s), 512 - strlen(s), "%.*s:%lld@%lld-%lld ", (int)keys[0].len, keys[0].s, (long long)keys[1].i,
             (long long)ws, (long long)we);
    return 0;
}

static int refuse(void *ctx, const weir_value *keys, int64_t ws, int64_t we)
{
    (void)ctx; (void)keys; (void)ws; (void)we;
    return 7;
}

static int add(weir_expiry *x, const char *text, int64_t n, int64_t ws, int64_t we)
{
    char copy[32];
    snprintf(copy, sizeof copy, "%s", text);
    weir_value keys[2] = {weir_text(copy, strlen(copy)), weir_int(n)};
    int rc = weir_expiry_add(x, keys, ws, we);
    memset(copy, 'X', sizeof copy - 1); /* the list holds its own copy */
    return rc;
}

int main(void)
{
    plan(12);
    weir_expiry *x = weir_expiry_new(2);
    if (!x)
        BAIL("out of memory");
    ok(weir_expiry_first_end(x) == INT64_MAX, "an empty list has no first end");
    int failed = add(x, "a", 1, 0, 60) | add(x, "b", 2, 0, 60) | add(x, "c", 3, 60, 120) | add(x, "s", 4, 10, 90) |
                 add(x, "d", 5, 120, 180);
    ok(!failed && weir_expiry_rows(x) == 5 && weir_expiry_first_end(x) == 60, "five rows over four window ends");
    char got[512] = "";
    ok(weir_expiry_take(x, 59, note, got) == WEIR_OK && !*got, "nothing ends by 59");
    ok(weir_expiry_take(x, 90, note, got) == WEIR_OK && !strcmp(got, "a:1@0-60 b:2@0-60 "),
       "by 90: the rows ending at 60, in the order listed; the one ending at 90 waits behind 120: %s", got);
    ok(weir_expiry_rows(x) == 3 && weir_expiry_first_end(x) == 120, "three rows left, the first ending at 120");

    weir_buf saved = {0};
    ok(weir_expiry_save(x, &saved) == WEIR_OK, "saved");
    weir_expiry *y = weir_expiry_new(2);
    weir_reader_buf r = {saved.data, saved.data + saved.len, false};
    ok(y && weir_expiry_load(y, &r) == WEIR_OK && r.p == r.end && weir_expiry_rows(y) == 3, "read back whole");
    got[0] = 0;
    ok(weir_expiry_take(y, INT64_MAX, note, got) == WEIR_OK && !strcmp(got, "c:3@60-120 s:4@10-90 d:5@120-180 ") &&
       weir_expiry_rows(y) == 0 && weir_expiry_first_end(y) == INT64_MAX, "the copy gives the same rows: %s", got);

    ok(weir_expiry_take(x, 200, refuse, NULL) == 7 && weir_expiry_rows(x) == 3, "a refusal stops the take, keeping the rows");

    int bad = 0;
    for (size_t cut = 0; cut < saved.len; cut++) { /* every truncation is damage, never a crash */
        weir_reader_buf t = {saved.data, saved.data + cut, false};
        bad += weir_expiry_load(y, &t) == WEIR_ECORRUPT;
    }
    ok(bad == (int)saved.len, "every truncation is refused (%d of %zu)", bad, saved.len);
    saved.data[8 + 4 + 8 + 8] ^= 0x7f; /* the first row's first key's type */
    r = (weir_reader_buf){saved.data, saved.data + saved.len, false};
    ok(weir_expiry_load(y, &r) == WEIR_ECORRUPT, "a damaged row is refused");
    for (int i = 0; i < 1000 && !failed; i++)
        failed |= add(x, "many", i, 1000 + i, 1060 + i);
    got[0] = 0;
    ok(!failed && weir_expiry_rows(x) == 1003 && weir_expiry_bytes(x) < 1003 * 2 * 40,
       "rows appended by the thousand, about 40 bytes each (%zu bytes)", weir_expiry_bytes(x));
    weir_buf_free(&saved);
    weir_expiry_free(y);
    weir_expiry_free(x);
    return done();
}

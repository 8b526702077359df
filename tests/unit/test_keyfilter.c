/*
 * test_keyfilter.c - the filter of the keys that left memory
 * (state/keyfilter.h): never a false "no", over several layers; about 1%
 * false "maybe" per layer; memory grows by layers as keys are added.
 */
#include "../tap.h"
#include "state/keyfilter.h"

/* Distinct hashes, as weak in their low bits as a table's can be: i * a constant. */
static uint64_t key(uint64_t i) { return (i + 1) * 0x100000001ull; }

int main(void)
{
    plan(7);
    ok(!weir_keyfilter_maybe(NULL, 42), "no filter holds nothing");
    weir_keyfilter *f = weir_keyfilter_new();
    if (!f)
        BAIL("out of memory");
    ok(!weir_keyfilter_maybe(f, key(0)), "an empty filter holds nothing");
    const uint64_t n = 1000000; /* past the first layers (64Ki keys, then twice as many each) */
    int failed = 0;
    for (uint64_t i = 0; i < n; i++)
        failed |= weir_keyfilter_add(f, key(i));
    ok(!failed, "a million keys added");
    uint64_t missed = 0;
    for (uint64_t i = 0; i < n; i++)
        missed += !weir_keyfilter_maybe(f, key(i));
    is_int(missed, 0, "every key added may be there: no false no");
    uint64_t maybe = 0;
    for (uint64_t i = n; i < 2 * n; i++)
        maybe += weir_keyfilter_maybe(f, key(i));
    diag("false maybes: %llu of %llu, %zu bytes", (unsigned long long)maybe, (unsigned long long)n, weir_keyfilter_bytes(f));
    ok(maybe < n / 20, "keys never added: under 5%% false maybes over 5 layers (%llu)", (unsigned long long)maybe);
    /* 64Ki + 128Ki + 256Ki + 512Ki + 1Mi keys' room at 12 bits: 3 MiB */
    ok(weir_keyfilter_bytes(f) > n * 12 / 8 && weir_keyfilter_bytes(f) < 4u << 20, "bytes by layers: %zu",
       weir_keyfilter_bytes(f));
    weir_keyfilter *g = weir_keyfilter_new();
    ok(g && weir_keyfilter_add(g, 7) == 0 && weir_keyfilter_maybe(g, 7) && weir_keyfilter_bytes(g) < 200u << 10,
       "one key: one first layer of 96 KiB");
    weir_keyfilter_free(g);
    weir_keyfilter_free(f);
    return done();
}

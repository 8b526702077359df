/*
 * replay_main.c - runs a fuzz target without libFuzzer: each file named on
 * the command line, then MUTATIONS (default 2000, $FUZZ_MUTATIONS)
 * deterministic mutations of each (bit flips, byte changes, cuts, splices),
 * and prints one TAP line per file. A crash or sanitizer report fails the
 * test that runs it (tests/fuzz_replay.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            uint8_t *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

static void mutate(uint8_t *m, size_t *len, const uint8_t *orig, size_t olen, size_t cap)
{
    memcpy(m, orig, olen);
    *len = olen;
    int edits = 1 + (int)(next() % 4);
    for (int e = 0; e < edits && *len > 0; e++) {
        size_t at = next() % *len;
        switch (next() % 5) {
        case 0: m[at] ^= (uint8_t)(1u << (next() % 8)); break;
        case 1: m[at] = (uint8_t)next(); break;
        case 2: *len = at; break;                                    /* cut */
        case 3: m[at] = "{}[]\",:\\\n0e-"[next() % 13]; break;       /* JSON-ish byte */
        case 4: if (*len < cap) { memmove(m + at + 1, m + at, *len - at); m[at] = (uint8_t)next(); (*len)++; } break;
        }
    }
}

int main(int argc, char **argv)
{
    int mutations = getenv("FUZZ_MUTATIONS") ? atoi(getenv("FUZZ_MUTATIONS")) : 2000;
    printf("1..%d\n", argc - 1);
    for (int i = 1; i < argc; i++) {
        size_t len;
        uint8_t *data = read_file(argv[i], &len);
        if (!data) {
            printf("not ok %d - cannot read %s\n", i, argv[i]);
            continue;
        }
        LLVMFuzzerTestOneInput(data, len);
        size_t cap = len + 64, mlen;
        uint8_t *m = malloc(cap);
        for (int k = 0; m && k < mutations; k++) {
            mutate(m, &mlen, data, len, cap);
            LLVMFuzzerTestOneInput(m, mlen);
        }
        printf("ok %d - %s and %d mutations\n", i, argv[i], mutations);
        fflush(stdout);
        free(m);
        free(data);
    }
    return 0;
}

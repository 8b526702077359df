/*
 * fuzz_store_format.c - the state store's format marker (state/format.c):
 * the input is the marker's value, written into a store by LMDB itself.
 * Opening the store (read-only, then as a writer) either refuses it with
 * an error or opens it, and opens it exactly when the value is 4 bytes
 * naming a format this weir reads.
 */
#include <lmdb.h>

#include "fuzz.h"
#include "state/store.h"

static void fail(const char *what, const weir_err *err)
{
    fprintf(stderr, "fuzz_store_format: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    abort();
}

/* Writes the marker's value into the store in dir (LMDB's main database). */
static void mark(const char *dir, const uint8_t *data, size_t size)
{
    MDB_env *env;
    MDB_txn *t;
    MDB_dbi main;
    MDB_val k = {7, "_format"}, v = {size, (void *)data};
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) || mdb_env_open(env, dir, 0, 0644) ||
        mdb_txn_begin(env, NULL, 0, &t) || mdb_dbi_open(t, NULL, 0, &main) || mdb_put(t, main, &k, &v, 0) ||
        mdb_txn_commit(t))
        fail("cannot write the marker", NULL);
    mdb_env_close(env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 64)
        return 0; /* LMDB keeps an empty value as empty; longer ones say no more */
    const char *dir = fuzz_scratch_dir("store-format", "store");
    char path[512];
    snprintf(path, sizeof path, "%s/store", dir);
    mark(path, data, size);
    uint32_t format = size == 4 ? (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                                      (uint32_t)data[3] << 24
                                : UINT32_MAX;
    bool readable = format <= WEIR_STORE_FORMAT;
    weir_store *s;
    weir_err err;
    weir_store_options ro = {.read_only = true};
    for (int writer = 0; writer < 2; writer++) {
        int rc = weir_store_open(path, writer ? NULL : &ro, &s, &err);
        if ((rc == WEIR_OK) != readable)
            fail(readable ? "a readable marker is refused" : "an unreadable marker is taken", rc ? &err : NULL);
        if (rc == WEIR_OK)
            weir_store_close(s);
        else if (!strstr(err.msg, "format") && !strstr(err.msg, "marker"))
            fail("the refusal does not say why", &err);
    }
    return 0;
}

/*
 * store_helpers.h - shared by the tests of engine state in the state store
 * (groups, joins, expiring windows): the runner's part of a checkpoint,
 * and a store table's row count. Each stops the test when a call fails.
 */
#ifndef WEIR_TEST_STORE_HELPERS_H
#define WEIR_TEST_STORE_HELPERS_H

#include "../tap.h"
#include "exec/engine.h"
#include "state/store.h"

#define STORE_CHECK(call, e) do { if ((call) != WEIR_OK) BAIL("%s: %s", #call, (e).msg); } while (0)

/* Seal, write in one transaction, commit (or not), and tell the engine. */
static inline void store_checkpoint(weir_engine *engine, weir_store *s, bool commit)
{
    weir_err e;
    weir_store_txn *txn;
    STORE_CHECK(weir_engine_seal_groups(engine, &e), e);
    STORE_CHECK(weir_store_begin(s, &txn, &e), e);
    STORE_CHECK(weir_engine_write_groups(engine, txn, &e), e);
    if (commit)
        STORE_CHECK(weir_store_commit(txn, &e), e);
    else
        weir_store_abort(txn);
    weir_engine_groups_written(engine, commit);
}

/* The rows the store's table holds now. */
static inline uint64_t store_count(weir_store *s, const char *table)
{
    weir_err e;
    weir_store_table t;
    weir_store_snap *snap;
    uint64_t n;
    STORE_CHECK(weir_store_table_open(s, table, false, &t, &e), e);
    STORE_CHECK(weir_store_snap_begin(s, &snap, &e), e);
    STORE_CHECK(weir_store_snap_count(snap, t, &n, &e), e);
    weir_store_snap_end(snap);
    return n;
}

#endif

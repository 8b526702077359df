/*
 * store_pages.c - what a state store's file (DIR/data.mdb, LMDB) holds:
 * per database, its entries, the bytes of their keys and values and the
 * bytes of its B-tree pages; then the file's pages in trees against the
 * pages it has (the rest are free: LMDB reuses them but never gives them
 * back to the file system). bench/disk.sh prints the last line's figures
 * beside the data directory's parts. Read-only; the store may be in use.
 * Then the free list by the transaction that freed its pages, against
 * the last transaction's id: pages freed by the last two commits cannot
 * be reused by the next (LMDB keeps the previous snapshot for readers),
 * older ones can unless a reader still holds a snapshot that old.
 *
 *   build/bench/store_pages DIR    a markdown table, then "pages TREE_BYTES FREE_BYTES",
 *                                  then "freed TXNS_BACK PAGES" lines, most recent first
 */
#include <lmdb.h>
#include <stdio.h>
#include <string.h>

/* Sums the keys' and values' bytes of dbi. */
static int payload(MDB_txn *txn, MDB_dbi dbi, size_t *keys, size_t *values)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, dbi, &c);
    *keys = *values = 0;
    while (rc == 0 && (rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
        *keys += k.mv_size;
        *values += v.mv_size;
    }
    if (rc != MDB_NOTFOUND)
        return rc;
    mdb_cursor_close(c);
    return 0;
}

/* Prints, from LMDB's free list (database 0: key a transaction's id, value
 * the count of the pages it freed and their numbers), the pages freed per
 * transaction, counted back from the last one (0: the last commit). */
static int freed(MDB_txn *txn, size_t last)
{
    MDB_cursor *c;
    MDB_val k, v;
    size_t older = 0, older_txns = 0;
    int rc = mdb_cursor_open(txn, 0, &c);
    while (rc == 0 && (rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) == 0) {
        size_t id, n;
        memcpy(&id, k.mv_data, sizeof id);
        memcpy(&n, v.mv_data, sizeof n);
        if (last - id < 8)
            printf("freed %zu %zu\n", last - id, n);
        else
            older += n, older_txns++;
    }
    if (rc != MDB_NOTFOUND)
        return rc;
    printf("freed older %zu (%zu transactions)\n", older, older_txns);
    mdb_cursor_close(c);
    return 0;
}

static size_t pages_of(const MDB_stat *s) { return s->ms_branch_pages + s->ms_leaf_pages + s->ms_overflow_pages; }

int main(int argc, char **argv)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi main_db;
    MDB_cursor *names;
    MDB_stat st;
    MDB_envinfo info;
    MDB_val k, v;
    if (argc != 2) {
        fprintf(stderr, "usage: store_pages DIR (a state store: DATA/state)\n");
        return 2;
    }
    int rc = mdb_env_create(&env);
    if (rc == 0 && (rc = mdb_env_set_maxdbs(env, 1u << 16)) == 0 && (rc = mdb_env_set_mapsize(env, (size_t)1 << 40)) == 0)
        rc = mdb_env_open(env, argv[1], MDB_RDONLY, 0644);
    if (rc == 0 && (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) == 0 && (rc = mdb_dbi_open(txn, NULL, 0, &main_db)) == 0)
        rc = mdb_cursor_open(txn, main_db, &names);
    if (rc) {
        fprintf(stderr, "store_pages: %s: %s\n", argv[1], mdb_strerror(rc));
        return 1;
    }
    mdb_stat(txn, main_db, &st);
    size_t psize = st.ms_psize, pages = pages_of(&st);
    printf("| database | entries | key bytes | value bytes | MB of pages |\n|---|---|---|---|---|\n");
    while (rc == 0 && (rc = mdb_cursor_get(names, &k, &v, MDB_NEXT)) == 0) {
        char name[512];
        MDB_dbi dbi;
        size_t kb, vb;
        snprintf(name, sizeof name, "%.*s", (int)k.mv_size, (const char *)k.mv_data);
        if (mdb_dbi_open(txn, name, 0, &dbi) != 0)
            continue; /* a key of the main database that names no database */
        if ((rc = mdb_stat(txn, dbi, &st)) != 0 || (rc = payload(txn, dbi, &kb, &vb)) != 0)
            break;
        pages += pages_of(&st);
        printf("| %s | %zu | %zu | %zu | %.1f |\n", name, (size_t)st.ms_entries, kb, vb, pages_of(&st) * (double)psize / 1e6);
    }
    if (rc != MDB_NOTFOUND) {
        fprintf(stderr, "store_pages: %s: %s\n", argv[1], mdb_strerror(rc));
        return 1;
    }
    mdb_env_info(env, &info);
    size_t file_pages = info.me_last_pgno + 1;
    printf("pages %zu %zu\n", pages * psize, (file_pages - pages) * psize); /* free: meta and free-list pages too */
    if ((rc = freed(txn, info.me_last_txnid)) != 0) {
        fprintf(stderr, "store_pages: %s: the free list: %s\n", argv[1], mdb_strerror(rc));
        return 1;
    }
    mdb_cursor_close(names);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return 0;
}

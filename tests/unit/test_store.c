/*
 * test_store.c - the LMDB state store (state/store.h, offsets.h): put, get,
 * del and range scans forward and reverse against a reference; an aborted
 * transaction, or one a kill -9 cuts short (during puts or at any moment
 * of a stream of commits), leaves nothing, and offsets commit with the
 * state they belong to; a map of 64 KiB grows under 20 MB of writes, with
 * a snapshot open on another thread, and a read-only process takes the
 * size another process grew it to; a reader thread's snapshot stays the
 * same while the writer commits; failures name the file and what to do.
 * A table emptied in a transaction that then outgrows the map is empty
 * after the growth too (the clear is redone), and its count is LMDB's; a
 * table's rows (rows.h) round-trip, and a primary key longer than the
 * store takes is cut to its longest key and still found by its prefix;
 * a view's row (version 2) leaves its key's columns to the store key,
 * but where that was cut, and a row of version 1 still decodes.
 * Values carry checksums: a byte changed in the file is refused by a read
 * and by a scan, naming the file, the table and --reset; a store made
 * before checksums (written here by LMDB itself) is read and written
 * without them. A writer's first commit marks the store with its format
 * (an open alone does not), a store made before the marker gets it the
 * same way, a compaction keeps it, and
 * a store marked with a
 * newer format is refused by writers and readers, saying what to do.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "../tap.h"
#include "state/key.h"
#include "state/offsets.h"
#include "state/rows.h"
#include "state/store.h"

static weir_err err;

#define CHECK(call) do { if ((call) != WEIR_OK) BAIL("%s: %s", #call, err.msg); } while (0)

static weir_store *open_store(const char *dir, uint64_t map_bytes)
{
    weir_store *s;
    weir_store_options o = {.map_bytes = map_bytes};
    CHECK(weir_store_open(dir, &o, &s, &err));
    return s;
}

static void put_str(weir_store_txn *t, weir_store_table tbl, const char *k, const char *v)
{
    CHECK(weir_store_put(t, tbl, k, strlen(k), v, strlen(v), &err));
}

/* The value of k in a snapshot as a string ("" when absent) in out. */
static const char *snap_str(weir_store_snap *r, weir_store_table tbl, const char *k, char *out, size_t cap)
{
    const void *v;
    size_t n;
    bool found;
    CHECK(weir_store_snap_get(r, tbl, k, strlen(k), &v, &n, &found, &err));
    snprintf(out, cap, "%.*s", found ? (int)n : 0, found ? (const char *)v : "");
    return out;
}

/* Scans [lo, hi) and writes the keys joined by ',' into out. */
static const char *scan_str(weir_store_snap *r, weir_store_table tbl, const char *lo, const char *hi, bool reverse,
                            char *out, size_t cap)
{
    weir_store_range range = {lo, lo ? strlen(lo) : 0, hi, hi ? strlen(hi) : 0, reverse};
    weir_store_cursor *c;
    CHECK(weir_store_snap_scan(r, tbl, &range, &c, &err));
    size_t used = 0;
    out[0] = '\0';
    for (;;) {
        const void *k, *v;
        size_t kl, vl;
        bool got;
        CHECK(weir_store_next(c, &k, &kl, &v, &vl, &got, &err));
        if (!got)
            break;
        used += (size_t)snprintf(out + used, cap - used, "%s%.*s", used ? "," : "", (int)kl, (const char *)k);
    }
    weir_store_cursor_close(c);
    return out;
}

/* The rows of tbl, counted by reading each one (not LMDB's own count:
 * the pages must be readable). */
static uint64_t scan_count(weir_store_snap *r, weir_store_table tbl)
{
    weir_store_range all = {0};
    weir_store_cursor *cur;
    CHECK(weir_store_snap_scan(r, tbl, &all, &cur, &err));
    uint64_t n = 0;
    for (;;) {
        const void *k, *v;
        size_t kl, vl;
        bool got;
        CHECK(weir_store_next(cur, &k, &kl, &v, &vl, &got, &err));
        if (!got)
            break;
        n++;
    }
    weir_store_cursor_close(cur);
    return n;
}

static void test_put_get_scan(const char *dir)
{
    weir_store *s = open_store(dir, 0);
    weir_store_table t;
    CHECK(weir_store_table_open(s, "t", true, &t, &err));
    weir_store_txn *w;
    CHECK(weir_store_begin(s, &w, &err));
    const char *keys[] = {"b", "d", "a", "c", "e", "bb"};
    for (int i = 0; i < 6; i++)
        put_str(w, t, keys[i], keys[i]);
    bool existed;
    CHECK(weir_store_del(w, t, "e", 1, &existed, &err));
    bool again;
    CHECK(weir_store_del(w, t, "zz", 2, &again, &err));
    ok(existed && !again, "del says whether the key was there");
    const void *v;
    size_t n;
    bool found;
    CHECK(weir_store_get(w, t, "bb", 2, &v, &n, &found, &err));
    ok(found && n == 2 && memcmp(v, "bb", 2) == 0, "the writer reads its own uncommitted put");
    weir_store_snap *r;
    CHECK(weir_store_snap_begin(s, &r, &err));
    char buf[256];
    is_str(snap_str(r, t, "bb", buf, sizeof buf), "", "a snapshot does not see an uncommitted put");
    weir_store_snap_end(r);
    CHECK(weir_store_commit(w, &err));
    CHECK(weir_store_snap_begin(s, &r, &err));
    is_str(scan_str(r, t, NULL, NULL, false, buf, sizeof buf), "a,b,bb,c,d", "forward scan of the whole table");
    is_str(scan_str(r, t, NULL, NULL, true, buf, sizeof buf), "d,c,bb,b,a", "reverse scan of the whole table");
    is_str(scan_str(r, t, "b", "c", false, buf, sizeof buf), "b,bb", "forward scan of [b, c)");
    is_str(scan_str(r, t, "b", "c", true, buf, sizeof buf), "bb,b", "reverse scan of [b, c)");
    is_str(scan_str(r, t, "bc", "zz", true, buf, sizeof buf), "d,c", "reverse scan from past the last key");
    is_str(scan_str(r, t, "0", "a", false, buf, sizeof buf), "", "an empty range");
    weir_store_snap_end(r);
    weir_store_close(s);

    /* prefix scans over keys made by key.h: every step of one number, forward and backward */
    s = open_store(dir, 0);
    CHECK(weir_store_table_open(s, "steps", true, &t, &err));
    CHECK(weir_store_begin(s, &w, &err));
    for (int num = -3; num <= 3; num++)
        for (int step = 0; step < 50; step++) {
            weir_value k[2] = {weir_int(num), weir_uint((uint64_t)step * 7919 % 50)};
            weir_buf key = {0};
            CHECK(weir_key_encode(&key, k, 2, &err));
            CHECK(weir_store_put(w, t, key.data, key.len, "", 0, &err));
            weir_buf_free(&key);
        }
    CHECK(weir_store_commit(w, &err));
    weir_value num = weir_int(-1);
    weir_buf lo = {0}, hi = {0};
    bool bounded;
    CHECK(weir_key_encode(&lo, &num, 1, &err));
    CHECK(weir_key_prefix_end(lo.data, lo.len, &hi, &bounded, &err));
    CHECK(weir_store_snap_begin(s, &r, &err));
    bool in_order[2] = {true, true};
    int count[2] = {0, 0};
    for (int reverse = 0; reverse < 2; reverse++) {
        weir_store_range range = {lo.data, lo.len, hi.data, hi.len, reverse};
        weir_store_cursor *c;
        CHECK(weir_store_snap_scan(r, t, &range, &c, &err));
        for (;;) {
            const void *k, *val;
            size_t kl, vl;
            bool got;
            CHECK(weir_store_next(c, &k, &kl, &val, &vl, &got, &err));
            if (!got)
                break;
            weir_value cols[2];
            int ncols;
            weir_arena a = {0};
            CHECK(weir_key_decode(k, kl, cols, 2, &ncols, &a, &err));
            uint64_t want = reverse ? 49 - (uint64_t)count[1] : (uint64_t)count[0];
            in_order[reverse] &= ncols == 2 && cols[0].i == -1 && cols[1].u == want;
            count[reverse]++;
        }
        weir_store_cursor_close(c);
    }
    ok(in_order[0] && count[0] == 50, "a prefix scan forward gives one number's 50 steps in order");
    ok(in_order[1] && count[1] == 50, "and reverse, from the last step down");
    weir_store_snap_end(r);
    weir_buf_free(&lo);
    weir_buf_free(&hi);
    weir_store_close(s);
}

static void test_abort_and_offsets(const char *dir)
{
    weir_store *s = open_store(dir, 0);
    weir_store_table t, off;
    CHECK(weir_store_table_open(s, "counts", true, &t, &err));
    CHECK(weir_offsets_table(s, true, &off, &err));
    weir_store_txn *w;
    CHECK(weir_store_begin(s, &w, &err));
    put_str(w, t, "x", "1");
    CHECK(weir_offsets_put(w, off, WEIR_OFFSET_INPUT, "clicks", 3, 100, &err));
    weir_store_abort(w);
    weir_store_snap *r;
    char buf[64];
    uint64_t o;
    bool found;
    CHECK(weir_store_snap_begin(s, &r, &err));
    CHECK(weir_offsets_get(r, off, WEIR_OFFSET_INPUT, "clicks", 3, &o, &found, &err));
    ok(!found && strcmp(snap_str(r, t, "x", buf, sizeof buf), "") == 0, "an aborted transaction leaves neither state nor offsets");
    weir_store_snap_end(r);
    CHECK(weir_store_begin(s, &w, &err));
    put_str(w, t, "x", "2");
    CHECK(weir_offsets_put(w, off, WEIR_OFFSET_INPUT, "clicks", 3, 200, &err));
    CHECK(weir_offsets_put(w, off, WEIR_OFFSET_OUTPUT, "clicks", 3, 7, &err));
    CHECK(weir_store_commit(w, &err));
    weir_store_close(s);
    s = open_store(dir, 0);
    CHECK(weir_store_table_open(s, "counts", false, &t, &err));
    CHECK(weir_offsets_table(s, false, &off, &err));
    CHECK(weir_store_snap_begin(s, &r, &err));
    uint64_t out;
    bool found_out;
    CHECK(weir_offsets_get(r, off, WEIR_OFFSET_INPUT, "clicks", 3, &o, &found, &err));
    CHECK(weir_offsets_get(r, off, WEIR_OFFSET_OUTPUT, "clicks", 3, &out, &found_out, &err));
    ok(found && o == 200 && found_out && out == 7 && strcmp(snap_str(r, t, "x", buf, sizeof buf), "2") == 0,
       "a commit keeps state, input offsets and output ends together, across a reopen");
    weir_store_snap_end(r);
    weir_store_close(s);
}

/* The child of a kill test: from the offset it finds, commits round after
 * round, each adding key k<i> and setting the input offset to i + 1 in one
 * transaction; tells the parent (a byte on fd) after the first. */
static void commit_forever(const char *dir, int fd)
{
    weir_store *s = open_store(dir, 1 << 20); /* small: the map grows too */
    weir_store_table t, off;
    CHECK(weir_store_table_open(s, "rounds", true, &t, &err));
    CHECK(weir_offsets_table(s, true, &off, &err));
    weir_store_snap *r;
    uint64_t start = 0;
    bool found;
    CHECK(weir_store_snap_begin(s, &r, &err));
    CHECK(weir_offsets_get(r, off, WEIR_OFFSET_INPUT, "s", 0, &start, &found, &err));
    weir_store_snap_end(r);
    for (uint64_t i = start;; i++) {
        weir_store_txn *w;
        CHECK(weir_store_begin(s, &w, &err));
        char k[32], v[512];
        snprintf(k, sizeof k, "k%08llu", (unsigned long long)i);
        memset(v, 'v', sizeof v);
        CHECK(weir_store_put(w, t, k, strlen(k), v, sizeof v, &err));
        CHECK(weir_offsets_put(w, off, WEIR_OFFSET_INPUT, "s", 0, i + 1, &err));
        CHECK(weir_store_commit(w, &err));
        if (i == start && write(fd, "c", 1) != 1)
            _exit(3);
    }
}

/* The child that dies inside a transaction: one commit, then 20,000 puts
 * never committed. */
static void die_in_txn(const char *dir, int fd)
{
    weir_store *s = open_store(dir, 0);
    weir_store_table t;
    CHECK(weir_store_table_open(s, "half", true, &t, &err));
    weir_store_txn *w;
    CHECK(weir_store_begin(s, &w, &err));
    put_str(w, t, "committed", "yes");
    CHECK(weir_store_commit(w, &err));
    CHECK(weir_store_begin(s, &w, &err));
    for (int i = 0; i < 20000; i++) {
        char k[32];
        snprintf(k, sizeof k, "lost%06d", i);
        put_str(w, t, k, "x");
    }
    if (write(fd, "p", 1) != 1)
        _exit(3);
    pause();
    _exit(0);
}

static pid_t spawn(void (*child)(const char *, int), const char *dir, int *rfd)
{
    int p[2];
    if (pipe(p))
        BAIL("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        BAIL("fork");
    if (pid == 0) {
        close(p[0]);
        child(dir, p[1]);
        _exit(0);
    }
    close(p[1]);
    *rfd = p[0];
    return pid;
}

static void kill_child(pid_t pid)
{
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
}

static void test_kill(const char *base)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/half", base);
    int fd;
    char c;
    pid_t pid = spawn(die_in_txn, dir, &fd);
    bool ready = read(fd, &c, 1) == 1;
    kill_child(pid);
    close(fd);
    weir_store *s = open_store(dir, 0);
    weir_store_table t;
    CHECK(weir_store_table_open(s, "half", false, &t, &err));
    weir_store_snap *r;
    char buf[64];
    CHECK(weir_store_snap_begin(s, &r, &err));
    char keys[64];
    ok(ready && strcmp(snap_str(r, t, "committed", buf, sizeof buf), "yes") == 0 &&
       strcmp(scan_str(r, t, "lost", "lost~", false, keys, sizeof keys), "") == 0,
       "a kill -9 inside a transaction of 20,000 puts keeps the commit before it and none of them");
    weir_store_snap_end(r);
    weir_store_txn *w;
    CHECK(weir_store_begin(s, &w, &err));
    put_str(w, t, "after", "ok");
    CHECK(weir_store_commit(w, &err));
    ok(1, "the writer's lock of the killed process is taken over: a new commit succeeds");
    weir_store_close(s);

    /* kills at random moments of a stream of commits (in puts, in fsyncs, between) */
    snprintf(dir, sizeof dir, "%s/rounds", base);
    int agree = 0, rounds = 8;
    uint64_t last = 0;
    bool grew = true;
    for (int round = 0; round < rounds; round++) {
        pid = spawn(commit_forever, dir, &fd);
        ready = read(fd, &c, 1) == 1;
        struct timespec ts = {0, (long)(tap_rand() % 40 + 1) * 1000000L};
        nanosleep(&ts, NULL);
        kill_child(pid);
        close(fd);
        s = open_store(dir, 0);
        weir_store_table off;
        CHECK(weir_store_table_open(s, "rounds", false, &t, &err));
        CHECK(weir_offsets_table(s, false, &off, &err));
        CHECK(weir_store_snap_begin(s, &r, &err));
        uint64_t o;
        bool found;
        CHECK(weir_offsets_get(r, off, WEIR_OFFSET_INPUT, "s", 0, &o, &found, &err));
        /* the keys k0 .. k<offset - 1> are there, and none past them */
        uint64_t n = scan_count(r, t);
        weir_store_snap_end(r);
        weir_store_close(s);
        agree += ready && found && n == o;
        grew &= o > last;
        last = o;
    }
    is_int(agree, rounds, "after kill -9 at random moments of a stream of commits, state and offset agree (%d rounds)", rounds);
    ok(grew, "and each child went on from the offset the last one committed (%llu commits in all)", (unsigned long long)last);
}

static void test_growth(const char *dir)
{
    weir_store *s = open_store(dir, 64 << 10);
    weir_store_table t;
    CHECK(weir_store_table_open(s, "big", true, &t, &err));
    uint64_t first = weir_store_map_bytes(s);
    weir_store_txn *w;
    char v[1000];
    CHECK(weir_store_begin(s, &w, &err));
    for (int i = 0; i < 20000; i++) {
        char k[32];
        snprintf(k, sizeof k, "k%06d", i);
        memset(v, 'a' + i % 26, sizeof v);
        CHECK(weir_store_put(w, t, k, strlen(k), v, sizeof v, &err));
    }
    CHECK(weir_store_commit(w, &err));
    ok(weir_store_grows(s) > 0 && weir_store_map_bytes(s) > first,
       "a 64 KiB map grew %u times to %llu bytes under 20 MB of writes in one transaction", weir_store_grows(s),
       (unsigned long long)weir_store_map_bytes(s));
    weir_store_close(s);
    s = open_store(dir, 64 << 10);
    CHECK(weir_store_table_open(s, "big", false, &t, &err));
    weir_store_snap *r;
    CHECK(weir_store_snap_begin(s, &r, &err));
    int right = 0;
    for (int i = 0; i < 20000; i++) {
        char k[32];
        snprintf(k, sizeof k, "k%06d", i);
        const void *got;
        size_t n;
        bool found;
        CHECK(weir_store_snap_get(r, t, k, strlen(k), &got, &n, &found, &err));
        right += found && n == sizeof v && ((const char *)got)[999] == 'a' + i % 26;
    }
    weir_store_snap_end(r);
    is_int(right, 20000, "every value is there after reopening with a small map");
    weir_store_close(s);
}

static void test_clear_and_rows(const char *dir)
{
    weir_store *s = open_store(dir, 64 << 10);
    weir_store_table t;
    weir_store_txn *w;
    weir_store_snap *r;
    char v[1000], k[32], got[8];
    CHECK(weir_store_table_open(s, "cleared", true, &t, &err));
    CHECK(weir_store_begin(s, &w, &err));
    for (int i = 0; i < 40; i++) {
        snprintf(k, sizeof k, "old%03d", i);
        put_str(w, t, k, "x");
    }
    CHECK(weir_store_commit(w, &err));
    unsigned grows = weir_store_grows(s);
    CHECK(weir_store_begin(s, &w, &err));
    CHECK(weir_store_clear(w, t, &err));
    memset(v, 'v', sizeof v);
    for (int i = 0; i < 3000; i++) {
        snprintf(k, sizeof k, "new%05d", i);
        CHECK(weir_store_put(w, t, k, strlen(k), v, sizeof v, &err));
    }
    CHECK(weir_store_commit(w, &err));
    uint64_t n = 0;
    CHECK(weir_store_snap_begin(s, &r, &err));
    CHECK(weir_store_snap_count(r, t, &n, &err));
    ok(weir_store_grows(s) > grows && n == 3000 && !snap_str(r, t, "old000", got, sizeof got)[0],
       "a table emptied, then outgrowing the map in the same transaction, holds only the new keys (%llu; grew %u times)",
       (unsigned long long)n, weir_store_grows(s) - grows);
    weir_store_snap_end(r);

    /* rows.h: a primary key (TEXT of 2,000 bytes, then UINT) past LMDB's key size */
    weir_column cols[3] = {{"name", WEIR_TYPE_TEXT}, {"n", WEIR_TYPE_UINT}, {"d", WEIR_TYPE_DOUBLE}};
    weir_schema schema = {cols, 3};
    int pk[2] = {0, 1};
    static char text[2000];
    memset(text, 'q', sizeof text);
    weir_value row1[3] = {weir_text(text, sizeof text), weir_uint(1), weir_double(2.5)};
    weir_value row2[3] = {weir_text(text, sizeof text), weir_uint(2), weir_null(WEIR_TYPE_DOUBLE)};
    weir_buf k1 = {0}, k2 = {0}, pre = {0}, end = {0}, val = {0};
    bool bounded;
    CHECK(weir_rows_key(s, row1, pk, 2, &k1, &err));
    CHECK(weir_rows_key(s, row2, pk, 2, &k2, &err));
    CHECK(weir_rows_prefix(s, &row1[0], &pre, &end, &bounded, &err));
    ok(k1.len == weir_store_max_key(s) && k2.len == k1.len && memcmp(k1.data, k2.data, k1.len) &&
       pre.len < k1.len && !memcmp(pre.data, k1.data, pre.len) && bounded,
       "a primary key of %zu bytes becomes a store key of %zu, keys differing past the cut differ, the prefix of its "
       "first column is a prefix of it", (size_t)2012, k1.len);
    CHECK(weir_rows_value(row2, 3, &val, &err));
    weir_value back[3];
    weir_arena a = {0};
    int rc = weir_rows_decode("t", &schema, val.data, val.len, back, &a, &err);
    ok(rc == WEIR_OK && back[0].len == sizeof text && back[1].u == 2 && back[2].is_null && back[2].type == WEIR_TYPE_DOUBLE,
       "a row's value decodes to the row");
    /* a view's rows: the key's columns in the store key only (version 2), but where the key was cut */
    weir_buf kv = {0};
    CHECK(weir_rows_value_keyed(s, row2, 3, pk, 2, k2.len, &kv, &err));
    ok(kv.len == val.len && kv.data[0] == WEIR_ROWS_VERSION, "the value of a row whose store key was cut is the whole row");
    weir_value row3[3] = {weir_text("short", 5), weir_uint(3), weir_double(-1.5)};
    int pk2[2] = {1, 0}; /* (n, name): out of the row's order */
    weir_buf k3 = {0}, v1 = {0};
    kv.len = 0;
    CHECK(weir_rows_key(s, row3, pk2, 2, &k3, &err));
    CHECK(weir_rows_value_keyed(s, row3, 3, pk2, 2, k3.len, &kv, &err));
    CHECK(weir_rows_value(row3, 3, &v1, &err));
    rc = weir_rows_decode_keyed("t", &schema, pk2, 2, k3.data, k3.len, kv.data, kv.len, back, &a, &err);
    bool same = rc == WEIR_OK && back[0].len == 5 && !memcmp(back[0].s, "short", 5) && back[1].u == 3 && back[2].d == -1.5;
    rc = weir_rows_decode_keyed("t", &schema, pk2, 2, k3.data, k3.len, v1.data, v1.len, back, &a, &err);
    same &= rc == WEIR_OK && back[0].len == 5 && back[1].u == 3 && back[2].d == -1.5;
    ok(same && kv.data[0] == WEIR_ROWS_VERSION_KEYED && kv.len == 1 + 9 && kv.len < v1.len,
       "a row under a whole key is written without its key's columns (%zu bytes against %zu) and decodes with its key, "
       "as a row of the version before does", kv.len, v1.len);
    ok(weir_rows_decode_keyed("t", &schema, pk2, 2, k3.data, k3.len - 1, kv.data, kv.len, back, &a, &err) == WEIR_ECORRUPT,
       "a version 2 row under a damaged key is refused: %s", err.msg);
    weir_buf_free(&kv);
    weir_buf_free(&k3);
    weir_buf_free(&v1);
    cols[1].type = WEIR_TYPE_INT;
    ok(weir_rows_decode("t", &schema, val.data, val.len, back, &a, &err) == WEIR_ECORRUPT && strstr(err.msg, "column n"),
       "a value whose column types are not the table's is refused: %s", err.msg);
    weir_arena_free(&a);
    weir_buf_free(&k1);
    weir_buf_free(&k2);
    weir_buf_free(&pre);
    weir_buf_free(&end);
    weir_buf_free(&val);
    weir_store_close(s);
}

/* A reader thread's view: it checks that a snapshot's values stay the same while the writer commits. */
typedef struct reader_ctx {
    weir_store *s;
    weir_store_table t;
    atomic_int stop;           /* set by the writer when it is done */
    int snapshots, torn, changed, went_back;
} reader_ctx;

enum { KEYS = 100 };

static uint64_t read_key(weir_store_snap *r, weir_store_table t, int i, bool *found)
{
    char k[16];
    snprintf(k, sizeof k, "k%03d", i);
    const void *v;
    size_t n;
    uint64_t x = 0;
    CHECK(weir_store_snap_get(r, t, k, strlen(k), &v, &n, found, &err));
    if (*found && n == 8)
        memcpy(&x, v, 8);
    return x;
}

static void *reader(void *arg)
{
    reader_ctx *c = arg;
    uint64_t prev = 0;
    weir_err e;
    while (!c->stop) {
        weir_store_snap *r;
        if (weir_store_snap_begin(c->s, &r, &e))
            BAIL("snapshot: %s", e.msg);
        bool found;
        uint64_t first = read_key(r, c->t, 0, &found);
        for (int pass = 0; pass < 3; pass++) { /* the writer commits meanwhile */
            for (int i = 0; i < KEYS; i++)
                c->torn += read_key(r, c->t, i, &found) != first;
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
        c->changed += read_key(r, c->t, 0, &found) != first;
        c->went_back += first < prev;
        prev = first;
        weir_store_snap_end(r);
        c->snapshots++;
    }
    return NULL;
}

static void test_snapshots(const char *dir)
{
    weir_store *s = open_store(dir, 0);
    reader_ctx c = {.s = s};
    CHECK(weir_store_table_open(s, "snap", true, &c.t, &err));
    pthread_t th;
    if (pthread_create(&th, NULL, reader, &c))
        BAIL("pthread_create");
    for (uint64_t round = 1; round <= 300; round++) {
        weir_store_txn *w;
        CHECK(weir_store_begin(s, &w, &err));
        for (int i = 0; i < KEYS; i++) {
            char k[16];
            snprintf(k, sizeof k, "k%03d", i);
            CHECK(weir_store_put(w, c.t, k, strlen(k), &round, 8, &err));
        }
        CHECK(weir_store_commit(w, &err));
    }
    c.stop = 1;
    pthread_join(th, NULL);
    ok(c.snapshots > 0 && c.torn == 0 && c.changed == 0 && c.went_back == 0,
       "a reader thread's %d snapshots each saw one commit whole, unchanged while 300 commits went on, never going back",
       c.snapshots);
    weir_store_close(s);
}

/* Growing the map waits for a snapshot open on another thread, and then goes on. */
typedef struct holder_ctx {
    weir_store *s;
    weir_store_table t;
    atomic_int holding;        /* set once the snapshot is taken */
    int same;
} holder_ctx;

static void *holder(void *arg)
{
    holder_ctx *h = arg;
    weir_store_snap *r;
    weir_err e;
    if (weir_store_snap_begin(h->s, &r, &e))
        BAIL("snapshot: %s", e.msg);
    char before[64], after[64];
    snap_str(r, h->t, "k000000", before, sizeof before);
    h->holding = 1;
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    snap_str(r, h->t, "k000000", after, sizeof after);
    h->same = strcmp(before, after) == 0 && strcmp(before, "first") == 0;
    weir_store_snap_end(r);
    return NULL;
}

static void test_growth_with_reader(const char *dir)
{
    weir_store *s = open_store(dir, 64 << 10);
    holder_ctx h = {.s = s};
    CHECK(weir_store_table_open(s, "grow", true, &h.t, &err));
    weir_store_txn *w;
    CHECK(weir_store_begin(s, &w, &err));
    put_str(w, h.t, "k000000", "first");
    CHECK(weir_store_commit(w, &err));
    pthread_t th;
    if (pthread_create(&th, NULL, holder, &h))
        BAIL("pthread_create");
    while (!h.holding)
        sched_yield();
    unsigned grows = weir_store_grows(s);
    CHECK(weir_store_begin(s, &w, &err));
    char v[2000];
    memset(v, 'g', sizeof v);
    for (int i = 0; i < 5000; i++) {
        char k[32];
        snprintf(k, sizeof k, "k%06d", i);
        CHECK(weir_store_put(w, h.t, k, strlen(k), v, sizeof v, &err));
    }
    CHECK(weir_store_commit(w, &err));
    pthread_join(th, NULL);
    ok(h.same && weir_store_grows(s) > grows, "the map grew (%u times) while another thread held a snapshot, which "
       "read the same before and after", weir_store_grows(s) - grows);
    weir_store_close(s);
}

/* The child that grows the map: 5 MB into a store whose map was 64 KiB. */
static void grow_store(const char *dir, int fd)
{
    weir_store *s = open_store(dir, 64 << 10);
    weir_store_table t;
    CHECK(weir_store_table_open(s, "shared", true, &t, &err));
    weir_store_txn *w;
    CHECK(weir_store_begin(s, &w, &err));
    char v[1000] = {0};
    for (int i = 0; i < 5000; i++) {
        char k[32];
        snprintf(k, sizeof k, "k%06d", i);
        CHECK(weir_store_put(w, t, k, strlen(k), v, sizeof v, &err));
    }
    CHECK(weir_store_commit(w, &err));
    weir_store_close(s);
    if (write(fd, "g", 1) != 1)
        _exit(3);
}

/* A read-only process (weir query beside weir serve) takes the size
 * another process grew the map to; and a writer's scan is void, not a
 * use after free, once a write grew the map under it. */
static void test_other_process_grows(const char *base)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/shared", base);
    weir_store *w = open_store(dir, 64 << 10);
    weir_store_table t;
    CHECK(weir_store_table_open(w, "shared", true, &t, &err));
    weir_store_close(w);
    weir_store_options ro = {.map_bytes = 64 << 10, .read_only = true};
    weir_store *s;
    CHECK(weir_store_open(dir, &ro, &s, &err));
    CHECK(weir_store_table_open(s, "shared", false, &t, &err));
    uint64_t before = weir_store_map_bytes(s);
    int fd;
    char c;
    pid_t pid = spawn(grow_store, dir, &fd);
    bool grown = read(fd, &c, 1) == 1;
    int status;
    waitpid(pid, &status, 0);
    close(fd);
    weir_store_snap *r;
    CHECK(weir_store_snap_begin(s, &r, &err));
    uint64_t n = scan_count(r, t);
    weir_store_snap_end(r);
    ok(grown && n == 5000 && weir_store_map_bytes(s) > before,
       "a read-only store takes the map another process grew (%llu to %llu bytes) and reads all 5000 rows",
       (unsigned long long)before, (unsigned long long)weir_store_map_bytes(s));
    weir_store_close(s);

    snprintf(dir, sizeof dir, "%s/voidscan", base);
    s = open_store(dir, 64 << 10);
    CHECK(weir_store_table_open(s, "v", true, &t, &err));
    weir_store_txn *tx;
    CHECK(weir_store_begin(s, &tx, &err));
    put_str(tx, t, "a", "1");
    weir_store_range all = {0};
    weir_store_cursor *cur;
    CHECK(weir_store_txn_scan(tx, t, &all, &cur, &err));
    char v[2000] = {0};
    for (int i = 0; i < 200; i++) {
        char k[32];
        snprintf(k, sizeof k, "k%06d", i);
        CHECK(weir_store_put(tx, t, k, strlen(k), v, sizeof v, &err));
    }
    const void *k, *val;
    size_t kl, vl;
    bool got;
    int rc = weir_store_next(cur, &k, &kl, &val, &vl, &got, &err);
    ok(weir_store_grows(s) > 0 && rc == WEIR_EINVAL && !got && strstr(err.msg, "moved the map"),
       "a writer's scan opened before a write that grew the map is refused: %s", err.msg);
    weir_store_cursor_close(cur);
    CHECK(weir_store_commit(tx, &err));
    weir_store_close(s);
}

static void test_errors(const char *base)
{
    char dir[4200], file[4300];
    snprintf(dir, sizeof dir, "%s/notastore", base);
    snprintf(file, sizeof file, "%s/data.mdb", dir);
    if (mkdir(dir, 0755))
        BAIL("mkdir");
    FILE *f = fopen(file, "w");
    if (!f)
        BAIL("fopen");
    for (int i = 0; i < 16384; i++)
        fputc('x', f);
    fclose(f);
    weir_store *s;
    int rc = weir_store_open(dir, NULL, &s, &err);
    ok(rc == WEIR_ECORRUPT && strstr(err.msg, file) && strstr(err.msg, "--reset"),
       "a file that is not a store is refused, naming it and --reset: %s", err.msg);
    snprintf(dir, sizeof dir, "%s/absent", base);
    weir_store_options ro = {.read_only = true};
    rc = weir_store_open(dir, &ro, &s, &err);
    ok(rc == WEIR_ENOENT && strstr(err.msg, dir), "opening an absent store read-only: %s", err.msg);
    snprintf(dir, sizeof dir, "%s/errors", base);
    s = open_store(dir, 0);
    weir_store_table t;
    rc = weir_store_table_open(s, "nope", false, &t, &err);
    ok(rc == WEIR_ENOENT && strstr(err.msg, "no table nope"), "an absent table: %s", err.msg);
    CHECK(weir_store_table_open(s, "keys", true, &t, &err));
    weir_store_txn *w;
    CHECK(weir_store_begin(s, &w, &err));
    char big[600] = {0};
    rc = weir_store_put(w, t, big, sizeof big, "", 0, &err);
    ok(rc == WEIR_EINVAL && strstr(err.msg, "table keys") && strstr(err.msg, "600 bytes"), "a key too long: %s", err.msg);
    put_str(w, t, "fine", "1");
    rc = weir_store_commit(w, &err);
    ok(rc == WEIR_OK, "a key refused before reaching LMDB leaves the transaction usable");
    weir_store_close(s);
    ro.read_only = true;
    CHECK(weir_store_open(dir, &ro, &s, &err));
    CHECK(weir_store_table_open(s, "keys", false, &t, &err));
    rc = weir_store_begin(s, &w, &err);
    ok(rc == WEIR_EINVAL && strstr(err.msg, "read-only"), "a read-only store takes no writes: %s", err.msg);
    weir_store_close(s);
}

/* weir_store_release: the environment opened again gives back LMDB's
 * dirty-page copies; the tables keep their handles (opened at open, and
 * created since, whose handles LMDB gave in another order than names
 * sort), what was committed reads the same, and writes go on. */
static void test_release(const char *dir)
{
    weir_store *s = open_store(dir, 0);
    weir_store_table zt, at, bt;
    CHECK(weir_store_table_open(s, "z", true, &zt, &err));
    weir_store_close(s);
    s = open_store(dir, 0);
    CHECK(weir_store_table_open(s, "z", false, &zt, &err));
    CHECK(weir_store_table_open(s, "b", true, &bt, &err)); /* after z: a handle out of name order */
    CHECK(weir_store_table_open(s, "a", true, &at, &err));
    weir_store_txn *w;
    CHECK(weir_store_begin(s, &w, &err));
    put_str(w, zt, "k", "z1");
    put_str(w, bt, "k", "b1");
    put_str(w, at, "k", "a1");
    CHECK(weir_store_commit(w, &err));
    CHECK(weir_store_release(s, &err));
    weir_store_snap *r;
    char x[16], y[16], z[16];
    CHECK(weir_store_snap_begin(s, &r, &err));
    ok(!strcmp(snap_str(r, zt, "k", z, sizeof z), "z1") && !strcmp(snap_str(r, bt, "k", y, sizeof y), "b1") &&
       !strcmp(snap_str(r, at, "k", x, sizeof x), "a1"),
       "after a release each table reads the same under its handle: %s %s %s", z, y, x);
    weir_store_snap_end(r);
    CHECK(weir_store_begin(s, &w, &err));
    put_str(w, at, "k", "a2");
    CHECK(weir_store_commit(w, &err));
    CHECK(weir_store_release(s, &err));
    CHECK(weir_store_snap_begin(s, &r, &err));
    ok(!strcmp(snap_str(r, at, "k", x, sizeof x), "a2") && !strcmp(snap_str(r, bt, "k", y, sizeof y), "b1"),
       "and a commit after it is read after the next");
    weir_store_unmap(s); /* with a snapshot open: its pages are read again from the page cache */
    ok(!strcmp(snap_str(r, at, "k", x, sizeof x), "a2") && !strcmp(snap_str(r, zt, "k", z, sizeof z), "z1"),
       "unmapping the map's pages under an open snapshot changes nothing it reads");
    weir_store_snap_end(r);
    weir_store_close(s);
}

/* Flips a byte of the first occurrence of needle in file: false if absent. */
static bool damage(const char *file, const char *needle)
{
    FILE *f = fopen(file, "r+b");
    if (!f)
        return false;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f), len = strlen(needle);
    char *at = NULL;
    for (size_t i = 0; i + len <= n && !at; i++)
        if (!memcmp(buf + i, needle, len))
            at = buf + i;
    bool done_ = at && fseek(f, (long)(at - buf), SEEK_SET) == 0 && fputc(at[0] ^ 0x20, f) != EOF;
    return fclose(f) == 0 && done_;
}

static void test_checksums(const char *base)
{
    char dir[4200], file[4300];
    snprintf(dir, sizeof dir, "%s/checksums", base);
    snprintf(file, sizeof file, "%s/data.mdb", dir);
    weir_store *s;
    weir_store_table t;
    weir_store_txn *txn;
    CHECK(weir_store_open(dir, NULL, &s, &err));
    CHECK(weir_store_table_open(s, "rows:t", true, &t, &err));
    CHECK(weir_store_begin(s, &txn, &err));
    CHECK(weir_store_put(txn, t, "k1", 2, "value-one-MARK", 14, &err));
    CHECK(weir_store_put(txn, t, "k2", 2, "value-two", 9, &err));
    CHECK(weir_store_commit(txn, &err));
    weir_store_close(s);
    bool changed = damage(file, "value-one-MARK");
    CHECK(weir_store_open(dir, NULL, &s, &err));
    CHECK(weir_store_table_open(s, "rows:t", false, &t, &err));
    weir_store_snap *r;
    const void *v;
    size_t vlen;
    bool found;
    CHECK(weir_store_snap_begin(s, &r, &err));
    int rc = weir_store_snap_get(r, t, "k1", 2, &v, &vlen, &found, &err);
    ok(changed && rc == WEIR_ECORRUPT && strstr(err.msg, file) && strstr(err.msg, "rows:t") && strstr(err.msg, "--reset"),
       "a value changed in the file fails its checksum, naming the file, the table and what to do: %s", err.msg);
    ok(weir_store_snap_get(r, t, "k2", 2, &v, &vlen, &found, &err) == WEIR_OK && found && vlen == 9 &&
       !memcmp(v, "value-two", 9), "the other values read as written");
    weir_store_range all = {0};
    weir_store_cursor *c;
    const void *k;
    size_t klen;
    CHECK(weir_store_snap_scan(r, t, &all, &c, &err));
    rc = weir_store_next(c, &k, &klen, &v, &vlen, &found, &err);
    ok(rc == WEIR_ECORRUPT && strstr(err.msg, "checksum"), "a scan reaching it fails too: %s", err.msg);
    weir_store_cursor_close(c);
    weir_store_snap_end(r);
    weir_store_close(s);

    /* A store made before checksums: tables, no marker, values as their owners wrote them. */
    snprintf(dir, sizeof dir, "%s/legacy", base);
    MDB_env *env;
    MDB_txn *lt;
    MDB_dbi dbi;
    MDB_val lk = {2, "k1"}, lv = {3, "old"};
    bool made = mkdir(dir, 0755) == 0 && mdb_env_create(&env) == 0 && mdb_env_set_maxdbs(env, 4) == 0 &&
                mdb_env_open(env, dir, 0, 0644) == 0 && mdb_txn_begin(env, NULL, 0, &lt) == 0 &&
                mdb_dbi_open(lt, "rows:t", MDB_CREATE, &dbi) == 0 && mdb_put(lt, dbi, &lk, &lv, 0) == 0 &&
                mdb_txn_commit(lt) == 0;
    mdb_env_close(env);
    CHECK(weir_store_open(dir, NULL, &s, &err));
    CHECK(weir_store_table_open(s, "rows:t", false, &t, &err));
    CHECK(weir_store_begin(s, &txn, &err));
    CHECK(weir_store_put(txn, t, "k2", 2, "new", 3, &err));
    CHECK(weir_store_commit(txn, &err));
    CHECK(weir_store_snap_begin(s, &r, &err));
    const void *v2;
    size_t v2len;
    bool found2;
    ok(made && weir_store_snap_get(r, t, "k1", 2, &v, &vlen, &found, &err) == WEIR_OK && found && vlen == 3 &&
       weir_store_snap_get(r, t, "k2", 2, &v2, &v2len, &found2, &err) == WEIR_OK && found2 && v2len == 3 &&
       !memcmp(v, "old", 3) && !memcmp(v2, "new", 3), "a store made before checksums is read and written without them");
    weir_store_snap_end(r);
    weir_store_close(s);
}

/* The format marker in dir's main database as LMDB reads it (0: none). */
static uint32_t marked_format(const char *dir)
{
    MDB_env *env;
    MDB_txn *t;
    MDB_dbi main;
    MDB_val k = {7, "_format"}, v;
    uint32_t format = 0;
    if (mdb_env_create(&env) == 0 && mdb_env_set_maxdbs(env, 4) == 0 && mdb_env_open(env, dir, MDB_RDONLY, 0644) == 0 &&
        mdb_txn_begin(env, NULL, MDB_RDONLY, &t) == 0) {
        if (mdb_dbi_open(t, NULL, 0, &main) == 0 && mdb_get(t, main, &k, &v) == 0 && v.mv_size == 4) {
            const uint8_t *b = v.mv_data;
            format = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        }
        mdb_txn_abort(t);
    }
    mdb_env_close(env);
    return format;
}

static void test_format_marker(const char *base)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/format", base);
    weir_store *s;
    weir_store_table t;
    weir_store_txn *txn;
    CHECK(weir_store_open(dir, NULL, &s, &err));
    CHECK(weir_store_table_open(s, "rows:t", true, &t, &err));
    weir_store_close(s);
    ok(marked_format(dir) == 0, "a writer's open that commits nothing does not mark the store (a refused start "
       "leaves it to the weir that wrote it)");
    CHECK(weir_store_open(dir, NULL, &s, &err));
    CHECK(weir_store_table_open(s, "rows:t", false, &t, &err));
    CHECK(weir_store_begin(s, &txn, &err));
    CHECK(weir_store_put(txn, t, "k", 1, "v", 1, &err));
    CHECK(weir_store_commit(txn, &err));
    weir_store_close(s);
    uint32_t mine = marked_format(dir);
    ok(mine >= 2, "its first commit marks the store with its format (%u)", mine);
    bool done = false;
    CHECK(weir_store_compact(dir, NULL, &done, &err));
    ok(done && marked_format(dir) == mine, "a compaction keeps the marker");
    snprintf(dir, sizeof dir, "%s/legacy", base); /* test_checksums's store made before the marker */
    ok(marked_format(dir) == mine, "and a store made before the marker gets it at a writer's first commit");

    /* a newer weir's store: the marker says more than this weir reads */
    MDB_env *env;
    MDB_txn *t2;
    MDB_dbi main;
    uint8_t newer[4] = {(uint8_t)(mine + 1), 0, 0, 0};
    MDB_val k = {7, "_format"}, v = {4, newer};
    bool made = mdb_env_create(&env) == 0 && mdb_env_set_maxdbs(env, 4) == 0 && mdb_env_open(env, dir, 0, 0644) == 0 &&
                mdb_txn_begin(env, NULL, 0, &t2) == 0 && mdb_dbi_open(t2, NULL, 0, &main) == 0 &&
                mdb_put(t2, main, &k, &v, 0) == 0 && mdb_txn_commit(t2) == 0;
    mdb_env_close(env);
    int rc = weir_store_open(dir, NULL, &s, &err);
    ok(made && rc == WEIR_EINVAL && strstr(err.msg, "newer weir") && strstr(err.msg, "--reset") &&
       strstr(err.msg, "data.mdb"), "a store of a newer format is refused, saying what to do: %s", err.msg);
    weir_store_options ro = {.read_only = true};
    rc = weir_store_open(dir, &ro, &s, &err);
    ok(rc == WEIR_EINVAL && strstr(err.msg, "newer weir"), "by a reader too");
    ok(marked_format(dir) == mine + 1, "and left as it was");
}

int main(void)
{
    plan(50);
    char *base = tap_tmpdir("store");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/basic", base);
    test_put_get_scan(dir);
    snprintf(dir, sizeof dir, "%s/offsets", base);
    test_abort_and_offsets(dir);
    test_kill(base);
    snprintf(dir, sizeof dir, "%s/growth", base);
    test_growth(dir);
    snprintf(dir, sizeof dir, "%s/snapshots", base);
    test_snapshots(dir);
    snprintf(dir, sizeof dir, "%s/clear", base);
    test_clear_and_rows(dir);
    snprintf(dir, sizeof dir, "%s/release", base);
    test_release(dir);
    snprintf(dir, sizeof dir, "%s/growth-reader", base);
    test_growth_with_reader(dir);
    test_other_process_grows(base);
    test_errors(base);
    test_checksums(base);
    test_format_marker(base);
    tap_rmrf(base);
    free(base);
    return done();
}

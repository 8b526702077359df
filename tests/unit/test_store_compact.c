/*
 * test_store_compact.c - compaction of the state store's file
 * (store.h, weir_store_compact; state/compact.c): a store whose commits
 * left free pages is rewritten at its close into a smaller file with the
 * same entries (their checksums read back), and a writer goes on in it;
 * nothing is done while another process has the store open, nor while
 * another store of this process does; kill -9 at random moments of
 * compactions leaves a store that opens with every entry and takes
 * commits, and the copy a kill left unfinished is removed at the next
 * open; processes opening, reading and writing the store while another
 * compacts it again and again always find it whole.
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "state/store.h"

static weir_err err;

#define CHECK(call) do { if ((call) != WEIR_OK) BAIL("%s: %s", #call, err.msg); } while (0)

#define KEYS 20000
#define ROUNDS 4 /* overwrites of every key, in commits that leave free pages */

static weir_store *open_store(const char *dir, bool read_only)
{
    weir_store *s;
    weir_store_options o = {.read_only = read_only};
    CHECK(weir_store_open(dir, &o, &s, &err));
    return s;
}

static size_t value_of(unsigned key, unsigned round, char *v)
{
    size_t n = 40 + (key * 7 + round) % 80;
    for (size_t i = 0; i < n; i++)
        v[i] = (char)('a' + (key + round + i) % 26);
    return n;
}

/* Writes every key ROUNDS times, each round in commits of random keys;
 * with clean, the close is a clean stop's (weir_store_compact_at_close);
 * with hold, returns a read-only store opened before the writer's close
 * (which then does not compact), else NULL. */
static weir_store *fill(const char *dir, bool hold, bool clean)
{
    weir_store *s = open_store(dir, false);
    weir_store_table t;
    CHECK(weir_store_table_open(s, "c", true, &t, &err));
    for (unsigned round = 0; round < ROUNDS; round++)
        for (unsigned c = 0; c < 8; c++) {
            weir_store_txn *w;
            CHECK(weir_store_begin(s, &w, &err));
            for (unsigned i = 0; i < KEYS / 4; i++) {
                unsigned key = (unsigned)(tap_rand() % KEYS);
                char k[16], v[128];
                snprintf(k, sizeof k, "k%06u", key);
                CHECK(weir_store_put(w, t, k, strlen(k), v, value_of(key, round, v), &err));
            }
            if (c == 7) /* the round ends with every key at its value */
                for (unsigned key = 0; key < KEYS; key++) {
                    char k[16], v[128];
                    snprintf(k, sizeof k, "k%06u", key);
                    CHECK(weir_store_put(w, t, k, strlen(k), v, value_of(key, round, v), &err));
                }
            CHECK(weir_store_commit(w, &err));
        }
    weir_store_table e;
    CHECK(weir_store_table_open(s, "empty", true, &e, &err));
    weir_store *reader = hold ? open_store(dir, true) : NULL;
    if (clean)
        weir_store_compact_at_close(s);
    weir_store_close(s);
    return reader;
}

/* Whether the store in dir holds every key at its last round's value
 * (each value read through its checksum) and the empty table. */
static bool whole(const char *dir)
{
    weir_store *s;
    weir_store_options o = {.read_only = true};
    if (weir_store_open(dir, &o, &s, &err) != WEIR_OK)
        return false;
    weir_store_table t, e;
    weir_store_snap *r;
    bool ok = weir_store_table_open(s, "c", false, &t, &err) == WEIR_OK &&
              weir_store_table_open(s, "empty", false, &e, &err) == WEIR_OK;
    if (weir_store_snap_begin(s, &r, &err) != WEIR_OK) {
        weir_store_close(s);
        return false;
    }
    uint64_t n = 0;
    ok = ok && weir_store_snap_count(r, t, &n, &err) == WEIR_OK && n == KEYS;
    for (unsigned key = 0; key < KEYS && ok; key++) {
        char k[16], want[128];
        const void *v;
        size_t vlen;
        bool found;
        snprintf(k, sizeof k, "k%06u", key);
        size_t wlen = value_of(key, ROUNDS - 1, want);
        ok = weir_store_snap_get(r, t, k, strlen(k), &v, &vlen, &found, &err) == WEIR_OK && found && vlen == wlen &&
             !memcmp(v, want, wlen);
    }
    weir_store_snap_end(r);
    weir_store_close(s);
    return ok;
}

static off_t file_bytes(const char *dir)
{
    char f[4300];
    struct stat st;
    snprintf(f, sizeof f, "%s/data.mdb", dir);
    return stat(f, &st) == 0 ? st.st_size : -1;
}

static bool copy_left(const char *dir)
{
    char f[4300];
    snprintf(f, sizeof f, "%s/data.mdb.compact", dir);
    return access(f, F_OK) == 0;
}

/* One commit more in the store: a writer goes on after a compaction. */
static bool writes(const char *dir)
{
    weir_store *s;
    if (weir_store_open(dir, NULL, &s, &err) != WEIR_OK)
        return false;
    weir_store_table t;
    weir_store_txn *w;
    int rc = weir_store_table_open(s, "after", true, &t, &err);
    if (rc == WEIR_OK && (rc = weir_store_begin(s, &w, &err)) == WEIR_OK &&
        (rc = weir_store_put(w, t, "x", 1, "y", 1, &err)) == WEIR_OK)
        rc = weir_store_commit(w, &err);
    weir_store_close(s);
    return rc == WEIR_OK;
}

static void test_close_compacts(const char *base)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/close", base);
    fill(dir, false, true); /* closed cleanly: compacted */
    off_t after = file_bytes(dir);
    /* the same again, the writer's close kept from compacting by a second open store of this process */
    char dir2[4200];
    snprintf(dir2, sizeof dir2, "%s/kept", base);
    weir_store *reader = fill(dir2, true, true);
    off_t kept = file_bytes(dir2);
    char dir3[4200]; /* and a close not said to be a clean stop's (a runtime reopening it at once) */
    snprintf(dir3, sizeof dir3, "%s/reopened", base);
    fill(dir3, false, false);
    ok(file_bytes(dir3) > after * 2, "a close that is not a clean stop's does not compact (%lld bytes)",
       (long long)file_bytes(dir3));
    bool done = true;
    CHECK(weir_store_compact(dir2, NULL, &done, &err));
    ok(!done && file_bytes(dir2) == kept, "no compaction while another store of this process has it open");
    weir_store_close(reader);
    diag("after its close %lld bytes, kept %lld", (long long)after, (long long)kept);
    ok(after > 0 && after * 2 < kept, "a store with free pages is compacted at its close (%lld bytes against %lld)",
       (long long)after, (long long)kept);
    ok(whole(dir), "and holds every entry, its checksums read");
    ok(writes(dir) && whole(dir), "a writer goes on in the compacted store");

    /* another process has it open: nothing done */
    int p[2];
    if (pipe(p))
        BAIL("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        BAIL("fork");
    if (pid == 0) {
        weir_store *s = open_store(dir2, true);
        if (write(p[1], "o", 1) != 1)
            _exit(3);
        pause();
        weir_store_close(s);
        _exit(0);
    }
    char c;
    bool ready = read(p[0], &c, 1) == 1;
    CHECK(weir_store_compact(dir2, NULL, &done, &err));
    ok(ready && !done && file_bytes(dir2) == kept, "no compaction while another process has the store open");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(p[0]);
    close(p[1]);
    CHECK(weir_store_compact(dir2, NULL, &done, &err));
    ok(done && file_bytes(dir2) < kept && whole(dir2), "once it closed, weir_store_compact compacts it");
}

/* The child: compacts the store again and again until killed. */
static void compact_forever(const char *dir, int fd)
{
    bool done;
    for (unsigned i = 0;; i++) {
        CHECK(weir_store_compact(dir, NULL, &done, &err));
        if (!done)
            _exit(4);
        if (i == 0 && write(fd, "c", 1) != 1)
            _exit(3);
    }
}

static void test_kill(const char *base)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/kill", base);
    fill(dir, false, true);
    int good = 0, rounds = 8, left = 0;
    for (int round = 0; round < rounds; round++) {
        int p[2];
        if (pipe(p))
            BAIL("pipe");
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
            BAIL("fork");
        if (pid == 0) {
            close(p[0]);
            compact_forever(dir, p[1]);
        }
        close(p[1]);
        char c;
        bool ready = read(p[0], &c, 1) == 1;
        struct timespec ts = {0, (long)(tap_rand() % 40 + 1) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        close(p[0]);
        left += copy_left(dir);
        bool fine = ready && whole(dir) && writes(dir) && !copy_left(dir);
        good += fine;
        if (!fine)
            diag("round %d: ready %d, status %d: %s", round, ready, status, err.msg);
    }
    is_int(good, rounds, "after kill -9 at random moments of compactions the store opens whole and takes commits "
           "(%d rounds)", rounds);
    diag("%d kills left an unfinished copy, which the next open removed", left);
}

/* Opens while another process compacts: an opener waits for the
 * compaction to end (store_env_open), and the compaction does nothing
 * while a process is opening. */
static void test_opens_while_compacting(const char *base)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/opens", base);
    fill(dir, false, false);
    unsigned *compactions = mmap(NULL, sizeof *compactions, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (compactions == MAP_FAILED)
        BAIL("mmap");
    *compactions = 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        BAIL("fork");
    if (pid == 0)
        for (;;) {
            bool done;
            CHECK(weir_store_compact(dir, NULL, &done, &err));
            __atomic_add_fetch(compactions, done, __ATOMIC_RELAXED);
        }
    int good = 0, rounds = 60;
    for (int round = 0; round < rounds; round++) {
        bool fine = round % 4 == 3 ? writes(dir) : whole(dir);
        good += fine;
        if (!fine)
            diag("round %d: %s", round, err.msg);
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    unsigned n = __atomic_load_n(compactions, __ATOMIC_RELAXED);
    is_int(good, rounds, "a store opened, read and written while another process compacts it is whole each time "
           "(%u compactions meanwhile)", n);
    ok(whole(dir) && writes(dir), "and after it");
    munmap(compactions, sizeof *compactions);
}

int main(void)
{
    plan(10);
    char *base = tap_tmpdir("store_compact");
    test_close_compacts(base);
    test_kill(base);
    test_opens_while_compacting(base);
    tap_rmrf(base);
    free(base);
    return done();
}

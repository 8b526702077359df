/*
 * test_task_log.c - what a task store's records resolve to (exec/task_log.c)
 * when saves are written whole, torn (pieces without their head), taken
 * over by a newer epoch, retried, or written late by a stale owner: a load
 * always answers the pieces of one whole save, never a torn one's.
 */
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "exec/task_log.h"
#include "state/changes.h"

static weir_task_log *tl;

/* A change of piece key to val (NULL: removed) in b. */
static void change(weir_buf *b, const char *key, const char *val)
{
    if (weir_changes_add(b, key, strlen(key) + 1, val, val ? strlen(val) + 1 : 0)) /* keys with their NUL: binary */
        abort();
}

/* Saves head and pieces of task at epoch by writer, applying the first n records of the plan (-1: all). */
static int save(const char *task, uint64_t epoch, const char *writer, const char *head, weir_buf *pieces, long n)
{
    weir_task_save_plan plan;
    weir_err err;
    int rc = weir_task_log_plan(tl, task, epoch, writer, (const uint8_t *)head, strlen(head) + 1, pieces, &plan, &err);
    for (size_t i = 0; rc == WEIR_OK && i < plan.n && (n < 0 || (long)i < n); i++) /* the pieces, then the head counting them */
        if ((i == plan.n - 1 && weir_task_log_count(tl, task, &plan)) || weir_task_log_apply(tl, &plan.records[i]))
            abort();
    weir_task_save_plan_free(&plan);
    pieces->len = 0;
    return rc;
}

/* The task's state as "head|key=val|key=val" with pieces sorted, or "-" when none was saved. */
static char *load(const char *task)
{
    static char out[4096];
    weir_task_saved s = {0};
    weir_err err;
    if (weir_task_log_load(tl, task, &s, &err))
        return strcpy(out, err.msg);
    char *pieces[64];
    int n = 0;
    size_t at = 0, klen, vlen;
    const uint8_t *k, *v;
    while (n < 64 && weir_changes_next(&s.pieces, &at, &k, &klen, &v, &vlen)) {
        pieces[n] = malloc(klen + vlen + 2);
        snprintf(pieces[n++], klen + vlen + 2, "%s=%s", (const char *)k, v ? (const char *)v : "(removed)");
    }
    for (int i = 0; i < n; i++) /* sorted: the log's order is its hash table's */
        for (int j = i + 1; j < n; j++)
            if (strcmp(pieces[j], pieces[i]) < 0) {
                char *t = pieces[i];
                pieces[i] = pieces[j];
                pieces[j] = t;
            }
    snprintf(out, sizeof out, "%s", s.found ? (const char *)s.state.data : "-");
    for (int i = 0; i < n; i++) {
        strncat(out, "|", sizeof out - strlen(out) - 1);
        strncat(out, pieces[i], sizeof out - strlen(out) - 1);
        free(pieces[i]);
    }
    weir_buf_free(&s.state);
    weir_buf_free(&s.pieces);
    return out;
}

int main(void)
{
    plan(21);
    weir_buf b = {0};
    tl = weir_task_log_new();

    is_str(load("s/0"), "-", "nothing saved: nothing found");
    change(&b, "a", "1");
    change(&b, "b", "2");
    ok(save("s/0", 1, "x", "h1", &b, -1) == WEIR_OK, "a first save");
    change(&b, "z", "9");
    ok(save("s/1", 1, "x", "other", &b, -1) == WEIR_OK, "another task's save");
    is_str(load("s/0"), "h1|a=1|b=2", "its head and its pieces, not another task's");

    change(&b, "a", "10");
    change(&b, "c", "3");
    change(&b, "b", NULL);
    save("s/0", 1, "x", "h2", &b, 2); /* the process dies after two pieces, before the third and the head */
    is_str(load("s/0"), "h1|a=1|b=2", "a torn save counts for nothing: its pieces read as before it");

    change(&b, "d", "4");
    ok(save("s/0", 2, "y", "h3", &b, -1) == WEIR_OK, "a takeover saves at the next epoch");
    is_str(load("s/0"), "h3|a=1|b=2|d=4", "the torn pieces it never rewrote still read as before");

    /* the stale owner goes on writing at its old epoch */
    change(&b, "c", "33");
    ok(save("s/0", 1, "x", "h-stale", &b, -1) == WEIR_EBUSY, "a stale owner's save is refused");
    weir_task_record late = {(const uint8_t *)"piece/s/0:a", 12, (const uint8_t *)"99", 3, 1, 7, "x", (const uint8_t *)"1", 2, NULL, false, 0};
    ok(weir_task_log_apply(tl, &late) == 0, "a stale owner's piece written anyway");
    is_str(load("s/0"), "h3|a=1|b=2|d=4", "reads as its undo: its epoch was vouched for only up to the takeover");

    change(&b, "a", "20");
    change(&b, "d", NULL);
    save("s/0", 2, "y", "h4", &b, -1);
    is_str(load("s/0"), "h4|a=20|b=2", "the owner's next save: a changed, d removed");

    change(&b, "a", "30");
    change(&b, "e", "5");
    save("s/0", 2, "y", "h5", &b, 1); /* torn within an epoch, then retried whole by the same owner */
    is_str(load("s/0"), "h4|a=20|b=2", "a torn save of the owner's own epoch reads as before it");
    change(&b, "a", "30");
    change(&b, "e", "5");
    save("s/0", 2, "y", "h5", &b, -1);
    is_str(load("s/0"), "h5|a=30|b=2|e=5", "and its retry counts whole");

    /* a head from before pieces (no sequence, no vouches): its pieces are none */
    weir_task_record old = {(const uint8_t *)"state/s/2", 9, (const uint8_t *)"whole", 6, 4, 0, "x", NULL, 0, NULL, false, 0};
    weir_task_log_apply(tl, &old);
    is_str(load("s/2"), "whole", "a whole state from before pieces loads as it is");
    change(&b, "f", "6");
    save("s/2", 5, "x", "h6", &b, -1);
    is_str(load("s/2"), "h6|f=6", "and is followed by pieces");

    /* an owner that claimed and died in its first save, before any head: the next owner passes its epoch */
    weir_task_record claim = {(const uint8_t *)"owner/s/3", 9, (const uint8_t *)"http://a", 9, 1, 0, "x", NULL, 0, NULL, false, 0};
    weir_task_log_apply(tl, &claim);
    change(&b, "a", "1");
    change(&b, "b", "2");
    save("s/3", 1, "x", "h1", &b, 2);
    weir_task_saved got = {0};
    weir_err err;
    weir_task_log_load(tl, "s/3", &got, &err);
    ok(!got.found && got.last_epoch == 1, "a task claimed and torn before its first head: none found, epoch 1 taken (%llu)",
       (unsigned long long)got.last_epoch);
    change(&b, "c", "3");
    save("s/3", got.last_epoch + 1, "y", "h2", &b, -1);
    is_str(load("s/3"), "h2|c=3", "the next owner's save does not vouch for the torn pieces");

    /* a stale owner's whole save lands after the next owner restored: the next owner vouches for what it restored */
    change(&b, "a", "1");
    save("s/4", 1, "x", "h1", &b, -1);
    weir_task_log_load(tl, "s/4", &got, &err);
    change(&b, "a", "2");
    ok(save("s/4", 1, "x", "h-stale", &b, -1) == WEIR_OK, "the stale owner's save lands after the restore");
    change(&b, "d", "4");
    save("s/4", got.last_epoch + 1, "y", "h3", &b, -1);
    is_str(load("s/4"), "h3|a=1|d=4", "the new owner's first save vouches for the head it restored, not the stale one");
    /* a topic trimmed by retention rather than compacted: the head counts more pieces than are left */
    change(&b, "a", "1");
    change(&b, "b", "2");
    save("s/5", 1, "x", "h1", &b, -1);
    weir_task_log *trimmed = weir_task_log_new();
    weir_task_record r;
    ok(weir_task_log_get(tl, "piece/s/5:b", 12, &r) && weir_task_log_apply(trimmed, &r) == 0 &&
       weir_task_log_get(tl, "state/s/5", 9, &r) && weir_task_log_apply(trimmed, &r) == 0, "the topic without piece a");
    weir_buf_free(&got.state);
    weir_buf_free(&got.pieces);
    int rc = weir_task_log_load(trimmed, "s/5", &got, &err);
    ok(rc == WEIR_ECORRUPT && strstr(err.msg, "holds 1 of the 2 groups") && strstr(err.msg, "compact"),
       "a load of it is refused, not answered short: %s", rc ? err.msg : "loaded");
    weir_task_log_free(trimmed);
    weir_buf_free(&got.state);
    weir_buf_free(&got.pieces);

    weir_buf_free(&b);
    weir_task_log_free(tl);
    return done();
}

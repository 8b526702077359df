/*
 * statements.c - statements added at runtime (POST /v1/statements, weir
 * sql): CREATE, CREATE OR REPLACE and DROP of streams, tables, sinks,
 * routes and endpoints in a running server.
 *
 * The pipeline file comes first, then each group of added statements (a
 * request's CREATEs), saved in DATA/statements.sql:
 *
 *     -- statement s1
 *     CREATE TABLE per_city AS SELECT ...;
 *     -- statement s2
 *     ...
 *
 * so a restart plans the same catalog. Each group's queries run in a
 * runner of their own (groups.c), with its own checkpoint in
 * DIR/pipeline/added/<group>: a new query reads its inputs from their
 * earliest retained record while the others go on from theirs. The file
 * may not redeclare what a group added (the start is refused, naming
 * both), nor may a statement touch what the file declares.
 *
 * Applying a statement replaces the catalog: the pipeline thread waits
 * until no request is inside the runtime (the gate), checkpoints every
 * runner, ends the change feeds, saves the statements, closes what the
 * old catalog decided and opens what the new one does. A dropped or
 * replaced group's directory and derived streams are deleted; source
 * streams keep their records (as ksqlDB's DROP STREAM keeps its topic).
 */
#include "runtime/runtime_internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/io.h"
#include "json/json.h"
#include "runtime/kafka_topics.h"
#include "runtime/statements_file.h"
#include "sql/ast.h"

struct kept_plan {
    weir_arena arena;
    weir_catalog cat;
    struct kept_plan *next;
};

/* A request checked on its caller's thread, for the pipeline thread. */
struct statement_request {
    added_group *added;           /* the new list, owned */
    int nadded;
    unsigned next_group;
    kept_plan *plan;              /* its catalog */
    int *rel_ends, *query_ends;   /* per part (the file, then each group): where its relations and queries end */
    char **dropped;               /* groups whose directory and derived streams go */
    int ndropped;
    weir_buf answer;
    void (*done)(void *ctx, const weir_answer *a);
    void *ctx;
};

static void request_free(statement_request *r)
{
    if (!r)
        return;
    weir_statements_free(r->added, r->nadded);
    if (r->plan) {
        weir_arena_free(&r->plan->arena);
        free(r->plan);
    }
    free(r->rel_ends);
    free(r->query_ends);
    for (int i = 0; i < r->ndropped; i++)
        free(r->dropped[i]);
    free(r->dropped);
    weir_buf_free(&r->answer);
    free(r);
}

static void statements_path(const weir_runtime *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s/statements.sql", weir_log_dir(s->log));
}

/* ---- the gate ---- */

void runtime_gate_init(weir_runtime *s)
{
    pthread_mutex_init(&s->gate_lock, NULL);
    pthread_cond_init(&s->gate_cond, NULL);
}

void runtime_gate_destroy(weir_runtime *s)
{
    pthread_cond_destroy(&s->gate_cond);
    pthread_mutex_destroy(&s->gate_lock);
}

void weir_runtime_enter(weir_runtime *s)
{
    pthread_mutex_lock(&s->gate_lock);
    while (s->gate_shut)
        pthread_cond_wait(&s->gate_cond, &s->gate_lock);
    s->gate_inside++;
    pthread_mutex_unlock(&s->gate_lock);
}

void weir_runtime_leave(weir_runtime *s)
{
    pthread_mutex_lock(&s->gate_lock);
    if (--s->gate_inside == 0)
        pthread_cond_broadcast(&s->gate_cond);
    pthread_mutex_unlock(&s->gate_lock);
}

void weir_runtime_on_catalog(weir_runtime *s, void (*fn)(void *ctx, const weir_catalog *cat), void *ctx)
{
    s->on_catalog = fn;
    s->on_catalog_ctx = ctx;
}

/* Shuts the gate and waits until no request is inside, making the calls
 * they ask of the pipeline thread (metrics) meanwhile. */
static void gate_shut(weir_runtime *s)
{
    pthread_mutex_lock(&s->gate_lock);
    s->gate_shut = true;
    while (s->gate_inside > 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 5000000; /* the last to leave signals; meanwhile a request may wait for a loop call */
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->gate_cond, &s->gate_lock, &until);
        pthread_mutex_unlock(&s->gate_lock);
        runtime_make_loop_calls(s);
        pthread_mutex_lock(&s->gate_lock);
    }
    pthread_mutex_unlock(&s->gate_lock);
}

static void gate_open(weir_runtime *s)
{
    pthread_mutex_lock(&s->gate_lock);
    s->gate_shut = false;
    pthread_cond_broadcast(&s->gate_cond);
    pthread_mutex_unlock(&s->gate_lock);
}

/* ---- DATA/statements.sql ---- */

/* DATA/statements.sql for groups g[0..n) and the next group's number (kept
 * with no group left too: a name once given is never given again). */
static int save_groups(const weir_runtime *s, const added_group *g, int n, unsigned next, weir_err *err)
{
    char path[PATH_MAX];
    statements_path(s, path, sizeof path);
    weir_buf b = {0};
    int rc = weir_statements_format(g, n, next, &b)
                 ? weir_err_set(err, WEIR_ENOMEM, "out of memory")
                 : weir_io_write_file_atomic(weir_log_io(s->log), path, (const char *)b.data, b.len, err);
    weir_buf_free(&b);
    return rc;
}

/* ---- planning the file and the groups together ---- */

int runtime_planned_text(const weir_runtime *s, const added_group *g, int n, weir_buf *out, size_t *starts)
{
    int rc = weir_buf_append(out, s->sql, s->sql_len) || weir_buf_append_str(out, "\n");
    for (int k = 0; k < n && !rc; k++) {
        if (starts)
            starts[k] = out->len;
        rc = weir_buf_append(out, g[k].sql, g[k].len) || weir_buf_append_str(out, "\n");
    }
    return rc ? WEIR_ENOMEM : WEIR_OK;
}

/* Plans the file and groups g[0..n) into plan, noting where each part's
 * relations and queries end (rel_ends[0] the file's); on failure the part
 * that failed (0 the file, k the group g[k-1]) in *failed and why in e,
 * its line counted within that part. Each prefix of the text (the file
 * and the first k groups) is planned too, in a scratch arena, for those
 * ends and to blame the first part that fails. */
static int plan_parts(weir_runtime *s, const added_group *g, int n, kept_plan *plan, int *rel_ends, int *query_ends,
                      int *failed, weir_sql_error *e)
{
    weir_buf text = {0};
    size_t *starts = malloc(((size_t)n + 1) * sizeof *starts);
    int rc = !starts ? WEIR_ENOMEM : runtime_planned_text(s, g, n, &text, starts);
    for (int k = 0; k <= n && rc == WEIR_OK; k++) {
        weir_arena scratch = {0};
        weir_catalog cat;
        bool last = k == n;
        *e = (weir_sql_error){0};
        rc = s->opt.plan(s->opt.plan_ctx, (const char *)text.data, last ? text.len : starts[k],
                         last ? &plan->arena : &scratch, last ? &plan->cat : &cat, e);
        if (rc == WEIR_OK) {
            rel_ends[k] = (last ? plan->cat : cat).nrels;
            query_ends[k] = (last ? plan->cat : cat).nqueries;
        } else {
            *failed = k;
            uint32_t first_line = 1; /* where part k starts */
            for (size_t i = 0; k > 0 && i < starts[k - 1]; i++)
                first_line += text.data[i] == '\n';
            if (k > 0 && e->line >= first_line)
                e->line -= first_line - 1;
        }
        weir_arena_free(&scratch);
    }
    if (rc == WEIR_ENOMEM) {
        *failed = 0;
        *e = (weir_sql_error){.msg = "out of memory"};
    }
    free(starts);
    weir_buf_free(&text);
    return rc;
}

/* The runner groups of a catalog planned by plan_parts. */
static int make_groups(weir_runtime *s, const weir_catalog *cat, const added_group *g, int n, const int *rel_ends,
                       const int *query_ends, weir_err *err)
{
    runner_group *groups = calloc((size_t)n + 1, sizeof *groups);
    if (!groups)
        return weir_err_set(err, WEIR_ENOMEM, "out of memory");
    for (int k = 0; k <= n; k++) {
        int r0 = k ? rel_ends[k - 1] : 0, q0 = k ? query_ends[k - 1] : 0;
        runner_group *rg = &groups[k];
        *rg = (runner_group){.runtime = s, .cat = *cat, .first_query = q0, .rels_begin = r0, .rels_end = rel_ends[k],
                             .name = k ? g[k - 1].name : NULL, .sql = k ? g[k - 1].sql : s->sql,
                             .sql_len = k ? g[k - 1].len : s->sql_len};
        rg->cat.queries = cat->queries + q0;
        rg->cat.nqueries = query_ends[k] - q0;
    }
    free(s->groups);
    s->groups = groups;
    s->ngroups = n + 1;
    return WEIR_OK;
}

/* The runner directories of groups statements.sql no longer lists (a
 * crash between saving it and sweeping a dropped group): removed, so no
 * checkpoint of theirs outlives them. */
static int sweep_orphans(const weir_runtime *s, weir_err *err)
{
    char dir[PATH_MAX], path[PATH_MAX + 300];
    weir_pipeline_dir(weir_log_dir(s->log), dir, sizeof dir);
    strncat(dir, "/added", sizeof dir - strlen(dir) - 1);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? WEIR_OK : weir_err_set(err, WEIR_EIO, "%s: %s", dir, strerror(errno));
    int rc = WEIR_OK;
    for (struct dirent *e; rc == WEIR_OK && (e = readdir(d));) {
        bool listed = e->d_name[0] == '.';
        for (int i = 0; i < s->nadded && !listed; i++)
            listed = !strcmp(s->added[i].name, e->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!listed)
            rc = weir_remove_tree(path, err);
    }
    closedir(d);
    return rc;
}

int runtime_statements_load(weir_runtime *s, weir_err *err)
{
    char path[PATH_MAX], *text = NULL;
    size_t len = 0;
    statements_path(s, path, sizeof path);
    int got = weir_io_read_file(weir_log_io(s->log), path, &text, &len, err);
    if (got != WEIR_OK && got != WEIR_ENOENT)
        return got;
    s->next_group = 1;
    int rc = got == WEIR_OK ? weir_statements_parse(text, len, &s->added, &s->nadded, &s->next_group, err) : WEIR_OK;
    free(text);
    if (rc)
        return weir_err_wrap(err, "%s", path);
    if ((rc = sweep_orphans(s, err)))
        return rc;
    if (s->nadded == 0) {
        int ends[1] = {s->cat->nrels}, qends[1] = {s->cat->nqueries};
        return make_groups(s, s->cat, NULL, 0, ends, qends, err);
    }
    if (!s->opt.plan)
        return weir_err_set(err, WEIR_EINVAL, "%s holds statements added at runtime, which this command cannot run", path);
    kept_plan *plan = calloc(1, sizeof *plan);
    int *rel_ends = calloc((size_t)s->nadded + 1, sizeof *rel_ends), *query_ends = calloc((size_t)s->nadded + 1, sizeof *query_ends);
    int failed;
    weir_sql_error e;
    if (!plan || !rel_ends || !query_ends)
        rc = weir_err_set(err, WEIR_ENOMEM, "out of memory");
    else if (plan_parts(s, s->added, s->nadded, plan, rel_ends, query_ends, &failed, &e))
        rc = weir_err_set(err, WEIR_EINVAL, "%s %s, line %u, column %u: %s; the pipeline file comes first, then the "
                          "statements added at runtime: a name both declare, or a statement that no longer fits the "
                          "file, is refused. Change the file, or remove the group from %s (what it made is rebuilt "
                          "when it is added again)", failed ? "the statements added as" : "the pipeline file",
                          failed ? s->added[failed - 1].name : s->opt.pipeline_path ? s->opt.pipeline_path : "",
                          e.line, e.col, e.msg, path);
    if (rc == WEIR_OK) {
        plan->next = s->plans;
        s->plans = plan;
        s->cat = &plan->cat;
        rc = make_groups(s, s->cat, s->added, s->nadded, rel_ends, query_ends, err);
    } else if (plan) {
        weir_arena_free(&plan->arena);
        free(plan);
    }
    free(rel_ends);
    free(query_ends);
    return rc;
}

void runtime_statements_free(weir_runtime *s)
{
    weir_statements_free(s->added, s->nadded);
    s->added = NULL;
    s->nadded = 0;
    free(s->groups);
    s->groups = NULL;
    for (kept_plan *p = s->plans, *next; p; p = next) {
        next = p->next;
        weir_arena_free(&p->arena);
        free(p);
    }
    s->plans = NULL;
    request_free(s->statement);
    s->statement = NULL;
}

/* ---- a request ---- */

/* Whether stmt declares a name (what DROP and OR REPLACE find): a
 * stream's, a table's or a sink's; a route's or an endpoint's is its
 * text ('POST /x/{id}'), as DROP ROUTE names it. */
static bool declares(const weir_stmt *st)
{
    return st->kind == WEIR_STMT_CREATE_STREAM || st->kind == WEIR_STMT_CREATE_STREAM_AS ||
           st->kind == WEIR_STMT_CREATE_TABLE || st->kind == WEIR_STMT_CREATE_TABLE_AS || st->kind == WEIR_STMT_CREATE_SINK ||
           st->kind == WEIR_STMT_CREATE_ROUTE || st->kind == WEIR_STMT_CREATE_ENDPOINT;
}

static const char *declared(const weir_stmt *st)
{
    return st->kind == WEIR_STMT_CREATE_ROUTE || st->kind == WEIR_STMT_CREATE_ENDPOINT ? st->route : st->name;
}

/* The names a text declares, into names (up to cap); -1 if it does not parse. */
static int declared_names(const char *sql, size_t len, weir_arena *a, const char **names, int cap)
{
    weir_stmt **st;
    size_t n;
    weir_sql_error e;
    if (weir_sql_parse(sql, len, a, &st, &n, &e))
        return -1;
    int k = 0;
    for (size_t i = 0; i < n && k < cap; i++)
        if (declares(st[i]))
            names[k++] = declared(st[i]);
    return k;
}

/* The group (index into s->added) declaring name, -1 if none, -2 if the file does. */
static int declared_by(weir_runtime *s, weir_arena *a, const char *name)
{
    const char *names[256];
    int n = declared_names(s->sql, s->sql_len, a, names, 256);
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return -2;
    for (int g = 0; g < s->nadded; g++) {
        n = declared_names(s->added[g].sql, s->added[g].len, a, names, 256);
        for (int i = 0; i < n; i++)
            if (!strcmp(names[i], name))
                return g;
    }
    return -1;
}

static bool in_list(const char *const *list, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i], name))
            return true;
    return false;
}

/* Checks the request's statements against what the file and the groups
 * declare: removed[g] for each group a DROP or OR REPLACE takes away, the
 * names dropped in gone (*ngone), the new group's text in created. 400
 * (or 404) in *a if refused. */
static bool check_request(weir_runtime *s, weir_stmt **st, size_t n, weir_arena *ar, bool *removed, const char **gone,
                          int *ngone, weir_buf *created, weir_answer *a)
{
    const char *made[256];
    int nmade = 0;
    *ngone = 0;
    if (n > 256) {
        answer_error(a, 400, "%zu statements in one request: at most 256", n);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const weir_stmt *t = st[i];
        bool drop = t->kind == WEIR_STMT_DROP;
        if (!drop && !declares(t) && t->kind != WEIR_STMT_INSERT && t->kind != WEIR_STMT_CREATE_ROUTE &&
            t->kind != WEIR_STMT_CREATE_ENDPOINT) {
            answer_error(a, 400, "line %u: only CREATE, CREATE OR REPLACE, INSERT INTO and DROP statements are applied "
                         "here; queries go to POST /v1/query", t->pos.line);
            return false;
        }
        if (t->kind == WEIR_STMT_INSERT && !in_list(made, nmade, t->name)) {
            answer_error(a, 400, "line %u: INSERT INTO %s: at runtime a query inserts only into a stream created in the "
                         "same request (another runner writes %s)", t->pos.line, t->name, t->name);
            return false;
        }
        const char *name = drop ? t->name : declares(t) ? declared(t) : t->name;
        int g = drop || declares(t) ? declared_by(s, ar, name) : -1;
        if (g == -2 && (drop || t->or_replace)) {
            answer_error(a, 400, "line %u: %s is declared in the pipeline file %s: change it there and restart", t->pos.line,
                         name, s->opt.pipeline_path ? s->opt.pipeline_path : "");
            return false;
        }
        if (drop && g < 0 && !t->if_exists) {
            answer_error(a, 404, "line %u: DROP %s: nothing of that name was added at runtime", t->pos.line, name);
            return false;
        }
        if (g >= 0 && (drop || t->or_replace)) {
            removed[g] = true;
            gone[(*ngone)++] = name;
        }
        if (drop)
            continue;
        if (strstr(t->text, "\n-- statement ")) { /* statements.sql's mark (statements_file.h) */
            answer_error(a, 400, "line %u: a line starting '-- statement ' inside a statement is weir's own mark in "
                         "DATA/statements.sql: reword that comment", t->pos.line);
            return false;
        }
        if (declares(t))
            made[nmade++] = name;
        const char *text = t->text;
        if (t->or_replace) /* saved as a plain CREATE: in the list of groups each name is declared once */
            text = strcasestr(text, "REPLACE") + strlen("REPLACE");
        uint32_t line = 1; /* each statement on the line it had in the request, so errors name that line */
        for (size_t c = 0; c < created->len; c++)
            line += created->data[c] == '\n';
        for (; line < t->pos.line; line++)
            if (weir_buf_append_str(created, "\n"))
                break;
        /* a trailing -- comment would swallow the ';' */
        if (weir_buf_printf(created, "%s%s%s\n", t->or_replace ? "CREATE" : "", text, strstr(text, "--") ? "\n;" : ";")) {
            answer_error(a, 500, "out of memory");
            return false;
        }
    }
    for (int g = 0; g < s->nadded; g++) { /* a group goes whole */
        const char *names[256];
        int k = removed[g] ? declared_names(s->added[g].sql, s->added[g].len, ar, names, 256) : 0;
        const char *named = NULL; /* the name the request gave of this group */
        for (int i = 0; i < k && !named; i++)
            named = in_list(gone, *ngone, names[i]) ? names[i] : NULL;
        for (int i = 0; i < k; i++)
            if (!in_list(gone, *ngone, names[i]) && !in_list(made, nmade, names[i])) {
                answer_error(a, 400, "%s was added in one request (%s) with %s: drop or replace them together",
                             named ? named : gone[0], s->added[g].name, names[i]);
                return false;
            }
    }
    return true;
}

/* {"dropped": [names], "group": "sN" or null, "sql": what it runs} */
static int put_answer(weir_buf *b, const char *const *gone, int ngone, const char *group, const weir_buf *created)
{
    int rc = weir_buf_append_str(b, "{\"dropped\":[");
    for (int i = 0; i < ngone && !rc; i++)
        rc = (i && weir_buf_append_str(b, ",")) || weir_json_quote(b, gone[i], strlen(gone[i]));
    rc = rc || weir_buf_append_str(b, "],\"group\":");
    if (group)
        rc = rc || weir_json_quote(b, group, strlen(group)) || weir_buf_append_str(b, ",\"sql\":") ||
             weir_json_quote(b, (const char *)created->data, created->len);
    else
        rc = rc || weir_buf_append_str(b, "null");
    return rc || weir_buf_append_str(b, "}");
}

/* Whether one of the groups the request removes declared name. */
static bool removed_declares(const weir_runtime *s, const bool *removed, const char *name)
{
    for (int g = 0; g < s->nadded; g++)
        for (int i = s->groups[g + 1].rels_begin; removed[g] && i < s->groups[g + 1].rels_end; i++)
            if (!strcmp(s->cat->rels[i]->name, name))
                return true;
    return false;
}

/* The streams the new group (cat->rels[from, to)) declares, against those
 * the log holds: the same partitions, and no records in one the group
 * would write unless a group the request removes wrote them (a source
 * dropped earlier keeps its records; a plain topic is a producer's). */
static bool check_streams(weir_runtime *s, const weir_catalog *cat, int from, int to, const bool *removed, weir_answer *a)
{
    for (int i = from; i < to; i++) {
        const weir_relation *rel = cat->rels[i];
        weir_stream *st;
        if (weir_stream_open(s->log, rel->name, &st, NULL) != WEIR_OK)
            continue;
        uint32_t parts = weir_stream_get_config(st)->partitions;
        if (parts != rel->partitions) {
            answer_error(a, 400, "stream %s exists with %u partitions and the statement declares %u: declare it WITH "
                         "(partitions = %u), or delete it first", rel->name, parts, rel->partitions, parts);
            return false;
        }
        for (uint32_t p = 0; !rel->is_source && p < parts && !removed_declares(s, removed, rel->name); p++) {
            weir_partition_stats ps;
            if (weir_stream_partition_stats(st, p, &ps, NULL) == WEIR_OK && ps.end_offset > ps.start_offset) {
                answer_error(a, 400, "stream %s holds records the pipeline did not write (a source dropped earlier, "
                             "or a topic producers write): the query would replace them; give it another name, or "
                             "delete the stream first (Kafka DeleteTopics)", rel->name);
                return false;
            }
        }
    }
    return true;
}

void weir_runtime_statements(weir_runtime *s, const char *sql, size_t len, void (*done)(void *ctx, const weir_answer *a),
                             void *ctx)
{
    weir_answer a = {0};
    weir_arena ar = {0};
    weir_stmt **st;
    size_t n = 0;
    weir_sql_error e = {0};
    statement_request *r = calloc(1, sizeof *r);
    bool *removed = calloc((size_t)s->nadded + 1, sizeof *removed);
    weir_buf created = {0};
    const char *gone[256];
    int ngone = 0, failed;
    if (!r || !removed) {
        answer_error(&a, 500, "out of memory");
    } else if (!s->opt.plan || s->opt.stdin_stream || (s->opt.runner && s->opt.runner->tasks)) {
        answer_error(&a, 409, "statements at runtime are not taken by this server (%s): change the pipeline file and "
                     "restart", !s->opt.plan ? "it runs a fixed pipeline" : s->opt.stdin_stream ? "serve --stdin" :
                     "serve --scale-out: every process must run the same pipeline");
    } else if (weir_sql_parse(sql, len, &ar, &st, &n, &e)) {
        answer_error(&a, 400, "line %u, column %u: %s", e.line, e.col, e.msg);
    } else if (n == 0) {
        answer_error(&a, 400, "no statement: send {\"sql\": \"CREATE ...\"}");
    } else if (check_request(s, st, n, &ar, removed, gone, &ngone, &created, &a)) {
        int k = 0;
        r->added = calloc((size_t)s->nadded + 2, sizeof *r->added);
        r->dropped = calloc((size_t)s->nadded + 1, sizeof *r->dropped);
        r->next_group = s->next_group;
        bool oom = !r->added || !r->dropped;
        for (int g = 0; g < s->nadded && !oom; g++) {
            if (removed[g]) {
                oom = !(r->dropped[r->ndropped++] = strdup(s->added[g].name));
                continue;
            }
            r->added[k] = (added_group){strdup(s->added[g].name), strndup(s->added[g].sql, s->added[g].len), s->added[g].len};
            oom = !r->added[k].name || !r->added[k++].sql;
        }
        char name[24];
        if (!oom && created.len) {
            snprintf(name, sizeof name, "s%u", r->next_group++);
            r->added[k] = (added_group){strdup(name), strndup((const char *)created.data, created.len), created.len};
            oom = !r->added[k].name || !r->added[k++].sql;
        }
        r->nadded = k;
        r->plan = oom ? NULL : calloc(1, sizeof *r->plan);
        r->rel_ends = calloc((size_t)k + 1, sizeof *r->rel_ends);
        r->query_ends = calloc((size_t)k + 1, sizeof *r->query_ends);
        if (oom || !r->plan || !r->rel_ends || !r->query_ends)
            answer_error(&a, 500, "out of memory");
        else if (plan_parts(s, r->added, r->nadded, r->plan, r->rel_ends, r->query_ends, &failed, &e) &&
                 failed == k && created.len)
            answer_error(&a, 400, "line %u, column %u: %s", e.line, e.col, e.msg); /* the request's own statements */
        else if (a.status == 0 && e.msg[0])
            answer_error(&a, 400, "with this request, %s %s would no longer plan (line %u, column %u: %s): it reads "
                         "what the request drops or replaces; drop it first",
                         failed ? "the statements added as" : "the pipeline file",
                         failed ? r->added[failed - 1].name : s->opt.pipeline_path ? s->opt.pipeline_path : "", e.line,
                         e.col, e.msg);
        else if (created.len && !check_streams(s, &r->plan->cat, r->rel_ends[k - 1], r->rel_ends[k], removed, &a)) {
            /* answered */
        } else if (put_answer(&r->answer, gone, ngone, created.len ? name : NULL, &created)) {
            answer_error(&a, 500, "out of memory");
        } else if (!created.len && ngone == 0) { /* DROP IF EXISTS of nothing: no change to make */
            answer_json(&a, 200, 0, &r->answer);
        }
    }
    weir_buf_free(&created);
    free(removed);
    weir_arena_free(&ar);
    if (a.status == 0) {
        pthread_mutex_lock(&s->handoff_lock);
        bool busy = s->statement != NULL || s->closing;
        if (!busy) {
            r->done = done;
            r->ctx = ctx;
            s->statement = r;
            pthread_cond_signal(&s->wake);
        }
        pthread_mutex_unlock(&s->handoff_lock);
        if (!busy)
            return;
        answer_error(&a, 503, "another statement is being applied, or weir is stopping: try again");
        a.retry_after_s = 1;
    }
    request_free(r);
    done(ctx, &a);
    weir_answer_free(&a);
}

void runtime_refuse_statement(weir_runtime *s, const char *why)
{
    pthread_mutex_lock(&s->handoff_lock);
    statement_request *r = s->statement;
    s->statement = NULL;
    pthread_mutex_unlock(&s->handoff_lock);
    if (!r)
        return;
    weir_answer a = {0};
    answer_error(&a, 503, "the statement was not applied: %s", why);
    a.retry_after_s = 1;
    r->done(r->ctx, &a);
    weir_answer_free(&a);
    request_free(r);
}

/* ---- applying it, on the pipeline thread ---- */

/* What a dropped or replaced group leaves once the new catalog runs: its
 * runner's directory, and the streams its queries wrote that the new
 * catalog does not declare (nobody holds them: the gate is shut, and
 * what the new catalog opened does not know them). A failure is only
 * reported: the directory is swept at the next start, a stream stays. */
static void sweep_group(weir_runtime *s, const weir_catalog *old, const runner_group *g)
{
    char dir[PATH_MAX];
    weir_err err;
    weir_pipeline_dir(weir_log_dir(s->log), dir, sizeof dir);
    snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/added/%s", g->name);
    if (weir_remove_tree(dir, &err))
        fprintf(stderr, "weir serve: warning: %s\n", err.msg);
    for (int i = g->rels_begin; i < g->rels_end; i++) {
        const weir_relation *rel = old->rels[i];
        if (!rel->is_source && !weir_catalog_find(s->cat, rel->name) && weir_stream_drop(s->log, rel->name, &err) &&
            err.code != WEIR_ENOENT)
            fprintf(stderr, "weir serve: warning: dropping %s: %s\n", rel->name, err.msg);
    }
}

/* The catalog, its groups and what statements.sql says: what a statement
 * replaces, and puts back if the new one does not open. */
typedef struct catalog_state {
    const weir_catalog *cat;
    runner_group *groups;
    int ngroups;
    added_group *added;
    int nadded;
    unsigned next_group;
} catalog_state;

static catalog_state take_state(weir_runtime *s)
{
    catalog_state c = {s->cat, s->groups, s->ngroups, s->added, s->nadded, s->next_group};
    s->groups = NULL;
    s->ngroups = 0;
    s->added = NULL;
    s->nadded = 0;
    return c;
}

static void put_state(weir_runtime *s, const catalog_state *c)
{
    free(s->groups);
    weir_statements_free(s->added, s->nadded);
    s->cat = c->cat;
    s->groups = c->groups;
    s->ngroups = c->ngroups;
    s->added = c->added;
    s->nadded = c->nadded;
    s->next_group = c->next_group;
}

/* Opens the request's catalog in place of the old one (old, taken): 0,
 * or the error, the old catalog open again (the old statements.sql put
 * back); a failure to reopen that is the caller's to report (fatal). */
static int open_new(weir_runtime *s, statement_request *r, catalog_state *old, char *why, size_t cap, weir_err *err)
{
    int rc = make_groups(s, &r->plan->cat, r->added, r->nadded, r->rel_ends, r->query_ends, err);
    s->cat = &r->plan->cat;
    if (rc == WEIR_OK)
        rc = runtime_setup(s, err);
    if (rc == WEIR_OK) {
        for (int d = 0; d < r->ndropped; d++)
            for (int i = 1; i < old->ngroups; i++)
                if (!strcmp(old->groups[i].name, r->dropped[d]))
                    sweep_group(s, old->cat, &old->groups[i]);
        free(old->groups);
        s->added = r->added; /* the request's, now the runtime's */
        s->nadded = r->nadded;
        s->next_group = r->next_group;
        r->added = NULL;
        r->nadded = 0;
        weir_statements_free(old->added, old->nadded);
        r->plan->next = s->plans;
        s->plans = r->plan;
        r->plan = NULL;
        return WEIR_OK;
    }
    snprintf(why, cap, "%s", err->msg);
    runtime_teardown(s);
    put_state(s, old);
    s->next_group = r->next_group; /* the failed group's name is not given again: its directory may be left */
    weir_err ignored;
    if (save_groups(s, s->added, s->nadded, s->next_group, &ignored))
        fprintf(stderr, "weir serve: warning: %s (DATA/statements.sql lists the statement that failed)\n", ignored.msg);
    int back = runtime_setup(s, err);
    return back ? back : WEIR_EINVAL;
}

int runtime_apply_changes(weir_runtime *s, weir_err *err)
{
    pthread_mutex_lock(&s->handoff_lock);
    statement_request *r = s->statement;
    bool drops = s->drops != NULL;
    pthread_mutex_unlock(&s->handoff_lock);
    if (!r && !drops)
        return WEIR_OK;
    gate_shut(s);
    runtime_drop_topics(s);
    if (!r) {
        gate_open(s);
        return WEIR_OK;
    }
    /* Everything handed over so far is committed and answered, every runner checkpointed. */
    runtime_append_queued(s);
    int rc = weir_log_commit(s->log, err);
    if (rc == WEIR_OK)
        s->committed++;
    runtime_answer_pending(s, rc, err->msg);
    if (rc == WEIR_OK)
        rc = runtime_groups_checkpoint(s, false, err);
    weir_answer a = {0};
    if (rc == WEIR_ENOSPC) { /* the next step meets it too, and pauses the pipeline */
        answer_error(&a, 503, "the statement was not applied: %s", err->msg);
        rc = WEIR_OK;
    } else if (rc == WEIR_OK && (rc = save_groups(s, r->added, r->nadded, r->next_group, err))) {
        answer_error(&a, 503, "the statement was not applied: %s", err->msg);
        rc = WEIR_OK; /* nothing changed */
    } else if (rc == WEIR_OK) {
        char why[1024];
        runtime_end_feeds(s);
        runtime_teardown(s);
        catalog_state old = take_state(s);
        rc = open_new(s, r, &old, why, sizeof why, err);
        if (rc == WEIR_OK) {
            if (s->on_catalog)
                s->on_catalog(s->on_catalog_ctx, s->cat);
            answer_json(&a, 200, 0, &r->answer);
        } else if (rc == WEIR_EINVAL) { /* the old catalog runs again */
            answer_error(&a, 400, "the statement was not applied: %s", why);
            rc = WEIR_OK;
        } else {
            answer_error(&a, 500, "the statement was not applied (%s), and the pipeline as it was did not open "
                         "again: %s", why, err->msg);
        }
    }
    pthread_mutex_lock(&s->handoff_lock);
    s->statement = NULL;
    pthread_mutex_unlock(&s->handoff_lock);
    gate_open(s);
    r->done(r->ctx, &a);
    weir_answer_free(&a);
    request_free(r);
    return rc;
}

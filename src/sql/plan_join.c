/*
 * plan_join.c - FROM a [LEFT|FULL] JOIN b ON ... made into a weir_join:
 * a stream-stream interval join, as Flink SQL runs it, or a stream-table
 * join, as ksqlDB runs it: each stream record meets the table's current
 * row of its key (INNER or LEFT; ON names the table's primary key), or
 * with FOR SYSTEM_TIME AS OF the stream's event time, Flink's temporal
 * join: the row as of the record's time.
 *
 * ON is read as a conjunction. One conjunct must be an equality between
 * the two streams' partitioning keys: each input partition then meets the
 * same partition of the other, which is what lets the join keep its state
 * per partition and the runner read both inputs side by side. The
 * conjuncts comparing the two streams' event-time columns (BETWEEN, or >=
 * and <= with INTERVAL offsets) make the time bound lo <= b.ts - a.ts <=
 * hi: without both ends a record could meet any later record of the other
 * side, so it would be kept forever; such a join is refused. Every other
 * conjunct stays a condition over the joined row.
 */
#include "sql/plan_internal.h"

#include <string.h>

/* The name a side's columns are written with: its alias, else the stream's. */
static const char *side_name(const plan_scope *s) { return s->alias ? s->alias : s->name; }

static int side_of(const planner *P, int col) { return col >= P->scope[1].offset; }

/* If x is a side's event-time column, optionally plus or minus an
 * INTERVAL, sets *side and *offset (ms) and says true. */
static bool time_term(planner *P, const weir_join *j, const weir_relation *left, weir_expr *x, int *side,
                      int64_t *offset)
{
    int64_t off = 0;
    if (x->kind == WEIR_E_BINARY && (x->op.op == WEIR_OP_ADD || x->op.op == WEIR_OP_SUB)) {
        weir_expr *iv = x->op.b, *col = x->op.a;
        if (x->op.op == WEIR_OP_ADD && x->op.a->kind == WEIR_E_LITERAL && x->op.a->interval) {
            iv = x->op.a;
            col = x->op.b;
        }
        if (!(iv->kind == WEIR_E_LITERAL && iv->interval))
            return false;
        off = x->op.op == WEIR_OP_ADD ? iv->lit.i : -iv->lit.i;
        x = col;
    }
    if (x->kind != WEIR_E_COLUMN)
        return false;
    plan_resolve(P, x);
    int s = side_of(P, x->col.index);
    const weir_relation *rel = s ? j->right : left;
    if (x->col.index - P->scope[s].offset != rel->ts_col) {
        if (x->type == WEIR_TYPE_TIMESTAMP)
            fail(P, x->pos, "%s.%s is not the event-time column of %s (WITH (timestamp = ...)%s): a join's time bound "
                            "compares the two streams' event times", side_name(&P->scope[s]), x->col.name, rel->name,
                 rel->ts_col >= 0 ? "" : ": it has none");
        return false;
    }
    *side = s;
    *offset = off;
    return true;
}

/* Adds a bound on d = right.ts - left.ts from `a op b`, op one of < <= >= >
 * between time terms of the two sides; false if the conjunct is not one. */
static bool time_compare(planner *P, weir_join *j, const weir_relation *left, weir_op op, weir_expr *a, weir_expr *b,
                         bool *has_lo, bool *has_hi)
{
    int sa, sb;
    int64_t oa, ob;
    if (!time_term(P, j, left, a, &sa, &oa) || !time_term(P, j, left, b, &sb, &ob))
        return false;
    if (sa == sb)
        fail(P, a->pos, "this time bound compares %s with itself: it must compare the two streams' event times",
             side_name(&P->scope[sa]));
    /* Make it right.ts + ob' op left.ts + oa', i.e. d op oa' - ob'. */
    if (sa == 0) {
        weir_expr *t = a; a = b; b = t;
        int64_t o = oa; oa = ob; ob = o;
        op = op == WEIR_OP_LT ? WEIR_OP_GT : op == WEIR_OP_LE ? WEIR_OP_GE : op == WEIR_OP_GE ? WEIR_OP_LE : WEIR_OP_LT;
    }
    int64_t c = ob - oa; /* right.ts op left.ts + c: intervals are at most 1e15 ms, so this does not overflow */
    if (op == WEIR_OP_LT || op == WEIR_OP_LE) {
        int64_t hi = op == WEIR_OP_LT ? c - 1 : c; /* event times are whole milliseconds */
        if (!*has_hi || hi < j->hi)
            j->hi = hi;
        *has_hi = true;
    } else {
        int64_t lo = op == WEIR_OP_GT ? c + 1 : c;
        if (!*has_lo || lo > j->lo)
            j->lo = lo;
        *has_lo = true;
    }
    return true;
}

/* The conjuncts of x (a AND b AND ...), in order, into v. */
static void conjuncts(planner *P, weir_expr *x, weir_expr ***v, int *n)
{
    if (x->kind == WEIR_E_BINARY && x->op.op == WEIR_OP_AND) {
        conjuncts(P, x->op.a, v, n);
        conjuncts(P, x->op.b, v, n);
        return;
    }
    weir_expr **w = alloc(P, (size_t)(*n + 1) * sizeof *w);
    if (*n)
        memcpy(w, *v, (size_t)*n * sizeof *w);
    w[(*n)++] = x;
    *v = w;
}

static weir_expr *and_of(planner *P, weir_expr *a, weir_expr *b)
{
    if (!a)
        return b;
    weir_expr *x = alloc(P, sizeof *x);
    x->kind = WEIR_E_BINARY;
    x->pos = b->pos;
    x->op.op = WEIR_OP_AND;
    x->op.a = a;
    x->op.b = b;
    x->type = WEIR_TYPE_BOOL;
    return x;
}

/* Whether rel is partitioned by its column col alone: WITH (key = 'col'),
 * PARTITION BY col on a derived stream, or a derived stream that keeps the
 * partition of its input's records and col copies the input's key. */
static bool keyed_by(const weir_relation *rel, int col)
{
    if (rel->partition_by)
        return rel->partition_by->kind == WEIR_E_COLUMN && rel->partition_by->col.index == col;
    if (rel->nkey_cols)
        return rel->nkey_cols == 1 && rel->key_col == col;
    const weir_query *q = rel->query;
    if (rel->inserted) /* several queries write it: only WITH key says how all its records are keyed */
        return false;
    if (!q || q->grouped || q->join || rel->partitions != q->source->partitions)
        return false;
    return q->out[col]->kind == WEIR_E_COLUMN && keyed_by(q->source, q->out[col]->col.index);
}

void plan_joins_recheck(planner *P, const weir_stmt *insert, const weir_relation *into)
{
    for (int i = 0; i < P->cat->nqueries; i++) {
        const weir_query *q = P->cat->queries[i];
        const weir_join *j = q->join;
        if (!j || j->tables)
            continue;
        const weir_relation *side = !keyed_by(q->source, j->left_key) ? q->source
                                  : !j->table && !keyed_by(j->right, j->right_key) ? j->right : NULL;
        int col = side == q->source ? j->left_key : j->right_key;
        if (side)
            fail(P, insert->pos, "INSERT INTO %s: query %s joins %s on %s, so its records must be partitioned by it, and "
                                 "with several queries writing %s only its WITH (key = ...) says how they are: declare "
                                 "%s WITH (key = '%s')", into->name, q->name, side->name, side->schema.cols[col].name,
                 into->name, side->name, side->schema.cols[col].name);
    }
}

/* Refuses an input not partitioned by its side of the key equality, naming the fix. */
static void check_keyed(planner *P, const weir_relation *rel, int col, const weir_expr *at)
{
    if (keyed_by(rel, col))
        return;
    const char *c = rel->schema.cols[col].name;
    fail(P, at->pos, "%s is not partitioned by %s, so its records of a key are not in the partition the join reads "
                     "for that key: the inputs of a join must be co-partitioned on the join key; declare it WITH "
                     "(key = '%s'), or re-key it: CREATE STREAM %s_by_%s AS SELECT * FROM %s PARTITION BY %s",
         rel->name, c, c, rel->name, c, rel->name, c);
}

/* The key equality: a.x = b.y between plain columns of the two sides. */
static bool key_equality(planner *P, const weir_expr *x, int *lcol, int *rcol)
{
    if (x->kind != WEIR_E_BINARY || x->op.op != WEIR_OP_EQ || x->op.a->kind != WEIR_E_COLUMN ||
        x->op.b->kind != WEIR_E_COLUMN)
        return false;
    int a = x->op.a->col.index, b = x->op.b->col.index;
    if (side_of(P, a) == side_of(P, b))
        return false;
    *lcol = side_of(P, a) ? b : a;
    *rcol = (side_of(P, a) ? a : b) - P->scope[1].offset;
    return true;
}

/* A stream-table join's ON: the stream's column equal to the table's
 * primary key (the stream co-partitioned by it), the rest a condition. */
static void table_join_on(planner *P, const weir_select *sel, const weir_relation *left, weir_join *j, const char *ln,
                          const char *rn)
{
    const weir_relation *right = j->right;
    if (right->npk != 1)
        fail(P, sel->right_pos, "%s is keyed by %d columns (its GROUP BY columns%s): a stream joins a table keyed by "
                                "one column, whose rows it meets by that key", right->name, right->npk,
             right->query && right->query->window.kind != WEIR_WINDOW_NONE ? " and window_start" : "");
    if (j->kind == WEIR_JOIN_FULL)
        fail(P, sel->join_pos, "a stream-table join is INNER or LEFT: a table's rows are not events that could "
                               "come out unmatched");
    weir_expr *as_of = sel->right_as_of;
    if (as_of) {
        if (as_of->kind == WEIR_E_COLUMN)
            plan_resolve(P, as_of);
        if (as_of->kind != WEIR_E_COLUMN || side_of(P, as_of->col.index) || as_of->col.index != left->ts_col)
            fail(P, as_of->pos, "FOR SYSTEM_TIME AS OF takes %s's event-time column (%s.%s): a record meets the row "
                                "as of its own event time", left->name, ln,
                 left->ts_col >= 0 ? left->schema.cols[left->ts_col].name : "ts, declared WITH (timestamp = 'ts')");
        if (right->ts_col < 0)
            fail(P, as_of->pos, "a temporal join reads %s's rows as of a time, so its records need one: declare "
                                "WITH (timestamp = 'col') on %s", right->name, right->name);
        j->temporal = true;
    }
    weir_expr **v = NULL;
    int n = 0, lcol, rcol;
    bool has_key = false;
    conjuncts(P, sel->on, &v, &n);
    for (int i = 0; i < n; i++) {
        plan_condition(P, v[i], "ON", "");
        if (!has_key && key_equality(P, v[i], &lcol, &rcol) && rcol == right->pk[0]) {
            bool swapped = side_of(P, v[i]->op.a->col.index);
            check_keyed(P, left, lcol, swapped ? v[i]->op.b : v[i]->op.a);
            weir_type lt = left->schema.cols[lcol].type, rt = right->schema.cols[rcol].type;
            if (lt != rt && !((lt == WEIR_TYPE_INT || lt == WEIR_TYPE_UINT) && (rt == WEIR_TYPE_INT || rt == WEIR_TYPE_UINT)))
                fail(P, v[i]->pos, "the join's keys have types %s and %s: equal keys must have the same text to be in "
                                   "the same partition; CAST one side in a re-keyed stream", weir_type_name(lt),
                     weir_type_name(rt));
            j->left_key = lcol;
            j->right_key = rcol;
            has_key = true;
            continue;
        }
        j->on = and_of(P, j->on, v[i]);
    }
    if (!has_key)
        fail(P, sel->on_pos, "a stream-table join needs ON to equal a column of %s with %s's primary key (%s.column = "
                              "%s.%s): a record meets the table's row of that key", ln, rn, ln, rn,
             right->schema.cols[right->pk[0]].name);
}

/* A table-table join's ON: the two primary keys equal, nothing else (a
 * condition on the pair belongs in WHERE, which a row that fails leaves
 * the output table by). */
static void tables_join_on(planner *P, const weir_stmt *st, const weir_relation *left, weir_join *j, const char *ln,
                           const char *rn)
{
    const weir_select *sel = st->select;
    const weir_relation *right = j->right;
    if (st->kind != WEIR_STMT_CREATE_TABLE_AS)
        fail(P, st->pos, "a join of two tables is a table: CREATE TABLE ... AS SELECT ... FROM %s JOIN %s ON ...",
             left->name, right->name);
    if (sel->right_as_of)
        fail(P, sel->right_as_of->pos, "FOR SYSTEM_TIME AS OF joins a stream's records with a table's rows as of "
                                       "their time; two tables join their current rows");
    for (int side = 0; side < 2; side++) {
        const weir_relation *t = side ? right : left;
        if (t->npk != 1)
            fail(P, side ? sel->right_pos : sel->from_pos, "%s is keyed by %d columns: tables join on their primary "
                                                           "keys, one column each", t->name, t->npk);
    }
    weir_expr **v = NULL;
    int n = 0, lcol, rcol;
    conjuncts(P, sel->on, &v, &n);
    for (int i = 0; i < n; i++)
        plan_condition(P, v[i], "ON", "");
    if (n != 1 || !key_equality(P, v[0], &lcol, &rcol) || lcol != left->pk[0] || rcol != right->pk[0])
        fail(P, n ? v[0]->pos : sel->on_pos, "two tables join on their primary keys, and only on them: ON %s.%s = "
                                             "%s.%s (a condition on the pair goes in WHERE)",
             ln, left->schema.cols[left->pk[0]].name, rn, right->schema.cols[right->pk[0]].name);
    weir_type lt = left->schema.cols[lcol].type, rt = right->schema.cols[rcol].type;
    if (lt != rt && !((lt == WEIR_TYPE_INT || lt == WEIR_TYPE_UINT) && (rt == WEIR_TYPE_INT || rt == WEIR_TYPE_UINT)))
        fail(P, v[0]->pos, "the tables' keys have types %s and %s: equal keys must have the same text to be in the "
                           "same partition", weir_type_name(lt), weir_type_name(rt));
    if (lt != rt && j->kind == WEIR_JOIN_FULL) /* a right-only row's key names the row as the left key's type */
        fail(P, v[0]->pos, "a FULL join's row is keyed by its left key even without a left row, so the keys must "
                           "have one type (%s and %s here): CAST one in a derived table", weir_type_name(lt),
             weir_type_name(rt));
    j->left_key = lcol;
    j->right_key = rcol;
}

void plan_check_readable(planner *P, const weir_relation *rel, weir_sql_pos pos)
{
    if (rel->compact == WEIR_CLEANUP_STORE)
        fail(P, pos, "%s keeps its changelog only as far back as its readers need (cleanup_policy = 'store'), so a "
                     "query cannot read it from its start: give it cleanup_policy = 'compact' (the default) to read "
                     "it here", rel->name);
}

void plan_join(planner *P, const weir_stmt *st, const weir_relation *left, weir_query *q)
{
    const weir_select *sel = st->select;
    const weir_relation *right = weir_catalog_find(P->cat, sel->right);
    if (!right)
        fail(P, sel->right_pos, "unknown stream or table %s (declare it first)", sel->right);
    plan_check_readable(P, right, sel->right_pos);
    if (sel->right_as_of && !right->is_table)
        fail(P, sel->right_as_of->pos, "FOR SYSTEM_TIME AS OF reads a table's row as of a time; %s is a stream",
             right->name);
    const char *ln = sel->from_alias ? sel->from_alias : left->name;
    const char *rn = sel->right_alias ? sel->right_alias : right->name;
    if (!strcmp(ln, rn))
        fail(P, sel->right_alias ? sel->right_pos : sel->join_pos,
             "both sides of the join are named %s: give them different aliases (FROM %s AS a JOIN %s AS b)", ln,
             left->name, right->name);
    if (left->partitions != right->partitions)
        fail(P, sel->join_pos, "%s has %u partitions and %s has %u: the inputs of a join must be co-partitioned; "
                               "re-key one into as many partitions: CREATE STREAM ... WITH (partitions = %u) AS SELECT "
                               "... PARTITION BY key", left->name, left->partitions, right->name, right->partitions,
             left->partitions);
    weir_join *j = alloc(P, sizeof *j);
    j->kind = sel->join;
    j->right = right;
    j->tables = left->is_table && right->is_table;
    j->table = right->is_table && !j->tables;
    if (left->is_table && !right->is_table)
        fail(P, sel->from_pos, "%s is a table and %s a stream: a stream joins a table (FROM %s JOIN %s ON ...)",
             left->name, right->name, right->name, left->name);
    j->grace_ms = sel->window.grace_ms;
    int nl = left->schema.ncols, nr = right->schema.ncols;
    j->row.ncols = nl + nr;
    j->row.cols = alloc(P, (size_t)(nl + nr) * sizeof *j->row.cols);
    memcpy(j->row.cols, left->schema.cols, (size_t)nl * sizeof *j->row.cols);
    memcpy(j->row.cols + nl, right->schema.cols, (size_t)nr * sizeof *j->row.cols);
    q->join = j;
    P->input = &j->row;
    P->input_name = "the join";
    P->scope[1] = (plan_scope){right->name, sel->right_alias, nl, nr};
    P->nscope = 2;
    if (j->tables) {
        tables_join_on(P, st, left, j, ln, rn);
        return;
    }
    if (j->table) {
        table_join_on(P, sel, left, j, ln, rn);
        return;
    }

    weir_expr **v = NULL;
    int n = 0;
    conjuncts(P, sel->on, &v, &n);
    bool has_lo = false, has_hi = false, has_key = false;
    const weir_expr *first_eq = NULL;
    for (int i = 0; i < n; i++) {
        weir_expr *x = v[i];
        if (x->kind == WEIR_E_BETWEEN && !x->between.negate) {
            if (time_compare(P, j, left, WEIR_OP_GE, x->between.a, x->between.lo, &has_lo, &has_hi)) {
                if (!time_compare(P, j, left, WEIR_OP_LE, x->between.a, x->between.hi, &has_lo, &has_hi))
                    fail(P, x->between.hi->pos, "the upper end of this time bound must be the other stream's event "
                                                "time, optionally plus or minus an INTERVAL");
                continue;
            }
        } else if (x->kind == WEIR_E_BINARY && (x->op.op == WEIR_OP_LT || x->op.op == WEIR_OP_LE ||
                                                x->op.op == WEIR_OP_GE || x->op.op == WEIR_OP_GT)) {
            if (time_compare(P, j, left, x->op.op, x->op.a, x->op.b, &has_lo, &has_hi))
                continue;
        }
        plan_condition(P, x, "ON", "");
        int lcol, rcol;
        if (!has_key && key_equality(P, x, &lcol, &rcol)) {
            first_eq = first_eq ? first_eq : x;
            if (keyed_by(left, lcol) && keyed_by(right, rcol)) {
                j->left_key = lcol;
                j->right_key = rcol;
                has_key = true;
                continue;
            }
        }
        j->on = and_of(P, j->on, x);
    }
    if (!has_key && first_eq) {
        key_equality(P, first_eq, &j->left_key, &j->right_key);
        bool swapped = side_of(P, first_eq->op.a->col.index);
        check_keyed(P, left, j->left_key, swapped ? first_eq->op.b : first_eq->op.a);
        check_keyed(P, right, j->right_key, swapped ? first_eq->op.a : first_eq->op.b);
    }
    if (!has_key)
        fail(P, sel->on_pos, "a join needs an equality between the two streams' keys in ON (%s.key = %s.key): "
                              "records meet only within a key and its partition", ln, rn);
    weir_type lt = left->schema.cols[j->left_key].type, rt = right->schema.cols[j->right_key].type;
    if (lt != rt && !((lt == WEIR_TYPE_INT || lt == WEIR_TYPE_UINT) && (rt == WEIR_TYPE_INT || rt == WEIR_TYPE_UINT)))
        fail(P, first_eq->pos, "the join's keys have types %s and %s: equal keys must have the same text to be in the "
                               "same partition; CAST one side in a re-keyed stream", weir_type_name(lt),
             weir_type_name(rt));
    if (!has_lo && !has_hi)
        fail(P, sel->on_pos, "a stream-stream join needs a time bound in ON: without one a record could meet any later "
                              "record of the other stream, so both streams would be kept forever; bound it: %s.ts "
                              "BETWEEN %s.ts - INTERVAL '5' MINUTE AND %s.ts + INTERVAL '5' MINUTE", rn, ln, ln);
    if (!has_lo || !has_hi)
        fail(P, sel->on_pos, "this join's time bound has no %s end (%s.ts %s %s.ts %s INTERVAL ...): without it a "
                              "record would be kept forever", has_lo ? "upper" : "lower", rn, has_lo ? "<=" : ">=", ln,
             has_lo ? "+" : "-");
    if (j->lo > j->hi)
        fail(P, sel->on_pos, "this join's time bound is empty: %s.ts - %s.ts would have to be at least %lld ms and "
                              "at most %lld ms", rn, ln, (long long)j->lo, (long long)j->hi);
}

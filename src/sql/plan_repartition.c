/*
 * plan_repartition.c - scale-out's repartitioning, as a rewrite of the
 * catalog (plan.h, weir_catalog_repartition).
 *
 * In scale-out a task holds one partition of its input, so a GROUP BY must
 * find all of a group's records in one partition. When it groups by other
 * columns than the input's key, Kafka Streams and ksqlDB re-key the records
 * through an internal topic; so does this: the query
 *
 *     CREATE TABLE by_city AS SELECT city, COUNT(*) FROM TUMBLE(logins, ...)
 *       WHERE ok GROUP BY city;                 -- logins keyed by user
 *
 * becomes two, joined by a stream "<group>.by_city.repartition" that has
 * the columns and partition count of logins and is keyed by city:
 *
 *     <group>.by_city.repartition = SELECT * FROM logins WHERE ok  (re-keyed)
 *     by_city = SELECT city, COUNT(*) FROM TUMBLE(<that stream>, ...) WHERE ok GROUP BY city
 *
 * The stream has the input's columns in the input's order, so the grouped
 * query's expressions (column indexes over the input row) read it as they
 * read the input: only its source changes. A GROUP BY expression that is
 * not a plain column (lower(city), a CASE) is computed by the writing
 * query into a column of its own after the input's (named "weir_key_<i>"),
 * which keys the stream and which the grouped query then groups by:
 *
 *     <group>.q.repartition = SELECT *, lower(city) AS weir_key_0 FROM logins   (keyed by weir_key_0)
 *     q = SELECT weir_key_0 AS ..., COUNT(*) FROM <that stream> GROUP BY weir_key_0
 *
 * Its WHERE runs before the
 * repartitioning too (fewer records cross the network, and the watermark a
 * repartition record carries, exec/repartition.c, is then that of the
 * records the grouped query takes, as in one process); running it again
 * after is a no-op kept so that EXPLAIN shows the query as written.
 */
#include <stdio.h>
#include <string.h>

#include "sql/plan.h"

bool weir_query_groups_by_key(const weir_query *q)
{
    int found = 0;
    for (int k = 0; k < q->source->nkey_cols; k++)
        for (int i = 0; i < q->nkeys; i++)
            if (q->keys[i]->kind == WEIR_E_COLUMN && q->keys[i]->col.index == q->source->key_cols[k]) {
                found++;
                break;
            }
    return q->source->nkey_cols && found == q->source->nkey_cols;
}

/* Whether q is grouped by other than its stream's key: what a repartition
 * stream keyed by its GROUP BY fixes. */
static bool needs_repartition(const weir_query *q)
{
    return q->grouped && !q->join && q->nkeys > 0 && !q->source->is_table && !weir_query_groups_by_key(q);
}

static int oom(weir_sql_error *e)
{
    *e = (weir_sql_error){0};
    strcpy(e->msg, "out of memory");
    return WEIR_ENOMEM;
}

/* Appends one pointer to an arena array of n (a new array: the old one stays in the arena). */
static void **grow(weir_arena *a, void **v, int n, void *add)
{
    void **grown = weir_arena_alloc(a, (size_t)(n + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    if (n)
        memcpy(grown, v, (size_t)n * sizeof *grown);
    grown[n] = add;
    return grown;
}

/* The name of the column computing q's i-th GROUP BY expression in its
 * repartition stream: "weir_key_<i>", unless the input has a column of
 * that name. NULL when out of memory or taken. */
static const char *computed_name(weir_arena *a, const weir_relation *src, int i)
{
    char name[32];
    snprintf(name, sizeof name, "weir_key_%d", i);
    for (int c = 0; c < src->schema.ncols; c++)
        if (!strcmp(src->schema.cols[c].name, name))
            return NULL;
    return weir_arena_strndup(a, name, strlen(name));
}

/* The repartition stream of q (named name) and the query writing it. */
static int add_repartition(weir_catalog *cat, weir_arena *a, weir_query *q, const char *name, weir_sql_error *e)
{
    const weir_relation *src = q->source;
    int computed = 0; /* GROUP BY expressions that are not plain columns: a column each after the input's */
    for (int i = 0; i < q->nkeys; i++)
        computed += q->keys[i]->kind != WEIR_E_COLUMN;
    int ncols = src->schema.ncols + computed;
    weir_relation *r = weir_arena_alloc(a, sizeof *r);
    weir_query *w = weir_arena_alloc(a, sizeof *w);
    int *key_cols = weir_arena_alloc(a, (size_t)q->nkeys * sizeof *key_cols);
    weir_expr **out = weir_arena_alloc(a, (size_t)ncols * sizeof *out + 1);
    weir_expr *cols = weir_arena_alloc(a, (size_t)ncols * sizeof *cols + 1);
    weir_column *schema = weir_arena_alloc(a, (size_t)ncols * sizeof *schema + 1);
    name = weir_arena_strndup(a, name, strlen(name));
    if (!r || !w || !key_cols || !out || !cols || !schema || !name)
        return oom(e);
    memcpy(schema, src->schema.cols, (size_t)src->schema.ncols * sizeof *schema);
    for (int i = 0; i < src->schema.ncols; i++) { /* SELECT *: column i of the input is column i of the stream */
        cols[i] = (weir_expr){.kind = WEIR_E_COLUMN, .type = src->schema.cols[i].type};
        cols[i].col.name = src->schema.cols[i].name;
        cols[i].col.index = i;
        out[i] = &cols[i];
    }
    size_t fields_len = 0;
    for (int i = 0, c = src->schema.ncols; i < q->nkeys; i++) {
        if (q->keys[i]->kind == WEIR_E_COLUMN) {
            key_cols[i] = q->keys[i]->col.index;
        } else { /* computed by the writer; the grouped query groups by the column */
            const char *col = computed_name(a, src, i);
            if (!col) {
                *e = (weir_sql_error){0};
                snprintf(e->msg, sizeof e->msg, "scale-out: %.200s groups by an expression, which its repartition "
                         "stream computes into a column weir_key_%d, but %.200s has a column of that name", q->name, i,
                         src->name);
                return WEIR_EINVAL;
            }
            schema[c] = (weir_column){.name = col, .type = q->keys[i]->type};
            out[c] = q->keys[i];
            cols[c] = (weir_expr){.kind = WEIR_E_COLUMN, .type = q->keys[i]->type};
            cols[c].col.name = col;
            cols[c].col.index = c;
            q->keys[i] = &cols[c];
            key_cols[i] = c++;
        }
        fields_len += strlen(schema[key_cols[i]].name) + 1;
    }
    char *fields = weir_arena_alloc(a, fields_len);
    if (!fields)
        return oom(e);
    fields[0] = '\0';
    for (int i = 0; i < q->nkeys; i++) {
        if (i)
            strcat(fields, ",");
        strcat(fields, schema[key_cols[i]].name);
    }
    *r = (weir_relation){.name = name, .schema = {schema, ncols}, .partitions = src->partitions, .key_col = key_cols[0],
                         .key_cols = key_cols, .nkey_cols = q->nkeys, .key_fields = fields, .ts_col = src->ts_col,
                         .query = w, .compact = -1, .repartition_of = src};
    *w = (weir_query){.name = name, .stmt = q->stmt, .source = src, .output = r, .start_latest = q->start_latest,
                      .out = out, .where = q->where};
    void **rels = grow(a, (void **)cat->rels, cat->nrels, r), **queries = grow(a, (void **)cat->queries, cat->nqueries, w);
    if (!rels || !queries)
        return oom(e);
    cat->rels = (weir_relation **)rels;
    cat->nrels++;
    cat->queries = (weir_query **)queries;
    cat->nqueries++;
    q->source = r;
    return WEIR_OK;
}

int weir_catalog_repartition(weir_catalog *cat, weir_arena *a, const char *group, weir_sql_error *e)
{
    for (int i = 0, n = cat->nqueries; i < n; i++) { /* the queries added read the inputs: none needs one */
        weir_query *q = cat->queries[i];
        if (!needs_repartition(q))
            continue;
        char name[600];
        if ((size_t)snprintf(name, sizeof name, "%s.%s.repartition", group, q->name) >= sizeof name) {
            *e = (weir_sql_error){0};
            snprintf(e->msg, sizeof e->msg, "scale-out: the repartition topic of %.200s would have a name too long", q->name);
            return WEIR_EINVAL;
        }
        if (weir_catalog_find(cat, name)) {
            *e = (weir_sql_error){0};
            snprintf(e->msg, sizeof e->msg, "scale-out: %.200s groups %.200s by other columns than its key, so it reads "
                     "an internal stream named %.150s, but the pipeline declares one of that name", q->name,
                     q->source->name, name);
            return WEIR_EINVAL;
        }
        int rc = add_repartition(cat, a, q, name, e);
        if (rc)
            return rc;
    }
    return WEIR_OK;
}

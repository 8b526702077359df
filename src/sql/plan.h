/*
 * plan.h - from parsed statements to queries ready to run: names resolved,
 * types checked, aggregates pulled out of the SELECT list.
 *
 * A catalog is the set of streams and queries a pipeline declares, in
 * order: a CREATE STREAM with columns declares a source; each CREATE
 * STREAM/TABLE AS SELECT is a query reading an earlier stream and producing
 * a relation of the same name (its rows are "emitted"). The plan and all it
 * points to live in the arena given to weir_catalog_build.
 *
 * Evaluation rows: a query's WHERE, GROUP BY and aggregate arguments see
 * the input row (the source's columns). The SELECT list and HAVING of a
 * grouped query see the grouped row: [group keys][aggregates][window_start,
 * window_end, window_time], addressed by WEIR_E_SLOT expressions the planner makes.
 */
#ifndef WEIR_PLAN_H
#define WEIR_PLAN_H

#include "base/arena.h"
#include "base/err.h"
#include "sql/sql.h"

typedef struct weir_column {
    const char *name;
    weir_type type;
} weir_column;

typedef struct weir_schema {
    weir_column *cols;
    int ncols;
} weir_schema;

#define WEIR_TOPK_MAX_K 64   /* the largest k TOPK(x, k) takes (the planner checks it; exec/topk.c sizes by it) */

typedef enum weir_agg_fn {
    WEIR_AGG_COUNT,            /* COUNT(*) and COUNT(x): non-null count */
    WEIR_AGG_COUNT_IF,
    WEIR_AGG_SUM,
    WEIR_AGG_MIN,
    WEIR_AGG_MAX,
    WEIR_AGG_AVG,
    WEIR_AGG_COUNT_DISTINCT,   /* exact */
    WEIR_AGG_APPROX_DISTINCT,  /* HyperLogLog */
    WEIR_AGG_TOPK,             /* Space-Saving top k, as JSON; k from 1 to WEIR_TOPK_MAX_K */
    WEIR_AGG_LATEST_BY_OFFSET, /* the value of the group's last record read (ksqlDB's); two slots: value, order */
    WEIR_AGG_EARLIEST_BY_OFFSET, /* the value of its first record read */
} weir_agg_fn;

/* The accumulator slots (state/acc.h) an aggregate takes: AVG keeps a sum
 * and a count, LATEST/EARLIEST_BY_OFFSET a value and its record's place
 * in the query's input (to merge panes and sessions by it). */
static inline int weir_agg_slots(weir_agg_fn fn)
{
    return fn == WEIR_AGG_AVG || fn == WEIR_AGG_LATEST_BY_OFFSET || fn == WEIR_AGG_EARLIEST_BY_OFFSET ? 2 : 1;
}

typedef struct weir_agg {
    weir_agg_fn fn;
    weir_expr *arg;            /* over the input row; NULL for COUNT(*) */
    weir_type type;            /* the result type */
    uint32_t k;                /* TOPK's k */
    bool keep_nulls;           /* LATEST/EARLIEST_BY_OFFSET(x, FALSE): a NULL is a value too (default: ignored) */
    int slot;                  /* first of its accumulator slots (agg.h); weir_agg_slots of them */
} weir_agg;

typedef struct weir_relation weir_relation;

/* A stream-stream interval join (plan_join.c): the query's source is the
 * left input; a left record l and a right record r meet when their keys
 * are equal, lo <= r.ts - l.ts <= hi (event times) and `on` holds. The
 * query's WHERE and SELECT list read the joined row: the left's columns,
 * then the right's (NULLs for the side an outer join did not find). */
typedef struct weir_join {
    weir_join_kind kind;           /* INNER, LEFT or FULL */
    const weir_relation *right;
    bool tables;                   /* both are tables: a table-table join on their primary keys; else */
    bool table;                    /* right is a table: each left record meets its key's current row, */
    bool temporal;                 /* or with FOR SYSTEM_TIME AS OF, its row as of the record's event time */
    int left_key, right_key;       /* the equality's columns, in each input's schema */
    int64_t lo, hi;                /* the time bound on r.ts - l.ts, in ms */
    int64_t grace_ms;              /* GRACE after ON: how late a record may come */
    weir_expr *on;                 /* the rest of ON, over the joined row, or NULL */
    weir_schema row;               /* the joined row's columns */
} weir_join;

typedef struct weir_query {
    const char *name;              /* its output's name; an INSERT INTO's: "<stream>.insert<k>", the k-th into it */
    const weir_stmt *stmt;
    const weir_relation *source;   /* what it reads */
    weir_relation *output;         /* what it produces */
    const weir_select *select;
    bool is_table;                 /* CREATE TABLE: keeps keyed state for pull queries */
    bool grouped;                  /* has GROUP BY or aggregates, or is SELECT DISTINCT */
    bool start_latest;             /* WITH (start = 'latest'): a first run reads its input from its end, not its start */
    bool distinct;                 /* SELECT DISTINCT: grouped by its columns, a row only for a group's first record */
    weir_expr **keys;              /* GROUP BY, over the input row */
    int nkeys;
    weir_agg *aggs;
    int naggs;
    int nslots;                    /* accumulator slots of all aggregates */
    weir_expr **out;               /* one per output column; grouped row if grouped */
    weir_expr *where;              /* over the input row, or NULL */
    weir_expr *having;             /* over the grouped row, or NULL */
    weir_window_spec window;
    weir_emit emit;
    weir_join *join;               /* a join of source with join->right, or NULL */
} weir_query;

typedef struct weir_constraint { /* a source column's NOT NULL or CHECK: records breaking it are dead letters */
    int col;
    bool not_null;
    weir_expr *check;              /* a condition over the stream's row (false fails; NULL passes, as in SQL), or NULL */
    const char *check_text;
} weir_constraint;

/* cleanup_policy = 'store' (derived tables): the state store holds the
 * rows, so the changelog is kept only as far back as its readers need
 * (runtime/retention.c); no query may read such a table, since it could
 * not read it from its start. */
#define WEIR_CLEANUP_STORE 2

struct weir_relation {
    const char *name;
    weir_schema schema;
    bool is_source;                /* declared with columns (fed by producers) */
    bool is_table;
    uint32_t partitions;           /* WITH (partitions = N); default 4 */
    int key_col;                   /* WITH (key = 'col'): the (first) partitioning column, or -1 */
    int *key_cols;                 /* WITH (key = 'a, b'): every key column; the key is their texts joined by '|' */
    int nkey_cols;
    const char *key_fields;        /* their names joined by ',' (what ingest reads from a record), or NULL */
    weir_expr *partition_by;       /* derived streams, PARTITION BY: over the output row, the record key (its
                                      text) and so the partition; NULL: the key of the record a row came from */
    int ts_col;                    /* WITH (timestamp = 'col'): event time column, or -1 (ingest time) */
    weir_query *query;             /* NULL for sources; with INSERT INTO writers, the first of them */
    bool inserted;                 /* INSERT INTO writes it: its records come of several queries */
    int *pk;                       /* tables: the output columns naming a row (GROUP BY keys, window_start) */
    int npk;
    const char *schema_subject;    /* sources, WITH (schema = 'subject'): validated at ingest, or NULL */
    bool invalid_to_dlq;           /* WITH (on_invalid = 'dead_letter'): bad records go to <s>.dlq, the rest is kept */
    const char *connector;         /* sources, WITH (connector = 'name'): the source connector feeding it, or NULL */
    const weir_stmt *decl;         /* sources: the CREATE STREAM (its WITH options: the connector's are checked by it) */
    /* With a connector: what its bind() kept of the options when the
     * pipeline loaded (conn/source.h), in the catalog's arena; never set
     * by the planner, read by the connector alone. */
    const void *source_conf;
    weir_constraint *constraints;  /* sources: their columns' constraints */
    int nconstraints;
    int64_t retention_ms;          /* WITH (retention = '7 days'): ms; -1: forever; 0: not said (the server's default) */
    int64_t retention_bytes;       /* WITH (retention_bytes = N): about N bytes kept per partition; 0: no limit */
    int compact;                   /* WITH (cleanup_policy = 'compact' | 'delete' | 'store'): 1, 0 or
                                      WEIR_CLEANUP_STORE; -1: not said */
    uint64_t ordered_cols;         /* tables: the columns an endpoint sorts by first with a LIMIT and no WHERE (a bit
                                      each, the first 64): the state store keeps an index of each (exec/view_topn.c) */
    const weir_relation *repartition_of; /* scale-out's internal repartition stream (weir_catalog_repartition): the
                                      stream whose records it carries, re-keyed; NULL for every other relation */
};

/* CREATE ROUTE 'POST /videos/{video_id}/likes' INTO likes: HTTP requests on
 * the path become records of the stream; path parameters and query
 * arguments become fields. */
typedef struct weir_route {
    const char *method;            /* "POST" or "PUT" */
    const char *path;              /* the template, starting with '/' */
    const weir_relation *into;
} weir_route;

/* CREATE ENDPOINT 'GET /part/{x}' [WITH (format = ...)] AS SELECT ... WHERE
 * value = {x}: a pull query answered on an HTTP path, its {parameters}
 * taken from the path. */
typedef enum weir_endpoint_format {
    WEIR_FORMAT_JSON,              /* an array of row objects */
    WEIR_FORMAT_OBJECT,            /* the first row as an object; 404 if none */
    WEIR_FORMAT_CSV,               /* a header line, then a line per row (RFC 4180) */
    WEIR_FORMAT_SVG,               /* a line plot: the first column along x, the second along y */
    WEIR_FORMAT_ROWS,              /* an array of arrays, each row's values in column order: [[1, "a"], ...] */
} weir_endpoint_format;

typedef struct weir_endpoint_param {
    const char *name;
    weir_type type;                /* of what it is compared with (TEXT when nothing says) */
} weir_endpoint_param;

typedef struct weir_endpoint {
    const char *path;              /* the template, starting with '/' (method GET) */
    const char *sql;               /* the SELECT, with {name} where each parameter goes */
    weir_endpoint_format format;
    weir_endpoint_param *params;
    int nparams;
} weir_endpoint;

typedef struct weir_catalog {
    weir_relation **rels;          /* in declaration order */
    int nrels;
    weir_query **queries;          /* in declaration order */
    int nqueries;
    const weir_stmt **sinks;       /* CREATE SINK statements, checked, for the connectors */
    int nsinks;
    weir_route *routes;
    int nroutes;
    weir_endpoint *endpoints;
    int nendpoints;
} weir_catalog;

/* An endpoint's SELECT with each {name} replaced by the literal its
 * parameter's value makes (a number checked against the parameter's type,
 * text quoted). WEIR_EINVAL with why in err (for a 400) when a value does
 * not fit its parameter. */
struct weir_buf;
int weir_endpoint_sql(const weir_endpoint *ep, const char *const *values, struct weir_buf *out, weir_err *err);

/* Plans every CREATE statement of a script (DROP and SELECT are refused
 * here: they are requests, not declarations). Errors carry the position
 * of the offending name or expression. */
int weir_catalog_build(weir_stmt **stmts, size_t n, weir_arena *a, weir_catalog *out, weir_sql_error *e);

const weir_relation *weir_catalog_find(const weir_catalog *c, const char *name);
/* rel's place in c->rels (what arrays kept per relation are indexed by), or -1. */
int weir_catalog_index(const weir_catalog *c, const weir_relation *rel);

/* Whether q's GROUP BY includes every key column of its input, so that
 * each group's records are all in one partition of it (scale-out's and
 * serve --threads' rule). */
bool weir_query_groups_by_key(const weir_query *q);

/* Scale-out (serve --scale-out, plan_repartition.c): each grouped query
 * whose GROUP BY is plain columns other than its input's key reads,
 * instead of its input, an internal stream "<group>.<query>.repartition"
 * of the input's columns and partition count, keyed by those columns
 * (so murmur2 of the group key picks the partition) and written by a
 * query added for it, which also applies the query's WHERE. The stream
 * gets repartition_of set; the caller puts it on a Kafka topic. Other
 * queries are left as they are (tasks.c refuses those it cannot run). */
int weir_catalog_repartition(weir_catalog *cat, weir_arena *a, const char *group, weir_sql_error *e);

/* A source stream's own WITH options (partitions, key, ...): with a
 * connector, every other option is the connector's. */
extern const char *const weir_stream_options[];
extern const int weir_stream_noptions;

/* A pull query: SELECT ... FROM relation [WHERE] [ORDER BY] [LIMIT],
 * planned over the relation's columns (a table's rows, a stream's records);
 * or a push query, with EMIT CHANGES and no ORDER BY: the same filter and
 * projection over the records that come, ending after LIMIT rows. */
typedef struct weir_pull {
    const weir_relation *from;
    weir_expr *where;              /* or NULL */
    weir_expr **out;
    weir_schema schema;            /* the result's columns */
    weir_order_item *order;        /* expressions over the relation's columns */
    int norder;
    int64_t limit;                 /* -1: none */
    bool has_key;                  /* the WHERE asks for rows whose first primary-key column is key ... */
    weir_value key;                /* ... (of that column's type): a table view's index finds them */
    bool push;                     /* EMIT CHANGES */
    bool by_index;                 /* a table's rows ORDER BY a column (index_col) first, LIMIT k, no WHERE: ... */
    int index_col;                 /* ... an ordered index of that column can answer (exec/view_topn.c) */
} weir_pull;

int weir_plan_pull(const weir_catalog *cat, const weir_stmt *st, weir_arena *a, weir_pull *out, weir_sql_error *e);

/* SHOW, DESCRIBE and EXPLAIN: questions about the pipeline, answered from
 * the catalog alone as rows (the columns are the README's), so that
 * POST /v1/query and weir query give them as any query's rows. */
typedef struct weir_meta {
    weir_schema schema;
    const weir_value *const *rows; /* nrows rows of schema.ncols values, in the arena */
    size_t nrows;
} weir_meta;

/* Whether st is SHOW, DESCRIBE or EXPLAIN. */
bool weir_stmt_is_meta(const weir_stmt *st);
/* Answers st (weir_stmt_is_meta) over cat; 0, or WEIR_EINVAL with e
 * filled (an unknown name, EXPLAIN of a source, a pull query that does
 * not plan). Everything lives in arena a. */
int weir_plan_meta(const weir_catalog *cat, const weir_stmt *st, weir_arena *a, weir_meta *out, weir_sql_error *e);

#endif

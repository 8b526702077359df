-- error: cleanup_policy_value.sql:3:22: cleanup_policy must be 'compact' (keep the last record per key), 'delete' (keep records until their retention passes) or, for a table made by a query, 'store' (the state store holds its rows: keep its changelog only as far back as its readers need)
CREATE STREAM s (a TEXT);
CREATE TABLE t WITH (cleanup_policy = 'shrink') AS SELECT a, COUNT(*) AS n FROM s GROUP BY a;

-- error: cleanup_policy_value.sql:3:22: cleanup_policy must be 'compact' (keep the last record per key) or 'delete' (keep records until their retention passes)
CREATE STREAM s (a TEXT);
CREATE TABLE t WITH (cleanup_policy = 'shrink') AS SELECT a, COUNT(*) AS n FROM s GROUP BY a;

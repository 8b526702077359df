-- error: partition_by_table.sql:3:74: PARTITION BY re-keys a stream; a table is keyed by its GROUP BY columns
CREATE STREAM s (a TEXT, b INT);
CREATE TABLE t AS SELECT a, COUNT(*) AS n FROM s GROUP BY a PARTITION BY a;

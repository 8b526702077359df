-- error: not_grouped.sql:3:29: column b must appear in GROUP BY or be used inside an aggregate
CREATE STREAM s (a TEXT, b INT);
CREATE TABLE t AS SELECT a, b, COUNT(*) AS n FROM s GROUP BY a;

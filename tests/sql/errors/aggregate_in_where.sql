-- error: aggregate_in_where.sql:3:56: aggregates are not allowed in WHERE (use HAVING)
CREATE STREAM s (a TEXT, b INT);
CREATE TABLE t AS SELECT a, COUNT(*) AS n FROM s WHERE SUM(b) > 3 GROUP BY a;

-- error: subquery_grouped_twice.sql:3:48: grouping over x, which groups already, is not supported: create x as a table (CREATE TABLE x AS SELECT ...) and query that
CREATE STREAM s (a INT, b INT);
CREATE TABLE t AS SELECT n, COUNT(*) AS k FROM (SELECT a, COUNT(*) AS n FROM s GROUP BY a) AS x GROUP BY n;

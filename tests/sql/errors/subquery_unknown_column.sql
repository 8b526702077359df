-- error: subquery_unknown_column.sql:3:27: unknown column c in x (it has: a, b2)
CREATE STREAM s (a INT, b INT);
CREATE STREAM t AS SELECT x.c FROM (SELECT a, b * 2 AS b2 FROM s) AS x;

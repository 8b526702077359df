-- error: subquery_qualifier.sql:3:27: s in s.a names nothing this query reads (it reads x)
CREATE STREAM s (a INT);
CREATE STREAM t AS SELECT s.a FROM (SELECT a FROM s) AS x;

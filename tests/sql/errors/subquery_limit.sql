-- error: subquery_limit.sql:3:63: ORDER BY and LIMIT in a subquery are not supported: order and limit the outer query
CREATE STREAM s (a INT, b INT);
CREATE STREAM t AS SELECT a FROM (SELECT a, b FROM s ORDER BY b LIMIT 10) AS x;

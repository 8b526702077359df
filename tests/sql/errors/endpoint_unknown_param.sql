-- error: endpoint_unknown_param.sql:3:59: {b} is not a parameter of the path /x/{a}
CREATE STREAM s (n INT); CREATE TABLE t AS SELECT n, COUNT(*) AS c FROM s GROUP BY n;
CREATE ENDPOINT 'GET /x/{a}' AS SELECT c FROM t WHERE n = {b};

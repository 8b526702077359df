-- error: endpoint_push.sql:3:1: endpoint /x: an endpoint answers with the rows there are; EMIT CHANGES streams rows, which POST /v1/query and GET /v1/tables/{t}/changes do
CREATE STREAM s (n INT); CREATE TABLE t AS SELECT n, COUNT(*) AS c FROM s GROUP BY n;
CREATE ENDPOINT 'GET /x' AS SELECT c FROM t WHERE c > 1 EMIT CHANGES LIMIT 3;

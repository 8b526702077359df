-- error: endpoint_format.sql:3:32: format is 'json', 'object', 'csv', 'svg' or 'rows'
CREATE STREAM s (n INT); CREATE TABLE t AS SELECT n, COUNT(*) AS c FROM s GROUP BY n;
CREATE ENDPOINT 'GET /x' WITH (format = 'xml') AS SELECT c FROM t;

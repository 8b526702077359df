-- error: endpoint_svg_text.sql:3:1: an svg endpoint plots its first column along x and its second along y: both must be numbers or timestamps
CREATE STREAM s (n TEXT); CREATE TABLE t AS SELECT n, COUNT(*) AS c FROM s GROUP BY n;
CREATE ENDPOINT 'GET /x' WITH (format = 'svg') AS SELECT n, c FROM t;

-- weir: header
-- statement s1
CREATE TABLE t AS SELECT a, COUNT(*) AS n FROM s GROUP BY a;
-- statement s3
CREATE ROUTE 'POST /x/{a}' INTO s;

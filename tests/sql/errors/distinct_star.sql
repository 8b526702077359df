-- error: distinct_star.sql:3:35: SELECT DISTINCT * is not supported: name the columns
CREATE STREAM s (a TEXT, b INT);
CREATE TABLE t AS SELECT DISTINCT * FROM s;

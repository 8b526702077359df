-- error: with_recursive.sql:3:25: WITH RECURSIVE is not supported
CREATE STREAM s (a INT);
CREATE STREAM t AS WITH RECURSIVE r AS (SELECT a FROM s) SELECT a FROM r;

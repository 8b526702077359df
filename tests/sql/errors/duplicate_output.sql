-- error: duplicate_output.sql:3:30: two output columns are named a: rename one with AS
CREATE STREAM s (a TEXT, b TEXT);
CREATE STREAM t AS SELECT a, b AS a FROM s;

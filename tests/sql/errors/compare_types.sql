-- error: compare_types.sql:3:44: cannot compare TEXT with INT
CREATE STREAM s (a TEXT, b INT);
CREATE STREAM t AS SELECT a FROM s WHERE a = b;

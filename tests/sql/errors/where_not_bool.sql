-- error: where_not_bool.sql:3:44: WHERE must be a condition (BOOL), not INT
CREATE STREAM s (a TEXT, b INT);
CREATE STREAM t AS SELECT a FROM s WHERE b + 1;

-- error: syntax.sql:3:53: expected an expression, found ';'
CREATE STREAM s (a TEXT);
CREATE STREAM t AS SELECT a FROM s WHERE a = 'x' AND;

-- error: arithmetic_on_text.sql:3:29: operator + needs numbers, not TEXT and INT
CREATE STREAM s (a TEXT, b INT);
CREATE STREAM t AS SELECT a + b AS c FROM s;

-- error: with_join.sql:4:26: a join reads streams and tables, not WITH queries: create w as a stream (CREATE STREAM w AS SELECT ...) and join that
CREATE STREAM s (a INT, ts TIMESTAMP) WITH (key = 'a', timestamp = 'ts');
CREATE STREAM t AS WITH w AS (SELECT a, ts FROM s WHERE a > 0)
  SELECT s.a FROM s JOIN w ON s.a = w.a AND w.ts BETWEEN s.ts AND s.ts;

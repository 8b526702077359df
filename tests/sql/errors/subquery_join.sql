-- error: subquery_join.sql:3:63: a join reads streams and tables, not subqueries: create x as a stream (CREATE STREAM x AS SELECT ...) and join that
CREATE STREAM s (a INT, ts TIMESTAMP) WITH (key = 'a', timestamp = 'ts');
CREATE STREAM t AS SELECT x.a FROM (SELECT a, ts FROM s) AS x JOIN s AS y ON x.a = y.a AND y.ts BETWEEN x.ts AND x.ts;

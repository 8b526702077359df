-- error: tvf_join.sql:5:3: a windowed stream cannot be joined in the same query: make the join a stream (CREATE STREAM j AS SELECT ... JOIN ...) and window j
CREATE STREAM s (k TEXT, ts TIMESTAMP) WITH (key = 'k', timestamp = 'ts');
CREATE STREAM r (k TEXT, ts TIMESTAMP) WITH (key = 'k', timestamp = 'ts');
CREATE TABLE t AS SELECT COUNT(*) AS n FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
  JOIN r ON s.k = r.k AND r.ts BETWEEN s.ts AND s.ts + INTERVAL '1' MINUTE
  GROUP BY window_start, window_end;

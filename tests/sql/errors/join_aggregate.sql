-- error: join_aggregate.sql:4:63: a join's rows cannot be aggregated in the same query: make the join a stream (CREATE STREAM j AS SELECT ... JOIN ...) and aggregate j
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM j AS SELECT c.user, COUNT(*) AS n FROM clicks c JOIN buys b
  ON c.user = b.user AND b.ts BETWEEN c.ts AND c.ts + INTERVAL '10' MINUTE GROUP BY c.user;

-- error: join_interval_elsewhere.sql:4:34: INTERVAL is only allowed in a join's time bound (b.ts BETWEEN a.ts - INTERVAL ... AND a.ts + INTERVAL ...) and in window clauses
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM j AS SELECT c.ts + INTERVAL '1' HOUR AS later FROM clicks c;

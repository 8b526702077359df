-- error: join_no_key.sql:5:6: a join needs an equality between the two streams' keys in ON (c.key = b.key): records meet only within a key and its partition
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM j AS SELECT c.page FROM clicks c JOIN buys b
  ON b.ts BETWEEN c.ts AND c.ts + INTERVAL '10' MINUTE;

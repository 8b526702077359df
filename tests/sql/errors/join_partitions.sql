-- error: join_partitions.sql:5:47: views has 8 partitions and buys has 4: the inputs of a join must be co-partitioned; re-key one into as many partitions: CREATE STREAM ... WITH (partitions = 8) AS SELECT ... PARTITION BY key
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM views (user TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts', partitions = 8);
CREATE STREAM j AS SELECT v.user FROM views v JOIN buys b
  ON v.user = b.user AND b.ts BETWEEN v.ts AND v.ts + INTERVAL '10' MINUTE;

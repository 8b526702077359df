-- error: join_not_keyed.sql:6:6: views is not partitioned by user, so its records of a key are not in the partition the join reads for that key: the inputs of a join must be co-partitioned on the join key; declare it WITH (key = 'user'), or re-key it: CREATE STREAM views_by_user AS SELECT * FROM views PARTITION BY user
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM views (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'page', timestamp = 'ts');
CREATE STREAM j AS SELECT v.page FROM views v JOIN buys b
  ON v.user = b.user AND b.ts BETWEEN v.ts AND v.ts + INTERVAL '10' MINUTE;

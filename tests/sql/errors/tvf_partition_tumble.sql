-- error: tvf_partition_tumble.sql:3:71: PARTITION BY in a window function is SESSION's only (group by the columns instead)
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'user_id', timestamp = 'ts');
CREATE TABLE t AS SELECT COUNT(*) AS n FROM TABLE(TUMBLE(TABLE clicks PARTITION BY user_id, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end;

-- error: tvf_session_partition.sql:3:165: a SESSION window function's query groups by its PARTITION BY columns and the window: add this key to PARTITION BY (sessions per key), or drop it
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'user_id', timestamp = 'ts');
CREATE TABLE t AS SELECT user_id, page, COUNT(*) AS n FROM TABLE(SESSION(TABLE clicks PARTITION BY user_id, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY user_id, page, window_start, window_end;

-- error: tvf_group_by_window.sql:3:128: a window function's query groups by its windows: GROUP BY window_start, window_end[, keys]
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'user_id', timestamp = 'ts');
CREATE TABLE t AS SELECT user_id, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY user_id, window_start;

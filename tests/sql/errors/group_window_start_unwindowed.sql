-- error: group_window_start_unwindowed.sql:3:35: tumble_start names the window of GROUP BY tumble(...), which this query does not have
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'user_id', timestamp = 'ts');
CREATE TABLE t AS SELECT user_id, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS ws, COUNT(*) AS n FROM clicks GROUP BY user_id;

-- error: group_window_twice.sql:3:90: tumble(...) in GROUP BY: the query is windowed already (one window a query)
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'user_id', timestamp = 'ts');
CREATE TABLE t AS SELECT COUNT(*) AS n FROM TUMBLE(clicks, INTERVAL '1' MINUTE) GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE);

-- error: group_window_not_time.sql:3:65: hop(at): windows follow the event-time column of clicks, which is ts (WITH (timestamp = 'ts'))
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'user_id', timestamp = 'ts');
CREATE TABLE t AS SELECT COUNT(*) AS n FROM clicks GROUP BY HOP(at, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE);

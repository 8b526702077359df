-- error: group_window_args.sql:3:73: session's argument 2 is an interval, like INTERVAL '1' MINUTE
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'user_id', timestamp = 'ts');
CREATE TABLE t AS SELECT COUNT(*) AS n FROM clicks GROUP BY SESSION(ts, 30);

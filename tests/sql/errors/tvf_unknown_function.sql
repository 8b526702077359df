-- error: tvf_unknown_function.sql:3:51: expected a window function in TABLE(...): TUMBLE, HOP, CUMULATE or SESSION, found 'SLIDE'
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'user_id', timestamp = 'ts');
CREATE TABLE t AS SELECT COUNT(*) AS n FROM TABLE(SLIDE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end;

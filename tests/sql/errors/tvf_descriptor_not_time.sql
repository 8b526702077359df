-- error: tvf_descriptor_not_time.sql:3:92: DESCRIPTOR(at): windows follow the event-time column of clicks, which is ts (WITH (timestamp = 'ts'))
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'user_id', timestamp = 'ts');
CREATE TABLE t AS SELECT user_id, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(at), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, user_id;

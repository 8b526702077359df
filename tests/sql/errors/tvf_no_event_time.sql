-- error: tvf_no_event_time.sql:3:83: DESCRIPTOR(ts): windows follow event time, and clicks has no event-time column: declare it with WITH (timestamp = 'ts')
CREATE STREAM clicks (user_id TEXT, ts TIMESTAMP);
CREATE TABLE t AS SELECT COUNT(*) AS n FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end;

-- error: tvf_descriptor_unknown.sql:3:83: DESCRIPTOR(tz): clicks has no column tz
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'user_id', timestamp = 'ts');
CREATE TABLE t AS SELECT COUNT(*) AS n FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(tz), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end;

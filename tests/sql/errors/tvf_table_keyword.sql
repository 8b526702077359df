-- error: tvf_table_keyword.sql:3:58: expected TABLE and the stream to window: TABLE s, found 'clicks'
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'user_id', timestamp = 'ts');
CREATE TABLE t AS SELECT COUNT(*) AS n FROM TABLE(TUMBLE(clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end;

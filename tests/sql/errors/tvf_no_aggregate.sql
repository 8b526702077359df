-- error: tvf_no_aggregate.sql:3:54: a window function's rows are aggregated here (GROUP BY window_start, window_end with aggregates): weir does not emit the windowed records themselves
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'user_id', timestamp = 'ts');
CREATE STREAM t AS SELECT user_id, window_start FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE));

-- weir's own window forms, the reference for window_tvf.sql (Flink's window
-- table-valued functions): both replay the same input into the same
-- expected file (window_tvf's is a link to this one's), so their rows are
-- identical. TUMBLE with GRACE and a late record, HOP with EMIT CHANGES,
-- SESSION with LATEST_BY_OFFSET, a window without keys; the window columns
-- may be named in GROUP BY here too.
CREATE STREAM clicks (user_id TEXT, page TEXT, ms INT, ts TIMESTAMP)
  WITH (partitions = 2, key = 'user_id', timestamp = 'ts');
CREATE TABLE per_min AS
  SELECT user_id, window_start, window_end, window_time, COUNT(*) AS n, SUM(ms) AS total
  FROM TUMBLE(clicks, INTERVAL '1' MINUTE) GRACE INTERVAL '5' SECOND
  GROUP BY user_id EMIT FINAL;
CREATE TABLE per_2m AS
  SELECT page, window_start, window_end, COUNT(*) AS n
  FROM HOP(clicks, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE)
  GROUP BY page, window_start EMIT CHANGES;
CREATE TABLE visits AS
  SELECT user_id, window_start, window_end, COUNT(*) AS n, LATEST_BY_OFFSET(page) AS last_page
  FROM SESSION(clicks, INTERVAL '30' SECOND)
  GROUP BY user_id EMIT FINAL;
CREATE TABLE all_min AS
  SELECT window_start, COUNT(*) AS n FROM TUMBLE(clicks, INTERVAL '1' MINUTE) EMIT FINAL;

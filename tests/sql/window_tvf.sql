-- Flink's window table-valued functions give exactly the rows of weir's
-- own forms (window_native.sql, whose input and expected files this test
-- shares through links): TUMBLE, HOP, SESSION with PARTITION BY, GROUP BY
-- window_start, window_end; window_time is the window's last millisecond.
-- Without EMIT, a TVF's query emits FINAL, as Flink's window aggregation.
CREATE STREAM clicks (user_id TEXT, page TEXT, ms INT, ts TIMESTAMP)
  WITH (partitions = 2, key = 'user_id', timestamp = 'ts');
CREATE TABLE per_min AS
  SELECT user_id, window_start, window_end, window_time, COUNT(*) AS n, SUM(ms) AS total
  FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GRACE INTERVAL '5' SECOND
  GROUP BY window_start, window_end, user_id;
CREATE TABLE per_2m AS
  SELECT page, window_start, window_end, COUNT(*) AS n
  FROM TABLE(HOP(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '2 minutes')) AS c
  GROUP BY c.page, window_start, window_end EMIT CHANGES;
CREATE TABLE visits AS
  SELECT user_id, window_start, window_end, COUNT(*) AS n, LATEST_BY_OFFSET(page) AS last_page
  FROM TABLE(SESSION(TABLE clicks PARTITION BY user_id, DESCRIPTOR(ts), INTERVAL '30' SECOND))
  GROUP BY user_id, window_start, window_end;
CREATE TABLE all_min AS
  SELECT window_start, COUNT(*) AS n
  FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
  GROUP BY window_start, window_end;

-- Flink's CUMULATE windows, step 1 minute up to 3 minutes: [10:00, 10:01),
-- [10:00, 10:02), [10:00, 10:03), then from 10:03. As a window function
-- with EMIT FINAL (the default of a TVF's query) and GRACE, and in weir's
-- own form with EMIT CHANGES and no keys. The fourth record (10:00:50, read
-- after the third) is the latest of [10:00, 10:02): panes merge in the
-- order records were read. The sixth (10:01:10) comes after [10:00, 10:02)
-- closed and counts only in [10:00, 10:03).
CREATE STREAM views (page TEXT, ms INT, ts TIMESTAMP)
  WITH (partitions = 1, key = 'page', timestamp = 'ts');
CREATE TABLE cum_final AS
  SELECT page, window_start, window_end, COUNT(*) AS n, SUM(ms) AS total, LATEST_BY_OFFSET(ms) AS last_ms
  FROM TABLE(CUMULATE(TABLE views, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '3' MINUTE))
    GRACE INTERVAL '30' SECOND
  GROUP BY page, window_start, window_end;
CREATE TABLE cum_changes AS
  SELECT window_start, window_end, COUNT(*) AS n
  FROM CUMULATE(views, INTERVAL '1' MINUTE, INTERVAL '3' MINUTE)
  GROUP BY window_start, window_end EMIT CHANGES;

-- LATEST_BY_OFFSET and EARLIEST_BY_OFFSET in session windows: sessions a
-- record bridges merge by the order their records were read, not by their
-- times. The first record read (10:10:50) is the earliest even though the
-- session it merges into starts at 10:10:00 (read second); the bridging
-- third record is the latest.
CREATE STREAM taps (device TEXT, screen TEXT, ts TIMESTAMP)
  WITH (partitions = 1, key = 'device', timestamp = 'ts');
CREATE TABLE visits AS
  SELECT device, window_start, window_end, COUNT(*) AS taps,
         EARLIEST_BY_OFFSET(screen) AS first_read, LATEST_BY_OFFSET(screen) AS last_read
  FROM SESSION(taps, INTERVAL '30' SECOND) GRACE INTERVAL '1' MINUTE
  GROUP BY device EMIT FINAL;

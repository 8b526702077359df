-- LATEST_BY_OFFSET and EARLIEST_BY_OFFSET (ksqlDB's): the value of the
-- group's last and first record read. NULLs are ignored unless the second
-- argument is FALSE (ksqlDB's ignoreNulls). In a hopping window the panes
-- merge by the order the records were read, not by their event times: the
-- third record, read last but timed in the first pane, is the latest of
-- the window [10:00, 10:02).
CREATE STREAM readings (sensor TEXT, temp DOUBLE, note TEXT, ts TIMESTAMP)
  WITH (partitions = 1, key = 'sensor', timestamp = 'ts');
CREATE TABLE last_seen AS
  SELECT sensor, LATEST_BY_OFFSET(temp) AS temp, EARLIEST_BY_OFFSET(temp) AS first_temp,
         LATEST_BY_OFFSET(note) AS note, LATEST_BY_OFFSET(note, FALSE) AS note_or_null,
         EARLIEST_BY_OFFSET(ts) AS first_ts
  FROM readings GROUP BY sensor;
CREATE TABLE per_2m AS
  SELECT sensor, window_start, LATEST_BY_OFFSET(temp) AS temp, EARLIEST_BY_OFFSET(temp) AS first_temp
  FROM HOP(readings, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE) GROUP BY sensor EMIT FINAL;

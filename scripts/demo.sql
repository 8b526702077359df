-- The pipeline `make run` shows: sensor readings in, per-sensor 10-second
-- windows and an alert stream out.
CREATE STREAM readings (sensor TEXT, reading INT, seq INT, ts TIMESTAMP)
  WITH (partitions = 4, key = 'sensor', timestamp = 'ts');
CREATE TABLE per_sensor_10s AS
  SELECT sensor, window_start, COUNT(*) AS readings, AVG(reading) AS average, MAX(reading) AS peak
  FROM TUMBLE(readings, INTERVAL '10' SECOND) GROUP BY sensor EMIT FINAL;
CREATE STREAM alerts AS SELECT sensor, reading, ts FROM readings WHERE reading > 95;

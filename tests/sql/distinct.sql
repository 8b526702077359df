-- SELECT DISTINCT, planned as Flink does: grouped by the selected columns.
-- A table keeps one row per distinct tuple; a stream gets each tuple once,
-- at its first record (later records of it change nothing, so nothing is
-- emitted); a NULL is a value of its own, as in GROUP BY. With a window,
-- one row per distinct tuple per window when it closes.
CREATE STREAM logins (user_id TEXT, device TEXT, locale TEXT, ts TIMESTAMP)
  WITH (partitions = 1, key = 'user_id', timestamp = 'ts');
CREATE TABLE devices AS SELECT DISTINCT user_id, lower(device) AS device FROM logins;
CREATE STREAM new_locales AS SELECT DISTINCT locale FROM logins WHERE locale IS NOT NULL;
CREATE TABLE per_min AS
  SELECT DISTINCT window_start, window_end, device
  FROM TABLE(TUMBLE(TABLE logins, DESCRIPTOR(ts), INTERVAL '1' MINUTE));

-- A windowed table keeps a window's rows until its retention has passed
-- the window's end by the watermark; then each leaves it (replay prints
-- {"removed": KEY}; serve writes a tombstone). Rows HAVING hid are not
-- removed, nor are rows named by their key alone (no window_start), and
-- the end of input closes windows without aging them.
CREATE STREAM clicks (page TEXT, ts TIMESTAMP) WITH (timestamp = 'ts');
CREATE TABLE per_minute WITH (retention = '3 minutes') AS
  SELECT page, window_start, COUNT(*) AS n
  FROM TUMBLE(clicks, INTERVAL '1' MINUTE) GROUP BY page HAVING COUNT(*) > 1 EMIT FINAL;
CREATE TABLE changes WITH (retention = '2 minutes') AS
  SELECT page, window_start, COUNT(*) AS n FROM HOP(clicks, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE) GROUP BY page;
CREATE TABLE latest WITH (retention = '1 minute') AS
  SELECT page, COUNT(*) AS n FROM TUMBLE(clicks, INTERVAL '1' MINUTE) GROUP BY page EMIT FINAL;
-- a CUMULATE table that does not select window_end names a row by its start
-- alone, the latest of its growing windows: aging one would take it away
CREATE TABLE so_far WITH (retention = '1 minute') AS
  SELECT page, window_start, COUNT(*) AS n
  FROM CUMULATE(clicks, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE) GROUP BY page EMIT FINAL;

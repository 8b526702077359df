CREATE STREAM clicks (user_id TEXT, page TEXT, ms INT, ts TIMESTAMP)
  WITH (partitions = 2, key = 'user_id', timestamp = 'ts');
CREATE TABLE a AS SELECT user_id, window_start, window_end, window_time, COUNT(*) AS n,
    LATEST_BY_OFFSET(page) AS l, EARLIEST_BY_OFFSET(ms, FALSE) AS e
  FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) AS c GRACE INTERVAL '5 seconds'
  GROUP BY window_start, window_end, c.user_id;
CREATE TABLE b AS SELECT page, window_start, COUNT(*) AS n
  FROM TABLE(HOP(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '2' MINUTE))
  GROUP BY page, window_start, window_end EMIT CHANGES;
CREATE TABLE c AS SELECT user_id, window_start, window_end, SUM(ms) AS s
  FROM TABLE(SESSION(TABLE clicks PARTITION BY (user_id), DESCRIPTOR(ts), INTERVAL '30' SECOND))
  GROUP BY user_id, window_start, window_end;
CREATE TABLE d AS SELECT page, window_start, window_end, COUNT(*) AS n
  FROM TABLE(CUMULATE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '1' HOUR))
  GROUP BY page, window_start, window_end;
CREATE TABLE e AS SELECT page, window_start, window_end, COUNT(*) AS n
  FROM CUMULATE(clicks, INTERVAL '10' SECOND, INTERVAL '1' MINUTE) GROUP BY page, window_start EMIT FINAL;
CREATE TABLE f AS SELECT DISTINCT user_id, lower(page) AS page FROM clicks;
CREATE STREAM g AS SELECT DISTINCT page FROM clicks WHERE page IS NOT NULL;
CREATE TABLE h AS SELECT user_id, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS ws, TUMBLE_ROWTIME(ts, INTERVAL '1' MINUTE) AS wt,
    COUNT(*) AS n FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), user_id;
CREATE TABLE i AS SELECT HOP_END(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) AS we, COUNT(*) AS n
  FROM clicks GROUP BY HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) EMIT CHANGES;

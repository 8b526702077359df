-- Flink's group window aggregation (GROUP BY TUMBLE(ts, size), HOP(ts,
-- slide, size), SESSION(ts, gap), and weir's CUMULATE(ts, step, size) by
-- analogy), with TUMBLE_START, _END and _ROWTIME in the SELECT list: the
-- same windows as weir's FROM TUMBLE(s, ...) form, emitted when they close
-- unless EMIT CHANGES is said. Same input as window_native.sql.
CREATE STREAM clicks (user_id TEXT, page TEXT, ms INT, ts TIMESTAMP)
  WITH (partitions = 2, key = 'user_id', timestamp = 'ts');
CREATE TABLE per_min AS
  SELECT user_id, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS window_start,
         TUMBLE_END(ts, INTERVAL '1' MINUTE) AS window_end, TUMBLE_ROWTIME(ts, INTERVAL '1' MINUTE) AS window_time,
         COUNT(*) AS n, SUM(ms) AS total
  FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), user_id;
CREATE TABLE per_2m AS
  SELECT page, HOP_START(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE) AS window_start, COUNT(*) AS n
  FROM clicks GROUP BY page, HOP(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE) EMIT CHANGES;
CREATE TABLE visits AS
  SELECT user_id, SESSION_START(ts, INTERVAL '30' SECOND) AS window_start,
         SESSION_END(ts, INTERVAL '30' SECOND) AS window_end, COUNT(*) AS n
  FROM clicks GROUP BY user_id, SESSION(ts, INTERVAL '30' SECOND);
CREATE TABLE cum AS
  SELECT CUMULATE_END(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE) AS window_end, COUNT(*) AS n
  FROM clicks GROUP BY CUMULATE(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE);

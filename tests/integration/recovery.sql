-- The pipeline of the kill -9 recovery test: HOP with EMIT FINAL, exact and
-- approximate distinct counts, TUMBLE with EMIT CHANGES, a keyed table, a
-- derived stream and a table chained on it, SESSION windows.
CREATE STREAM tweets (id TEXT, user_id TEXT, city TEXT, is_retweet BOOL, created_at TIMESTAMP)
  WITH (partitions = 4, key = 'city', timestamp = 'created_at');
CREATE TABLE city_5m AS
  SELECT city, window_start, window_end, COUNT(*) AS tweets, COUNT_IF(is_retweet) AS retweets,
         COUNT(DISTINCT user_id) AS users, APPROX_COUNT_DISTINCT(user_id) AS approx_users
  FROM HOP(tweets, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) GRACE INTERVAL '30' SECOND
  GROUP BY city EMIT FINAL;
CREATE TABLE city_1m AS
  SELECT city, window_start, COUNT(*) AS n, MAX(created_at) AS last
  FROM TUMBLE(tweets, INTERVAL '1' MINUTE) GROUP BY city;
CREATE TABLE users AS SELECT user_id, COUNT(*) AS n, SUM(CAST(is_retweet AS INT)) AS rts FROM tweets GROUP BY user_id;
CREATE STREAM retweets AS SELECT id, city, user_id, created_at FROM tweets WHERE is_retweet;
CREATE TABLE rt_by_city AS SELECT city, COUNT(*) AS n FROM retweets GROUP BY city;
CREATE TABLE sessions AS
  SELECT user_id, window_start, window_end, COUNT(*) AS n, COUNT(DISTINCT city) AS cities
  FROM SESSION(tweets, INTERVAL '40' SECOND) GRACE INTERVAL '30' SECOND GROUP BY user_id EMIT FINAL;

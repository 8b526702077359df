-- The pipeline of tests/integration/threads.sh: tweets (keyed by city) runs
-- per partition under --threads for the queries that filter it or group it
-- by city, and is also read by two that stay on the pipeline's thread (by
-- user, and a global top-k over an hour); a SESSION window by city and user
-- runs per partition too, each session closed by its partition's time;
-- retweets, a derived stream without a key, is read only by a global count
-- and a SESSION window, which stay on the pipeline's thread. The windowed
-- tables age their windows, city_5m's at other moments than its windows
-- close.
CREATE STREAM tweets (id TEXT, user_id TEXT, city TEXT, is_retweet BOOL, created_at TIMESTAMP)
  WITH (partitions = 4, key = 'city', timestamp = 'created_at');
CREATE TABLE city_5m WITH (retention = '615 seconds') AS
  SELECT city, window_start, window_end, COUNT(*) AS tweets, COUNT_IF(is_retweet) AS retweets,
         COUNT(DISTINCT user_id) AS users, APPROX_COUNT_DISTINCT(user_id) AS approx_users
  FROM HOP(tweets, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) GRACE INTERVAL '30' SECOND
  GROUP BY city EMIT FINAL;
CREATE TABLE city_1m WITH (retention = '5 minutes') AS
  SELECT city, window_start, COUNT(*) AS n, MAX(created_at) AS last
  FROM TUMBLE(tweets, INTERVAL '1' MINUTE) GROUP BY city;
CREATE TABLE city_users AS SELECT city, user_id, COUNT(*) AS n FROM tweets GROUP BY city, user_id;
CREATE TABLE user_sessions AS
  SELECT city, user_id, window_start, window_end, COUNT(*) AS n
  FROM SESSION(tweets, INTERVAL '20' MINUTE) GRACE INTERVAL '10' SECOND GROUP BY city, user_id EMIT FINAL;
CREATE STREAM retweets AS SELECT id, city, user_id, created_at FROM tweets WHERE is_retweet;
CREATE TABLE city_bursts AS
  SELECT city, window_start, window_end, COUNT(*) AS n
  FROM SESSION(retweets, INTERVAL '2' SECOND) GRACE INTERVAL '30' SECOND GROUP BY city EMIT FINAL;
CREATE TABLE all_retweets AS SELECT COUNT(*) AS n, COUNT(DISTINCT city) AS cities FROM retweets;
CREATE TABLE top_users AS SELECT user_id, COUNT(*) AS n, COUNT(DISTINCT city) AS cities FROM tweets GROUP BY user_id;
CREATE TABLE top_cities AS
  SELECT window_start, window_end, TOPK(city, 3) AS top
  FROM HOP(tweets, INTERVAL '10' MINUTE, INTERVAL '1' HOUR) EMIT FINAL;

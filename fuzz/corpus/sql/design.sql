CREATE STREAM tweets (id TEXT, user_id TEXT, city TEXT, is_retweet BOOL, created_at TIMESTAMP)
  WITH (partitions = 4, key = 'city', timestamp = 'created_at', format = 'json');
CREATE TABLE city_5m AS
  SELECT city, window_start, window_end, COUNT(*) AS tweets, COUNT_IF(is_retweet) AS retweets,
         COUNT(DISTINCT user_id) AS users, TOPK(user_id, 3) AS top
  FROM HOP(tweets, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) GRACE INTERVAL '30' SECOND
  GROUP BY city HAVING COUNT(*) > 1 EMIT FINAL;
CREATE STREAM processed AS SELECT user_id, lower(city) AS city, CASE WHEN is_retweet THEN 1 ELSE 0 END AS rt,
  CAST(created_at AS TEXT) AS t FROM tweets WHERE user_id IS NOT NULL AND city LIKE 'p%' AND id IN ('1', '2');
CREATE TABLE sessions AS SELECT user_id, window_start, COUNT(*) AS n FROM SESSION(tweets, INTERVAL '5' MINUTE) GROUP BY user_id;
CREATE SINK s FROM city_5m WITH (connector = 'kafka', topic = 'x');

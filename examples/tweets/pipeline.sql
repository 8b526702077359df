-- tweets: per city, 5-minute windows every minute (tweets, retweets, unique
-- users, exactly and approximately), and the five busiest cities of the
-- last hour, every minute. Windows are in event time (created_at): replaying
-- a day of tweets gives the same rows as living through it.

CREATE STREAM tweets (id TEXT, user_id TEXT, city TEXT, is_retweet BOOL, created_at TIMESTAMP)
  WITH (partitions = 4, key = 'city', timestamp = 'created_at');

CREATE TABLE city_stats AS
  SELECT city, window_start, window_end,
         COUNT(*) AS tweets, COUNT_IF(is_retweet) AS retweets, COUNT(DISTINCT user_id) AS users
  FROM HOP(tweets, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)
  GROUP BY city EMIT FINAL;

-- HyperLogLog: a few KiB per window whatever the users, within about 1% of users
CREATE TABLE city_reach AS
  SELECT city, window_start, APPROX_COUNT_DISTINCT(user_id) AS approx_users
  FROM HOP(tweets, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)
  GROUP BY city EMIT FINAL;

CREATE TABLE top_cities AS
  SELECT window_start, window_end, TOPK(city, 5) AS top
  FROM HOP(tweets, INTERVAL '1' MINUTE, INTERVAL '1' HOUR) EMIT FINAL;

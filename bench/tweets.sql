-- bench/tweets.sql - issue 16's query (examples/tweets's city_stats alone), for bench/tweets_replay.sh.
CREATE STREAM tweets (id TEXT, user_id TEXT, city TEXT, is_retweet BOOL, created_at TIMESTAMP)
  WITH (partitions = 4, key = 'city', timestamp = 'created_at');

-- retention 'forever': the day of tweets never ages a window (kept as measured before aging windows ran per
-- partition too; README, "Threads")
CREATE TABLE city_stats WITH (retention = 'forever') AS
  SELECT city, window_start, window_end,
         COUNT(*) AS tweets, COUNT_IF(is_retweet) AS retweets, COUNT(DISTINCT user_id) AS users
  FROM HOP(tweets, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)
  GROUP BY city EMIT FINAL;

-- DESIGN.md's tweets table: HOP(slide 1 minute, size 5 minutes) with GRACE,
-- EMIT FINAL: one row per (city, window) when the window closes, in window
-- then key order; exact distinct users per window across its panes.
CREATE STREAM tweets (id TEXT, user_id TEXT, city TEXT, is_retweet BOOL, created_at TIMESTAMP)
  WITH (partitions = 4, key = 'city', timestamp = 'created_at', format = 'json');

CREATE TABLE city_5m AS
  SELECT city, window_start, window_end,
         COUNT(*) AS tweets, COUNT_IF(is_retweet) AS retweets,
         COUNT(DISTINCT user_id) AS users
  FROM HOP(tweets, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) GRACE INTERVAL '30' SECOND
  GROUP BY city
  EMIT FINAL;

-- TOPK over a window without GROUP BY (one row per window): the most
-- active cities of each hour, beside the hour's total, and per-city TOPK
-- of users over HOP panes (merged per window).
CREATE STREAM tweets (id TEXT, user_id TEXT, city TEXT, ts TIMESTAMP) WITH (timestamp = 'ts');
CREATE TABLE top_cities AS
  SELECT window_start, TOPK(city, 2) AS top, COUNT(*) AS n
  FROM TUMBLE(tweets, INTERVAL '1' HOUR) EMIT FINAL;
CREATE TABLE top_users AS
  SELECT city, window_start, TOPK(user_id, 1) AS top
  FROM HOP(tweets, INTERVAL '30' MINUTE, INTERVAL '1' HOUR) GROUP BY city EMIT FINAL;

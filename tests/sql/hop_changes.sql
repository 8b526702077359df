-- HOP with EMIT CHANGES: every record re-emits each open window that holds
-- its pane, each a fresh merge of the window's panes (exact distinct users,
-- the latest name by MAX of TEXT, an average, the top two) into the one
-- scratch target the query reuses from window to window.
CREATE STREAM tweets (user_id TEXT, city TEXT, likes INT, created_at TIMESTAMP)
  WITH (timestamp = 'created_at');

CREATE TABLE city_3m AS
  SELECT city, window_start, COUNT(*) AS tweets, COUNT(DISTINCT user_id) AS users,
         MAX(user_id) AS last_user, AVG(likes) AS likes, TOPK(user_id, 2) AS top
  FROM HOP(tweets, INTERVAL '1' MINUTE, INTERVAL '3' MINUTE)
  GROUP BY city;

-- SESSION windows: a key's session lasts while its records come less than
-- the gap apart; a record that bridges two sessions merges them. EMIT FINAL
-- gives one row per session when it closes (last event + gap + grace); EMIT
-- CHANGES (live) removes the row of a session merged into an earlier one.
CREATE STREAM clicks (user_id TEXT, page TEXT, ts TIMESTAMP) WITH (timestamp = 'ts');
CREATE TABLE visits AS
  SELECT user_id, window_start, window_end, COUNT(*) AS clicks, COUNT(DISTINCT page) AS pages,
         MIN(page) AS first_page
  FROM SESSION(clicks, INTERVAL '5' MINUTE) GRACE INTERVAL '1' MINUTE
  GROUP BY user_id
  EMIT FINAL;
CREATE TABLE live AS
  SELECT user_id, window_start, window_end, COUNT(*) AS clicks
  FROM SESSION(clicks, INTERVAL '5' MINUTE) GROUP BY user_id;

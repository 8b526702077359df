-- TUMBLE with EMIT CHANGES: a row per update; an out-of-order record within
-- GRACE still counts, one after its window closed goes to the dead letters.
CREATE STREAM likes (video_id TEXT, ts TIMESTAMP) WITH (timestamp = 'ts');
CREATE TABLE likes_1m AS
  SELECT video_id, window_start, window_end, COUNT(*) AS likes
  FROM TUMBLE(likes, INTERVAL '1' MINUTE) GRACE INTERVAL '10' SECOND
  GROUP BY video_id;

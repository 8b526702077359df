-- video-likes: likes arrive over HTTP (POST /videos/{video_id}/likes); per
-- video, the running count of likes in 1, 5 and 10 minute tumbling windows,
-- each table's updates in the stream of its name (a Kafka topic of that name
-- with weir serve --kafka), and the most liked videos of each minute.

CREATE STREAM likes (video_id TEXT, user_id TEXT, ts TIMESTAMP)
  WITH (partitions = 4, key = 'video_id', timestamp = 'ts');

-- POST /videos/v42/likes (body optional: {"user_id": "u7"}; ?ts=... to date it, else now)
CREATE ROUTE 'POST /videos/{video_id}/likes' INTO likes;

CREATE TABLE video_aggregations_1 AS
  SELECT video_id, window_start, window_end, COUNT(*) AS likes
  FROM TUMBLE(likes, INTERVAL '1' MINUTE) GROUP BY video_id;

CREATE TABLE video_aggregations_5 AS
  SELECT video_id, window_start, window_end, COUNT(*) AS likes
  FROM TUMBLE(likes, INTERVAL '5' MINUTE) GROUP BY video_id;

CREATE TABLE video_aggregations_10 AS
  SELECT video_id, window_start, window_end, COUNT(*) AS likes
  FROM TUMBLE(likes, INTERVAL '10' MINUTE) GROUP BY video_id;

CREATE TABLE top_videos AS
  SELECT window_start, TOPK(video_id, 10) AS top
  FROM TUMBLE(likes, INTERVAL '1' MINUTE);

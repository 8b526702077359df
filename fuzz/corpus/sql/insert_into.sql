-- INSERT INTO: several queries write one stream (Flink's INSERT INTO, and
-- ksqlDB's for a stream): each gives the stream's columns in order; the
-- stream's own queries read every writer's records.
CREATE STREAM web (user TEXT, page TEXT);
CREATE STREAM app (uid TEXT, screen TEXT, ms INT);
CREATE STREAM visits (user TEXT, place TEXT) WITH (key = 'user');
INSERT INTO visits SELECT user, page FROM web;
INSERT INTO visits SELECT uid, upper(screen) FROM app WHERE ms > 10;
CREATE TABLE per_user AS SELECT user, COUNT(*) AS n FROM visits GROUP BY user;

-- query: EXPLAIN visits
-- query: EXPLAIN "visits.insert2"
-- query: EXPLAIN CSAS_visits
-- EXPLAIN of a stream several queries write (its own CREATE STREAM ... AS
-- SELECT and two INSERT INTO) shows every writer, each after a Writer
-- step, then the output they share and each source's dead letters once;
-- EXPLAIN of one writer's id shows that one alone.
CREATE STREAM web (user TEXT, page TEXT);
CREATE STREAM app (uid TEXT, screen TEXT, ms INT);
CREATE STREAM visits AS SELECT user, page AS place FROM web WHERE page <> 'health';
INSERT INTO visits SELECT uid, upper(screen) FROM app WHERE ms > 10;
INSERT INTO visits SELECT user, lower(page) FROM web WHERE page = 'health';

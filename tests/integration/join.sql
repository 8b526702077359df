-- The pipeline of join.sh: an INNER and a FULL interval join of the same
-- two streams, a buy from a minute before to five minutes after a click,
-- thirty seconds of grace.
CREATE STREAM clicks (cid INT, user TEXT, ts TIMESTAMP) WITH (partitions = 4, key = 'user', timestamp = 'ts');
CREATE STREAM buys (bid INT, user TEXT, ts TIMESTAMP) WITH (partitions = 4, key = 'user', timestamp = 'ts');
CREATE STREAM matched AS
  SELECT c.cid, b.bid, c.user FROM clicks c JOIN buys b
    ON c.user = b.user AND b.ts BETWEEN c.ts - INTERVAL '1' MINUTE AND c.ts + INTERVAL '5' MINUTE
    GRACE INTERVAL '30' SECOND;
CREATE STREAM everything AS
  SELECT c.cid, b.bid FROM clicks c FULL JOIN buys b
    ON c.user = b.user AND b.ts BETWEEN c.ts - INTERVAL '1' MINUTE AND c.ts + INTERVAL '5' MINUTE
    GRACE INTERVAL '30' SECOND;

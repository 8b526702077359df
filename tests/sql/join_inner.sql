-- A stream-stream interval join (Flink SQL's): a buy meets the clicks of its
-- user in the ten minutes before it. Out-of-order records still meet while
-- the watermark allows; a click more than the bound (plus GRACE, 0 here)
-- behind its stream's watermark, or a buy behind its own, is too late and
-- goes to the dead letters. A NULL key meets nothing. The rest of ON
-- (b.amount > 0) decides whether a pair meets.
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM click_then_buy AS
  SELECT c.user, c.page, b.amount, c.ts AS click_ts, b.ts AS buy_ts
  FROM clicks AS c JOIN buys AS b
    ON c.user = b.user AND b.ts BETWEEN c.ts AND c.ts + INTERVAL '10' MINUTE AND b.amount > 0;

-- Joins of derived streams. Clicks are partitioned by page, so they are
-- re-keyed by user with PARTITION BY first; big buys keep the partition of
-- the buys they come from, keyed by user, which they select (renamed), so
-- they are co-partitioned with it as they are. Each derived stream has its
-- own watermark: a buy filtered out does not move big's.
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'page', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM clicks_by_user AS SELECT * FROM clicks PARTITION BY user;
CREATE STREAM big AS SELECT ts, user AS who, amount FROM buys WHERE amount > 10;
CREATE STREAM big_after_click AS
  SELECT c.user, c.page, big.amount FROM clicks_by_user c JOIN big
    ON c.user = big.who AND big.ts BETWEEN c.ts AND c.ts + INTERVAL '10' MINUTE;

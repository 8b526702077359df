-- A table-table join's dead letters go to the table whose change made the
-- failing row, carrying that table's row, as a stream-table join's go to
-- the side whose record made it: a right row's change to <right>.dlq with
-- the right row (not the left one), a left row's to <left>.dlq; a removal
-- that leaves a failing row carries the removed row's key. Failures here:
-- a SELECT list dividing by zero, a WHERE overflowing.
CREATE TABLE accounts (id TEXT PRIMARY KEY, n INT);
CREATE TABLE limits (id TEXT PRIMARY KEY, d INT, cap INT);
CREATE TABLE ratio AS SELECT a.id, a.n / l.d AS r FROM accounts a JOIN limits l ON a.id = l.id;
CREATE TABLE spare AS SELECT l.id, l.cap, a.n FROM limits l FULL JOIN accounts a ON l.id = a.id
  WHERE l.cap IS NULL OR l.cap * 2 > 0;
CREATE TABLE per_account AS SELECT a.id, 10 / (a.n - coalesce(l.d, a.n)) AS q FROM accounts a LEFT JOIN limits l
  ON a.id = l.id;

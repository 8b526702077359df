-- A row leaves an EMIT CHANGES table when an update makes it fail HAVING,
-- and only if it was shown: a removal names its primary key (replay prints
-- {"removed": KEY}; serve writes a tombstone). A key never shown is never
-- removed; a removed row comes back when HAVING holds again. HOP windows
-- track each window's row on its own.
CREATE STREAM moves (account TEXT, amount INT, ts TIMESTAMP) WITH (timestamp = 'ts');
CREATE TABLE positive AS
  SELECT account, SUM(amount) AS balance FROM moves GROUP BY account HAVING SUM(amount) > 0;
CREATE TABLE busy AS
  SELECT account, window_start, COUNT(*) AS n, SUM(amount) AS total
  FROM HOP(moves, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE)
  GROUP BY account HAVING SUM(amount) >= 10;

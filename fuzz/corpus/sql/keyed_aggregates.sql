-- A keyed table without a window (the Collatz "chains" table): every
-- aggregate over UINT, HAVING, and a SUM that would overflow, which refuses
-- the record instead of wrapping.
CREATE STREAM collatz (number UINT, step UINT, value UINT) WITH (key = 'number');
CREATE TABLE chains AS
  SELECT number, MAX(step) AS steps, MAX(value) AS peak, MIN(value) AS low, SUM(value) AS total,
         AVG(value) AS mean, COUNT(*) AS n, COUNT(value) AS n_values, COUNT(DISTINCT value) AS distinct_values,
         APPROX_COUNT_DISTINCT(value) AS approx
  FROM collatz GROUP BY number HAVING COUNT(*) >= 2;

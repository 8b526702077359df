-- Subqueries in FROM and WITH queries, planned by inlining: WITH queries
-- read earlier ones (and SELECT * passes columns through), an outer
-- window and GROUP BY read a projected and filtered inner query, and an
-- outer WHERE over a grouped subquery is its HAVING.
CREATE STREAM clicks (id INT, page TEXT, ms INT, ts TIMESTAMP) WITH (key = 'page', timestamp = 'ts');
CREATE TABLE per_page AS
  WITH norm AS (SELECT id, lower(page) AS p, ms * 2 AS ms2, ts FROM clicks WHERE id > 0),
       fast AS (SELECT * FROM norm WHERE ms2 < 100)
  SELECT p, window_start, COUNT(*) AS n, SUM(ms2) AS total FROM TUMBLE(fast, INTERVAL '1' MINUTE) GROUP BY p;
CREATE STREAM busy AS
  SELECT page, n FROM (SELECT page, COUNT(*) AS n FROM clicks GROUP BY page) AS c WHERE c.n >= 2;
CREATE STREAM tagged AS
  SELECT s.id, tag FROM (SELECT id, CASE WHEN ms > 50 THEN 'slow' ELSE 'fast' END AS tag FROM clicks) s
  WHERE tag = 'slow' OR id = 1;

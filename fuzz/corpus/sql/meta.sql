CREATE STREAM clicks (user TEXT NOT NULL, page TEXT CHECK (page <> ''), n INT, body JSON, ts TIMESTAMP)
  WITH (key = 'user', timestamp = 'ts', retention = '2 days');
CREATE TABLE customers (user TEXT PRIMARY KEY, tier TEXT);
CREATE STREAM tiered AS SELECT c.user, t.tier FROM clicks AS c LEFT JOIN customers AS t ON c.user = t.user;
CREATE TABLE sums AS SELECT user, window_start, SUM((n + 1) * 2) AS s FROM TUMBLE(clicks, INTERVAL '1' MINUTE)
  WHERE JSON_EXISTS(body, '$.a[0]["b"]') GROUP BY user HAVING COUNT(*) > 1 EMIT FINAL;
CREATE SINK out FROM tiered WITH (connector = 'file', path = 'x');
SHOW STREAMS; SHOW TABLES; SHOW QUERIES; SHOW SINKS;
DESCRIBE clicks; DESC EXTENDED "clicks.dlq"; DESCRIBE sums;
EXPLAIN sums; EXPLAIN CSAS_tiered; EXPLAIN PLAN FOR SELECT user, date_trunc('hour', ts) AS h FROM clicks
  WHERE JSON_VALUE(body, '$.a' RETURNING INT) > 1 ORDER BY h DESC LIMIT 3;
EXPLAIN SELECT * FROM sums WHERE user = 'x';

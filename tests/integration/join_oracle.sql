-- The pipeline whose outputs tests/integration/join_oracle.py computes on
-- its own: stream-table joins against the current row (LEFT, and INNER with
-- WHERE), a FULL table-table join and a temporal join (FOR SYSTEM_TIME AS
-- OF). join_restart.sh, join_kafka.sh and join_scale_out.sh run it.
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT) WITH (partitions = 2);
CREATE TABLE accounts (customer_id TEXT PRIMARY KEY, balance INT) WITH (partitions = 2);
CREATE STREAM orders (oid INT, customer_id TEXT) WITH (partitions = 2, key = 'customer_id');
CREATE STREAM enriched AS
  SELECT o.oid, o.customer_id, c.tier FROM orders o LEFT JOIN customers c ON o.customer_id = c.customer_id;
CREATE STREAM gold_orders AS
  SELECT o.oid, c.tier FROM orders o JOIN customers c ON o.customer_id = c.customer_id WHERE c.tier = 'gold';
CREATE TABLE both_sides AS
  SELECT c.customer_id, c.tier, a.balance FROM customers c FULL JOIN accounts a ON c.customer_id = a.customer_id;
CREATE TABLE prices (sku TEXT PRIMARY KEY, price INT, ts TIMESTAMP) WITH (partitions = 1, timestamp = 'ts');
CREATE STREAM sales (sid INT, sku TEXT, ts TIMESTAMP) WITH (partitions = 1, key = 'sku', timestamp = 'ts');
CREATE STREAM priced AS
  SELECT s.sid, s.sku, p.price FROM sales s LEFT JOIN prices FOR SYSTEM_TIME AS OF s.ts AS p ON s.sku = p.sku
  GRACE INTERVAL '10' SECOND;

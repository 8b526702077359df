-- Table-table joins on the primary keys (ksqlDB's and Kafka Streams'
-- semantics): a change of either table makes the key's joined row as it
-- now stands. INNER needs both rows, LEFT the left one (NULLs for a
-- missing right), FULL either (its row keyed by the left key, which holds
-- the key when only the right row is there). A row that no longer has a
-- joined row, or whose joined row fails WHERE, leaves the output table.
-- One table is computed (spend, whose row leaves when it passes 100).
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT);
CREATE STREAM buys (customer_id TEXT, amount DOUBLE) WITH (key = 'customer_id');
CREATE TABLE spend AS SELECT customer_id, SUM(amount) AS total FROM buys GROUP BY customer_id HAVING SUM(amount) < 100;
CREATE TABLE both_sides AS
  SELECT c.customer_id, c.tier, s.total FROM customers c JOIN spend s ON c.customer_id = s.customer_id;
CREATE TABLE with_spend AS
  SELECT c.customer_id, c.tier, s.total FROM customers c LEFT JOIN spend s ON c.customer_id = s.customer_id;
CREATE TABLE either AS
  SELECT c.customer_id, c.tier, s.total FROM customers c FULL JOIN spend s ON c.customer_id = s.customer_id
  WHERE c.tier IS NULL OR c.tier <> 'banned';

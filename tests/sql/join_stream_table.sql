-- A stream-table join (ksqlDB's semantics): each trip meets its customer's
-- row as the lines before it left it; LEFT keeps a trip without a customer
-- with NULLs, INNER drops it; a customer's later row (c1's new tier) is
-- what later trips meet; ON's rest is a condition on the pair. Lines name
-- their source: {"stream": ..., "row": ...}.
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT, ts TIMESTAMP) WITH (timestamp = 'ts');
CREATE STREAM trips (trip_id TEXT, customer_id TEXT, km DOUBLE, ts TIMESTAMP) WITH (key = 'customer_id', timestamp = 'ts');
CREATE STREAM enriched AS
  SELECT t.trip_id, t.customer_id, c.tier, t.km
  FROM trips AS t LEFT JOIN customers AS c ON t.customer_id = c.customer_id;
CREATE STREAM gold_trips AS
  SELECT t.trip_id, c.tier FROM trips t JOIN customers c ON c.customer_id = t.customer_id AND c.tier <> 'bronze';

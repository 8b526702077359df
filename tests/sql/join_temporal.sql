-- A temporal join (Flink's FOR SYSTEM_TIME AS OF): each trip meets its
-- customer's row as it was at the trip's event time, whatever order the lines
-- come in: t1 (10:01) meets gold although platinum (10:04) came before it. A
-- trip waits until the table's watermark passes its time, so t4 (10:05) comes
-- out once c2's 10:06 record shows the table has reached it, and t5 (10:07) at
-- the end of the input. LEFT keeps t3 (no such customer) with NULLs; t6 is
-- further behind its partition's watermark than GRACE (none here): too late.
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT, ts TIMESTAMP) WITH (timestamp = 'ts');
CREATE STREAM trips (trip_id TEXT, customer_id TEXT, ts TIMESTAMP) WITH (key = 'customer_id', timestamp = 'ts');
CREATE STREAM enriched AS
  SELECT t.trip_id, t.customer_id, c.tier, t.ts
  FROM trips AS t LEFT JOIN customers FOR SYSTEM_TIME AS OF t.ts AS c ON t.customer_id = c.customer_id;

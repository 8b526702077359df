-- error: join_table_not_keyed.sql:4:78: trips is not partitioned by customer_id, so its records of a key are not in the partition the join reads for that key: the inputs of a join must be co-partitioned on the join key; declare it WITH (key = 'customer_id'), or re-key it: CREATE STREAM trips_by_customer_id AS SELECT * FROM trips PARTITION BY customer_id
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT);
CREATE STREAM trips (trip_id TEXT, customer_id TEXT) WITH (key = 'trip_id');
CREATE STREAM j AS SELECT t.trip_id, c.tier FROM trips t JOIN customers c ON t.customer_id = c.customer_id;

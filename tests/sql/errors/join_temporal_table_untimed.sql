-- error: join_temporal_table_untimed.sql:4:95: a temporal join reads customers's rows as of a time, so its records need one: declare WITH (timestamp = 'col') on customers
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT);
CREATE STREAM trips (trip_id TEXT, customer_id TEXT, ts TIMESTAMP) WITH (key = 'customer_id', timestamp = 'ts');
CREATE STREAM j AS SELECT t.trip_id, c.tier FROM trips t JOIN customers FOR SYSTEM_TIME AS OF t.ts AS c ON t.customer_id = c.customer_id;

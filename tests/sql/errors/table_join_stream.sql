-- error: table_join_stream.sql:4:50: customers is a table and trips a stream: a stream joins a table (FROM trips JOIN customers ON ...)
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT);
CREATE STREAM trips (trip_id TEXT, customer_id TEXT) WITH (key = 'customer_id');
CREATE STREAM j AS SELECT c.tier, t.trip_id FROM customers c JOIN trips t ON c.customer_id = t.customer_id;

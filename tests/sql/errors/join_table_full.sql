-- error: join_table_full.sql:4:58: a stream-table join is INNER or LEFT: a table's rows are not events that could come out unmatched
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT);
CREATE STREAM trips (trip_id TEXT, customer_id TEXT) WITH (key = 'customer_id');
CREATE STREAM j AS SELECT t.trip_id, c.tier FROM trips t FULL JOIN customers c ON t.customer_id = c.customer_id;

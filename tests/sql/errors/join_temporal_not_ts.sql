-- error: join_temporal_not_ts.sql:4:95: FOR SYSTEM_TIME AS OF takes trips's event-time column (t.ts): a record meets the row as of its own event time
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT, ts TIMESTAMP) WITH (timestamp = 'ts');
CREATE STREAM trips (trip_id TEXT, customer_id TEXT, ts TIMESTAMP, at TIMESTAMP) WITH (key = 'customer_id', timestamp = 'ts');
CREATE STREAM j AS SELECT t.trip_id, c.tier FROM trips t JOIN customers FOR SYSTEM_TIME AS OF t.at AS c ON t.customer_id = c.customer_id;

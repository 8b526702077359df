-- error: join_table_as_of.sql:4:95: FOR SYSTEM_TIME AS OF (a temporal join) is not supported yet: without it each record meets customers's current row of its key
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT);
CREATE STREAM trips (trip_id TEXT, customer_id TEXT, ts TIMESTAMP) WITH (key = 'customer_id', timestamp = 'ts');
CREATE STREAM j AS SELECT t.trip_id, c.tier FROM trips t JOIN customers FOR SYSTEM_TIME AS OF t.ts AS c ON t.customer_id = c.customer_id;

-- error: join_table_not_pk.sql:4:85: a stream-table join needs ON to equal a column of t with c's primary key (t.column = c.customer_id): a record meets the table's row of that key
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT);
CREATE STREAM trips (trip_id TEXT, tier TEXT) WITH (key = 'tier');
CREATE STREAM j AS SELECT t.trip_id, c.customer_id FROM trips t JOIN customers c ON t.tier = c.tier;

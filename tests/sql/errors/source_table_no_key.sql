-- error: source_table_no_key.sql:2:1: source table customers needs a PRIMARY KEY: the column naming a row, whose latest record is the row (declare it `col TYPE PRIMARY KEY`, or write CREATE STREAM for a stream)
CREATE TABLE customers (customer_id TEXT, tier TEXT) WITH (partitions = 2);

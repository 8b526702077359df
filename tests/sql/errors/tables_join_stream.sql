-- error: tables_join_stream.sql:4:1: a join of two tables is a table: CREATE TABLE ... AS SELECT ... FROM customers JOIN accounts ON ...
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT);
CREATE TABLE accounts (customer_id TEXT PRIMARY KEY, balance DOUBLE);
CREATE STREAM j AS SELECT c.customer_id, a.balance FROM customers c JOIN accounts a ON c.customer_id = a.customer_id;

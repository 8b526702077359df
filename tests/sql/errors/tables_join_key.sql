-- error: tables_join_key.sql:4:1: select the join key (customers.customer_id): it names the rows of the table the join makes
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT);
CREATE TABLE accounts (customer_id TEXT PRIMARY KEY, balance DOUBLE);
CREATE TABLE j AS SELECT c.tier, a.balance FROM customers c LEFT JOIN accounts a ON c.customer_id = a.customer_id;

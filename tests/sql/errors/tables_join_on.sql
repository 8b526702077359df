-- error: tables_join_on.sql:4:104: two tables join on their primary keys, and only on them: ON c.customer_id = a.account_id (a condition on the pair goes in WHERE)
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, tier TEXT);
CREATE TABLE accounts (account_id TEXT PRIMARY KEY, owner TEXT);
CREATE TABLE j AS SELECT c.customer_id, a.account_id FROM customers c JOIN accounts a ON c.customer_id = a.owner;

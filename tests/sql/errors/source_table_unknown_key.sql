-- error: source_table_unknown_key.sql:2:56: PRIMARY KEY names column id, which is not declared before it
CREATE TABLE customers (customer_id TEXT, PRIMARY KEY (id) NOT ENFORCED);

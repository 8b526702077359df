-- error: source_table_two_keys.sql:2:55: a source table's PRIMARY KEY is one column; customers has customer_id already
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, region TEXT PRIMARY KEY);

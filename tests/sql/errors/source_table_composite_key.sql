-- error: source_table_composite_key.sql:2:80: a source table's PRIMARY KEY is one column (a key of several is not supported yet)
CREATE TABLE customers (customer_id TEXT, region TEXT, PRIMARY KEY (customer_id, region));

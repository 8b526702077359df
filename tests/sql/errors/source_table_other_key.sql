-- error: source_table_other_key.sql:2:74: a source table is keyed by its PRIMARY KEY (customer_id): leave out WITH (key) or name that column
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, region TEXT) WITH (key = 'region');

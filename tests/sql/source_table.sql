-- A source table: each record is its primary key's new row (replay prints
-- them as the table's rows); a record without the key names no row and is a
-- dead letter. Flink's table constraint form, NOT ENFORCED included.
CREATE TABLE customers (customer_id TEXT, tier TEXT, ts TIMESTAMP, PRIMARY KEY (customer_id) NOT ENFORCED)
  WITH (timestamp = 'ts');

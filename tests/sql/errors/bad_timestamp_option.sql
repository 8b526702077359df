-- error: bad_timestamp_option.sql:2:40: the timestamp column must have type TIMESTAMP
CREATE STREAM s (a TEXT, ts INT) WITH (timestamp = 'ts');

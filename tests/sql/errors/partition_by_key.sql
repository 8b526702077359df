-- error: partition_by_key.sql:3:23: d is keyed by PARTITION BY: give it or WITH (key = ...), not both
CREATE STREAM s (a TEXT, b INT);
CREATE STREAM d WITH (key = 'a') AS SELECT a, b FROM s PARTITION BY b;

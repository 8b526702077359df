-- error: partition_by_unknown.sql:3:49: unknown column c in d (it has: a)
CREATE STREAM s (a TEXT, b INT);
CREATE STREAM d AS SELECT a FROM s PARTITION BY c;

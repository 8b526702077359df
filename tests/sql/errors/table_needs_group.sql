-- error: table_needs_group.sql:3:1: CREATE TABLE ... AS SELECT needs GROUP BY or aggregates (a table is keyed); use CREATE STREAM ... AS SELECT for a filter or projection
CREATE STREAM s (a TEXT);
CREATE TABLE t AS SELECT a FROM s;

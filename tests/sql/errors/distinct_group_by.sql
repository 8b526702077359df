-- error: distinct_group_by.sql:3:56: SELECT DISTINCT with GROUP BY or aggregates is not supported: group by the columns (GROUP BY makes each group's row distinct already)
CREATE STREAM s (a TEXT, b INT);
CREATE TABLE t AS SELECT DISTINCT a, b FROM s GROUP BY a, b;

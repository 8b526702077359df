-- error: by_offset_star.sql:3:29: earliest_by_offset takes a column and optionally whether to ignore NULLs: earliest_by_offset(x) or earliest_by_offset(x, FALSE)
CREATE STREAM s (k TEXT, v INT) WITH (key = 'k');
CREATE TABLE t AS SELECT k, EARLIEST_BY_OFFSET(*) AS v FROM s GROUP BY k;

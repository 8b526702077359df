-- error: by_offset_nulls_arg.sql:4:56: latest_by_offset's second argument says whether NULLs are ignored: TRUE (the default) or FALSE
CREATE STREAM s (k TEXT, v INT) WITH (key = 'k');
CREATE TABLE t AS
  SELECT k, EARLIEST_BY_OFFSET(v), LATEST_BY_OFFSET(v, 'no') AS v FROM s GROUP BY k;

-- error: cumulate_steps.sql:4:52: CUMULATE window size must be a whole number of steps (CUMULATE takes the step first, then the size)
CREATE STREAM views (page TEXT, ts TIMESTAMP) WITH (timestamp = 'ts');
CREATE TABLE t AS SELECT COUNT(*) AS n
  FROM TABLE(CUMULATE(TABLE views, DESCRIPTOR(ts), INTERVAL '2' MINUTE, INTERVAL '3' MINUTE))
  GROUP BY window_start, window_end;

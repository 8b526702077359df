-- error: date_trunc_unit.sql:3:27: date_trunc: unknown unit 'fortnight' (millisecond, second, minute, hour, day, week, month, quarter, year, decade, century, millennium)
CREATE STREAM s (ts TIMESTAMP);
CREATE STREAM t AS SELECT date_trunc('fortnight', ts) AS x FROM s;

-- error: date_trunc_text.sql:3:27: date_trunc: expects a TIMESTAMP as its second argument (CAST(x AS TIMESTAMP))
CREATE STREAM s (ts TEXT);
CREATE STREAM t AS SELECT date_trunc('day', ts) AS x FROM s;

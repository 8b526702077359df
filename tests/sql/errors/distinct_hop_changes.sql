-- error: distinct_hop_changes.sql:3:46: SELECT DISTINCT over HOP, CUMULATE or SESSION windows needs EMIT FINAL (a tuple new to a pane or session need not be new to its window)
CREATE STREAM s (a TEXT, ts TIMESTAMP) WITH (timestamp = 'ts');
CREATE TABLE t AS SELECT DISTINCT a FROM HOP(s, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE);

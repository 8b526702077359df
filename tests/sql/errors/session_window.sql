-- error: session_window.sql:3:56: SESSION windows are not supported yet: use TUMBLE or HOP
CREATE STREAM s (a TEXT, ts TIMESTAMP) WITH (timestamp = 'ts');
CREATE TABLE t AS SELECT a, COUNT(*) AS n FROM SESSION(s, INTERVAL '5' MINUTE) GROUP BY a;

-- error: emit_final_no_window.sql:3:1: EMIT FINAL needs a window (TUMBLE, HOP or SESSION): without one nothing ever closes
CREATE STREAM s (a TEXT);
CREATE TABLE t AS SELECT a, COUNT(*) AS n FROM s GROUP BY a EMIT FINAL;

-- error: window_start_unwindowed.sql:3:29: window_start is only defined in a windowed query (FROM TUMBLE(s, ...) or TABLE(TUMBLE(TABLE s, ...)), HOP, CUMULATE, SESSION)
CREATE STREAM s (a TEXT);
CREATE TABLE t AS SELECT a, window_start, COUNT(*) AS n FROM s GROUP BY a;

-- error: start_option.sql:3:22: start must be 'earliest' (read the input from its oldest retained record, the default) or 'latest' (only what comes after the query's first start)
CREATE STREAM s (a TEXT, b INT);
CREATE TABLE t WITH (start = 'now') AS SELECT a, COUNT(*) AS n FROM s GROUP BY a;

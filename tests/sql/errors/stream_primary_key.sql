-- error: stream_primary_key.sql:2:23: a stream has no PRIMARY KEY: its records are events, not rows (CREATE TABLE clicks (...) makes a source table, the latest record per key)
CREATE STREAM clicks (user TEXT PRIMARY KEY, page TEXT);

-- error: cleanup_policy_store_stream.sql:3:23: cleanup_policy 'store' is for a table made by a query (CREATE TABLE ... AS SELECT), whose rows the state store holds; t is a stream
CREATE STREAM s (a TEXT);
CREATE STREAM t WITH (cleanup_policy = 'store') AS SELECT a FROM s;

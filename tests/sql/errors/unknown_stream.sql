-- error: unknown_stream.sql:2:34: unknown stream nowhere (declare it first with CREATE STREAM)
CREATE STREAM t AS SELECT a FROM nowhere;

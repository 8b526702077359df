-- error: select_in_pipeline.sql:3:1: a pipeline declares streams, tables and sinks; SELECT is a request, run it with weir query
CREATE STREAM s (a TEXT);
SELECT a FROM s;

-- error: drop_route.sql:3:1: a pipeline declares streams, tables and sinks; DROP is a request, run it with weir sql (a running server) or weir query (a stream's records, weir stopped)
CREATE STREAM s (a INT);
DROP ROUTE 'POST /x/{a}';

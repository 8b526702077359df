-- error: endpoint_method.sql:3:1: an endpoint is 'GET /path' with {name} for its parameters, like 'GET /part/{x}'
CREATE STREAM s (n INT);
CREATE ENDPOINT 'POST /x' AS SELECT n FROM s;

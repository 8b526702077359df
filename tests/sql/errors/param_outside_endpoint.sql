-- error: param_outside_endpoint.sql:2:71: {x} is an endpoint's parameter: only CREATE ENDPOINT ... AS SELECT takes them
CREATE STREAM s (n INT); CREATE STREAM t AS SELECT n FROM s WHERE n = {x};

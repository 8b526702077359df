-- error: json_value_of_int.sql:3:27: json_exists: expects a JSON or TEXT document first
CREATE STREAM s (n INT);
CREATE STREAM t AS SELECT JSON_EXISTS(n, '$.a') AS x FROM s;

-- error: json_path_strict.sql:3:27: json_value: path 'strict $.a': strict mode is not supported (lax is what weir does) at byte 1 of the path (paths take $, .key, ["key"] and [index])
CREATE STREAM s (doc TEXT);
CREATE STREAM t AS SELECT JSON_VALUE(doc, 'strict $.a') AS x FROM s;

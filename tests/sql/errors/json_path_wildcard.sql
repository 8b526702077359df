-- error: json_path_wildcard.sql:3:27: json_value: path '$.items[*].id': the wildcard [*] is not supported at byte 9 of the path (paths take $, .key, ["key"] and [index])
CREATE STREAM s (doc JSON);
CREATE STREAM t AS SELECT JSON_VALUE(doc, '$.items[*].id') AS id FROM s;

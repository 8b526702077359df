-- error: json_returning_json.sql:3:27: json_value returns scalars: RETURNING JSON is json_query(doc, path)
CREATE STREAM s (doc JSON);
CREATE STREAM t AS SELECT JSON_VALUE(doc, '$.a' RETURNING JSON) AS x FROM s;

-- error: json_returning_elsewhere.sql:3:27: json_query: RETURNING is only for json_value
CREATE STREAM s (doc JSON);
CREATE STREAM t AS SELECT JSON_QUERY(doc, '$.a' RETURNING INT) AS x FROM s;

-- error: json_returning_elsewhere.sql:3:49: RETURNING is only for json_value, not json_query
CREATE STREAM s (doc JSON);
CREATE STREAM t AS SELECT JSON_QUERY(doc, '$.a' RETURNING INT) AS x FROM s;

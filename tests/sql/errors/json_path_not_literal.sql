-- error: json_path_not_literal.sql:3:27: json_query: the path must be a literal like '$.a.b'
CREATE STREAM s (doc JSON, p TEXT);
CREATE STREAM t AS SELECT JSON_QUERY(doc, p) AS x FROM s;

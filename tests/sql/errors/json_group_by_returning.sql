-- error: json_group_by_returning.sql:3:37: column j must appear in GROUP BY or be used inside an aggregate
CREATE STREAM s (j JSON);
CREATE TABLE t AS SELECT JSON_VALUE(j, '$.a') AS a, COUNT(*) AS n FROM s GROUP BY JSON_VALUE(j, '$.a' RETURNING INT);

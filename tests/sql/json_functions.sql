-- JSON_VALUE, JSON_QUERY and JSON_EXISTS over a JSON column and over TEXT
-- holding JSON, with Flink's defaults: a scalar's text (strings decoded),
-- NULL for what is absent, not a scalar or not JSON; RETURNING converts
-- (NULL when it cannot); JSON_QUERY gives objects and arrays only;
-- JSON_EXISTS is true for a member holding null and false for bad JSON.
CREATE STREAM events (id INT, payload JSON, raw TEXT);
CREATE STREAM extracted AS
  SELECT id,
         JSON_VALUE(payload, '$.user.name') AS name,
         JSON_VALUE(payload, '$.user.age' RETURNING INT) AS age,
         JSON_VALUE(payload, '$.tags[1]') AS tag2,
         JSON_VALUE(payload, '$["odd key"]') AS odd,
         JSON_VALUE(payload, 'lax $.ok' RETURNING BOOLEAN) AS ok,
         JSON_VALUE(payload, '$.user') AS not_scalar,
         JSON_QUERY(payload, '$.user') AS user_obj,
         JSON_QUERY(payload, '$.tags') AS tags,
         JSON_QUERY(payload, '$.user.name') AS scalar_query,
         JSON_EXISTS(payload, '$.gone') AS has_gone,
         JSON_VALUE(raw, '$.n' RETURNING DOUBLE) AS n,
         JSON_VALUE(raw, '$') AS whole,
         JSON_EXISTS(raw, '$.n') AS has_n
  FROM events
  WHERE JSON_EXISTS(payload, '$.user') OR raw IS NOT NULL;
-- A keyed table grouped by a JSON_VALUE (RETURNING makes another expression).
CREATE TABLE per_name AS
  SELECT JSON_VALUE(payload, '$.user.name') AS name, COUNT(*) AS n,
         MAX(JSON_VALUE(payload, '$.user.age' RETURNING INT)) AS oldest
  FROM events WHERE JSON_EXISTS(payload, '$.user') GROUP BY JSON_VALUE(payload, '$.user.name');

-- sensors: a hoverboard rental platform. Three record types, each checked
-- at ingest against its JSON Schema in weir's registry (schemas/, loaded
-- with weir serve --schemas), each in its own stream of 100 partitions:
-- hoverboards and customers by murmur2(id) % 100, trips by
-- murmur2(hoverboard_id || '|' || customer_id) % 100. A record that breaks
-- its schema is refused (422, naming the field and the rule) and not stored.

CREATE STREAM hoverboard (id TEXT, model TEXT, battery INT, speed_kmh DOUBLE, lat DOUBLE, lon DOUBLE, ts TIMESTAMP)
  WITH (partitions = 100, key = 'id', timestamp = 'ts', schema = 'hoverboard');

CREATE STREAM customer (id TEXT, name TEXT, email TEXT, created_at TIMESTAMP)
  WITH (partitions = 100, key = 'id', timestamp = 'created_at', schema = 'customer');

CREATE STREAM trip (hoverboard_id TEXT, customer_id TEXT, distance_km DOUBLE, duration_s INT, started_at TIMESTAMP)
  WITH (partitions = 100, key = 'hoverboard_id, customer_id', timestamp = 'started_at', schema = 'trip');

-- each type in a table of its own
CREATE TABLE hoverboards AS
  SELECT id, COUNT(*) AS readings, MIN(battery) AS min_battery, MAX(speed_kmh) AS top_speed_kmh, MAX(ts) AS last_seen
  FROM hoverboard GROUP BY id;

CREATE TABLE customers AS
  SELECT id, MAX(name) AS name, MAX(email) AS email, MIN(created_at) AS since
  FROM customer GROUP BY id;

CREATE TABLE trips AS
  SELECT hoverboard_id, customer_id, COUNT(*) AS trips, SUM(distance_km) AS km, SUM(duration_s) AS seconds
  FROM trip GROUP BY hoverboard_id, customer_id;

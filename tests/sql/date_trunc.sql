-- date_trunc(unit, ts): PostgreSQL's, in UTC: weeks start on Monday,
-- quarters in January, April, July and October, centuries in years ..01;
-- plurals and any case name the unit; NULL stays NULL. A keyed table
-- grouped by the hour a record falls in.
CREATE STREAM ticks (id INT, ts TIMESTAMP, at TIMESTAMP) WITH (timestamp = 'ts');
CREATE STREAM truncated AS
  SELECT id, date_trunc('second', at) AS s, date_trunc('MINUTES', at) AS mi, date_trunc('hour', at) AS h,
         date_trunc('day', at) AS d, date_trunc('week', at) AS w, date_trunc('month', at) AS mo,
         date_trunc('quarter', at) AS q, date_trunc('year', at) AS y, date_trunc('decade', at) AS de,
         date_trunc('century', at) AS c, date_trunc('millennium', at) AS ml, date_trunc('milliseconds', at) AS ms
  FROM ticks;
CREATE TABLE per_hour AS
  SELECT date_trunc('hour', ts) AS hour, COUNT(*) AS n FROM ticks GROUP BY date_trunc('hour', ts);

-- collatz: every step of the Collatz chains of many numbers, and four
-- questions answered over HTTP by endpoints declared here: the longest
-- chain, the highest value reached, the numbers whose chain passes a value,
-- and a plot of one number's chain.

CREATE STREAM "conjecture.data" (number UINT, step UINT, value UINT, ts TIMESTAMP)
  WITH (partitions = 4, key = 'number', timestamp = 'ts');

-- The tables' rows live in the state store, which the endpoints read and a
-- restart opens; no query reads the tables' changelogs from their start, so
-- each changelog is kept only as far back as its readers need
-- (cleanup_policy = 'store'; the default, 'compact', would keep a row per
-- key: one per step in value_numbers and chain_steps).
-- per number: its chain's length and highest value
CREATE TABLE chains WITH (cleanup_policy = 'store') AS
  SELECT number, MAX(step) AS steps, MAX(value) AS peak FROM "conjecture.data" GROUP BY number;

-- per value: the numbers whose chain passes it
CREATE TABLE value_numbers WITH (cleanup_policy = 'store') AS
  SELECT value, number, MIN(step) AS step FROM "conjecture.data" GROUP BY value, number;

-- per number and step: the value (for the plots)
CREATE TABLE chain_steps WITH (cleanup_policy = 'store') AS
  SELECT number, step, MAX(value) AS value FROM "conjecture.data" GROUP BY number, step;

-- the steps as the original system stored them (with --clickhouse: a ClickHouse table of that name)
CREATE STREAM data_series AS SELECT number, step, value, ts AS timestamp FROM "conjecture.data";

CREATE ENDPOINT 'GET /longest_step_chain' WITH (format = 'object') AS
  SELECT number AS longest, steps FROM chains ORDER BY steps DESC, number LIMIT 1;

CREATE ENDPOINT 'GET /highest_value' WITH (format = 'object') AS
  SELECT number AS longest, number, peak AS value FROM chains ORDER BY peak DESC, number LIMIT 1;

-- as the original system answered it: [[n], [n], ...]
CREATE ENDPOINT 'GET /part/{x}' WITH (format = 'rows') AS
  SELECT number FROM value_numbers WHERE value = {x} ORDER BY number;

CREATE ENDPOINT 'GET /plot/{n}' WITH (format = 'svg') AS
  SELECT step, value FROM chain_steps WHERE number = {n} ORDER BY step;

CREATE ENDPOINT 'GET /chain/{n}' WITH (format = 'csv') AS
  SELECT step, value FROM chain_steps WHERE number = {n} ORDER BY step;

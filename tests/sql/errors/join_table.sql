-- error: join_table.sql:5:62: spend is keyed by 2 columns (its GROUP BY columns and window_start): a stream joins a table keyed by one column, whose rows it meets by that key
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE TABLE spend AS SELECT user, window_start, SUM(amount) AS total FROM TUMBLE(buys, INTERVAL '1' HOUR) GROUP BY user;
CREATE STREAM j AS SELECT c.page, s.total FROM clicks c JOIN spend s ON c.user = s.user;

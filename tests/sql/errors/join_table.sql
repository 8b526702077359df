-- error: join_table.sql:5:62: spend is a derived table (AS SELECT): a stream joins source tables (CREATE TABLE ... PRIMARY KEY) so far
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE TABLE spend AS SELECT user, SUM(amount) AS total FROM buys GROUP BY user;
CREATE STREAM j AS SELECT c.page, s.total FROM clicks c JOIN spend s ON c.user = s.user;

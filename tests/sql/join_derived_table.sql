-- A stream joined with a derived table (AS SELECT, keyed by one column):
-- each click meets its user's current row of spend as the lines before it
-- left it; when the row leaves (spend fails HAVING) later clicks meet
-- none, as they would a source table's removed row.
-- clicks is declared after spend: weir serve reads its inputs in that
-- order each step, so the table's changes of a step come before its clicks.
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE TABLE spend AS SELECT user, SUM(amount) AS total FROM buys GROUP BY user HAVING SUM(amount) < 100;
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM j AS SELECT c.user, c.page, s.total FROM clicks c LEFT JOIN spend s ON c.user = s.user;

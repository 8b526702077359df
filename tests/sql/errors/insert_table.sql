-- error: insert_table.sql:4:1: INSERT INTO per_user: a table's rows come of its own query or its producers; INSERT INTO writes records into a stream
CREATE STREAM web (user TEXT, page TEXT);
CREATE TABLE per_user AS SELECT user, COUNT(*) AS n FROM web GROUP BY user;
INSERT INTO per_user SELECT user, 1 FROM web;

-- error: insert_types.sql:4:39: INSERT INTO visits: column 3 (ms) is DOUBLE and this is INT: CAST(... AS DOUBLE)
CREATE STREAM web (user TEXT, page TEXT, ms INT);
CREATE STREAM visits (user TEXT, place TEXT, ms DOUBLE);
INSERT INTO visits SELECT user, page, ms FROM web;

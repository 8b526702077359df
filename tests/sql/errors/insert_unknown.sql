-- error: insert_unknown.sql:3:1: INSERT INTO visits: no such stream before it (declare it: CREATE STREAM visits (columns) WITH (...))
CREATE STREAM web (user TEXT, page TEXT);
INSERT INTO visits SELECT user, page FROM web;

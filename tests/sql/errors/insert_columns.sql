-- error: insert_columns.sql:4:1: INSERT INTO visits: the SELECT gives 2 columns and visits has 3: give its columns in order (user first)
CREATE STREAM web (user TEXT, page TEXT);
CREATE STREAM visits (user TEXT, place TEXT, ms INT);
INSERT INTO visits SELECT user, page FROM web;

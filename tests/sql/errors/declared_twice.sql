-- error: declared_twice.sql:3:1: s is declared twice
CREATE STREAM s (a TEXT);
CREATE STREAM s (b TEXT);

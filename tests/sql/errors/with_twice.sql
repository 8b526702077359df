-- error: with_twice.sql:3:49: WITH query r is named twice
CREATE STREAM s (a INT);
CREATE STREAM t AS WITH r AS (SELECT a FROM s), r AS (SELECT a FROM s) SELECT a FROM r;

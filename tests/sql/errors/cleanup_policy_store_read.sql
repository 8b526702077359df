-- error: cleanup_policy_store_read.sql:4:48: n keeps its changelog only as far back as its readers need (cleanup_policy = 'store'), so a query cannot read it from its start: give it cleanup_policy = 'compact' (the default) to read it here
CREATE STREAM s (a TEXT);
CREATE TABLE n WITH (cleanup_policy = 'store') AS SELECT a, COUNT(*) AS c FROM s GROUP BY a;
CREATE STREAM j AS SELECT s.a, n.c FROM s JOIN n ON s.a = n.a;

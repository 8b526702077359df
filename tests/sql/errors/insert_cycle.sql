-- error: insert_cycle.sql:6:29: INSERT INTO a: the SELECT reads what a's own records make, so each record would make another without end
CREATE STREAM src (n INT);
CREATE STREAM a (n INT);
INSERT INTO a SELECT n FROM src;
CREATE STREAM c AS SELECT n + 1 AS n FROM a;
INSERT INTO a SELECT n FROM c;

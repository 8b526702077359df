-- An expression over aggregates that fails (here an overflow) does not emit
-- the row: the record that triggered it goes to the source's dead letters,
-- with the row it would have made.
CREATE STREAM s (k TEXT, v INT);
CREATE TABLE t AS SELECT k, SUM(v) AS total, SUM(v) * 4611686018427387904 AS scaled FROM s GROUP BY k;

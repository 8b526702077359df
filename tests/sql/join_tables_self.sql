-- A table joined with itself: each change makes the key's row once (not one
-- row per side); a WHERE that never passes sends no removals; a SELECT list
-- that fails (division by zero) dead-letters the row and removes the key's
-- old row, which is then not removed twice.
CREATE STREAM dummy (x INT);
CREATE TABLE t (id INT PRIMARY KEY, v INT);
CREATE TABLE s AS SELECT a.id, a.v AS av, b.v AS bv FROM t a FULL JOIN t b ON a.id = b.id WHERE a.v = b.v;
CREATE TABLE w AS SELECT a.id, a.v FROM t a JOIN t b ON a.id = b.id WHERE a.v > 100;
CREATE TABLE d AS SELECT a.id, a.v / b.v AS q FROM t a JOIN t b ON a.id = b.id;

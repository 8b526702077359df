-- error: join_insert_rekeys.sql:7:1: INSERT INTO bb: query j joins bb on k, so its records must be partitioned by it, and with several queries writing bb only its WITH (key = ...) says how they are: declare bb WITH (key = 'k')
CREATE STREAM a (k TEXT, v INT, ts TIMESTAMP) WITH (key = 'k', timestamp = 'ts');
CREATE STREAM b (k TEXT, w INT, ts TIMESTAMP) WITH (key = 'k', timestamp = 'ts');
CREATE STREAM c (x TEXT, k TEXT, w INT, ts TIMESTAMP) WITH (key = 'x', timestamp = 'ts');
CREATE STREAM bb AS SELECT k, w, ts FROM b;
CREATE STREAM j AS SELECT a.k, a.v, bb.w FROM a JOIN bb ON a.k = bb.k AND bb.ts BETWEEN a.ts AND a.ts + INTERVAL '1' MINUTE;
INSERT INTO bb SELECT k, w, ts FROM c;

-- error: join_half_bounded.sql:4:63: this join's time bound has no upper end (b.ts <= c.ts + INTERVAL ...): without it a record would be kept forever
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM j AS SELECT c.page FROM clicks c JOIN buys b ON c.user = b.user AND b.ts >= c.ts;

-- error: join_ambiguous.sql:4:27: column user is ambiguous: both clicks and buys have it; write c.user or b.user
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM j AS SELECT user, page FROM clicks c JOIN buys b
  ON c.user = b.user AND b.ts BETWEEN c.ts AND c.ts + INTERVAL '10' MINUTE;

-- error: join_unbounded.sql:4:73: a stream-stream join needs a time bound in ON: without one a record could meet any later record of the other stream, so both streams would be kept forever; bound it: b.ts BETWEEN c.ts - INTERVAL '5' MINUTE AND c.ts + INTERVAL '5' MINUTE
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM j AS SELECT c.page, b.amount FROM clicks c JOIN buys b ON c.user = b.user;

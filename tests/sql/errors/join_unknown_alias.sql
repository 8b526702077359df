-- error: join_unknown_alias.sql:4:27: x in x.page names no stream of this query (it reads clicks AS c, buys AS b)
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM j AS SELECT x.page FROM clicks c JOIN buys b
  ON c.user = b.user AND b.ts BETWEEN c.ts AND c.ts + INTERVAL '10' MINUTE;

-- error: sink_option_check.sql:3:60: sink ch: option table of connector 'clickhouse': a table name cannot hold a backquote (its options: table, url, create, user, password, database, ca_file)
CREATE STREAM events (id INT, kind TEXT);
CREATE SINK ch FROM events WITH (connector = 'clickhouse', table = 'a`b');

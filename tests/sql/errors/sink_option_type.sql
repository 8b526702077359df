-- error: sink_option_type.sql:4:48: sink ch: option create of connector 'clickhouse' must be true or false (its options: table, url, create, user, password, database, ca_file)
CREATE STREAM events (id INT, kind TEXT);
CREATE SINK ch FROM events
  WITH (connector = 'clickhouse', table = 'e', create = 'yes');

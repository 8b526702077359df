-- error: source_unknown_connector.sql:2:37: stream events: unknown source connector clickhouse (known: file, kafka)
CREATE STREAM events (id INT) WITH (connector = 'clickhouse');

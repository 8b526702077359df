-- error: sink_unknown_connector.sql:3:33: sink x: unknown connector carrier-pigeon (known: file, kafka, clickhouse)
CREATE STREAM events (id INT, kind TEXT);
CREATE SINK x FROM events WITH (connector = 'carrier-pigeon');

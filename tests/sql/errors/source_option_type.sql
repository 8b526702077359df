-- error: source_option_type.sql:2:74: stream events: option topic of connector 'kafka' must be a string in quotes (its options: topic, brokers, properties.*; the stream's own: partitions, key, timestamp, format, retention, retention_bytes, cleanup_policy, schema, on_invalid)
CREATE STREAM events (id INT) WITH (partitions = 2, connector = 'kafka', topic = 7);

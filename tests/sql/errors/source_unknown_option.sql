-- error: source_unknown_option.sql:2:58: stream events: connector 'kafka' has no option topics (its options: topic, brokers, properties.*; the stream's own: partitions, key, timestamp, format, retention, retention_bytes, cleanup_policy, schema, on_invalid)
CREATE STREAM events (id INT) WITH (connector = 'kafka', topics = 'events');

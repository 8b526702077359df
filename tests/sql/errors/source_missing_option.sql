-- error: source_missing_option.sql:2:1: stream events: connector 'file' needs option path (its options: path; the stream's own: partitions, key, timestamp, format, retention, retention_bytes, cleanup_policy, schema, on_invalid)
CREATE STREAM events (id INT) WITH (connector = 'file');

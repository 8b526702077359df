-- error: unknown_option.sql:2:32: unknown option partitons (known here: partitions, key, timestamp, format, retention, retention_bytes, cleanup_policy, schema, on_invalid, connector)
CREATE STREAM s (a TEXT) WITH (partitons = 4);

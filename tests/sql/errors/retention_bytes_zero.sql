-- error: retention_bytes_zero.sql:2:32: retention_bytes must be a whole number of bytes (kept per partition, about), at least 1
CREATE STREAM s (a TEXT) WITH (retention_bytes = 0);

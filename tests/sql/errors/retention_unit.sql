-- error: retention_unit.sql:2:32: retention: '7 fortnights' has an unknown unit 'fortnights': it must be a duration such as '7 days', '1 hour', '30 minutes', '90 s', a number of milliseconds, or 'forever' (or -1) to keep everything
CREATE STREAM s (a TEXT) WITH (retention = '7 fortnights');

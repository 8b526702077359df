-- error: check_not_bool.sql:2:33: CHECK must be a condition (BOOL), not INT
CREATE STREAM s (n INT CHECK (n + 1));

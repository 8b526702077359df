-- error: check_aggregate.sql:2:31: aggregates are not allowed in CHECK
CREATE STREAM s (n INT CHECK (count(*) > 1));

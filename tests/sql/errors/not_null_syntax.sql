-- error: not_null_syntax.sql:2:28: expected NULL after NOT in a column's constraints, found '5'
CREATE STREAM s (n INT NOT 5);

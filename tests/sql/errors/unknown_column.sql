-- error: unknown_column.sql:3:29: unknown column colour in cars (it has: id, color)
CREATE STREAM cars (id TEXT, color TEXT);
CREATE STREAM red AS SELECT colour FROM cars;

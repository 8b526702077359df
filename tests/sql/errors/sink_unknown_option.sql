-- error: sink_unknown_option.sql:3:55: sink out: connector 'file' has no option paht (its options: path)
CREATE STREAM events (id INT, kind TEXT);
CREATE SINK out FROM events WITH (connector = 'file', paht = 'out.ndjson');

-- error: sink_missing_option.sql:3:1: sink k: connector 'kafka' needs option topic (its options: topic, brokers, properties.*)
CREATE STREAM events (id INT, kind TEXT);
CREATE SINK k FROM events WITH (connector = 'kafka', brokers = 'localhost:9092');

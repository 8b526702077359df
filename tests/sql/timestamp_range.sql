-- Event times outside the years 0000 to 9999 (an epoch number of 1e300
-- once wrapped to year -292275055) send the record to the dead letters
-- with a reason naming the value; a CAST to such a time is a conversion
-- error, which dead-letters the record too.
CREATE STREAM s (id TEXT, ts TIMESTAMP, raw DOUBLE) WITH (timestamp = 'ts');
CREATE STREAM out AS SELECT id, ts, CAST(raw AS TIMESTAMP) AS t2 FROM s;

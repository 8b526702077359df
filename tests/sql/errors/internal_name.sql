-- error: internal_name.sql:3:1: '__weir_mine' cannot name a stream: names starting with __ are weir's internal streams (such as __weir_producers)
CREATE STREAM s (a TEXT);
CREATE STREAM __weir_mine AS SELECT a FROM s;

-- error: unknown_function.sql:3:27: unknown function frobnicate (functions: lower, upper, length, trim, concat, substr, replace, split_part, coalesce, abs, floor, ceil, round, murmur2, xxhash64, partition_of, epoch_ms, ip_class, date_trunc, json_value, json_query, json_exists; aggregates: count, count_if, sum, min, max, avg, approx_count_distinct, topk, latest_by_offset, earliest_by_offset)
CREATE STREAM s (a TEXT);
CREATE STREAM t AS SELECT frobnicate(a) AS f FROM s;

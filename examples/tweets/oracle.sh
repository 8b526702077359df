#!/usr/bin/env bash
# oracle.sh - computes examples/tweets/expected/ from data/tweets.ndjson with
# ClickHouse (Debian's clickhouse-server, started in a temporary directory),
# independently of weir: HOP windows as every minute start a record's minute
# and the 4 (or 59) before it, uniqExact for the users, and the top cities
# ordered by count, then name. The golden test compares weir replay with
# these files. Run it again only when the data or the questions change:
#
#   build/weir gen tweets --seed 42 -n 100000 --step-ms 108 > examples/tweets/data/tweets.ndjson
#   examples/tweets/oracle.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../tests/lib.sh"
start_clickhouse "$SCRATCH/ch"
trap 'stop_clickhouse; rm -rf "$SCRATCH"' EXIT
ch "CREATE TABLE raw (line String) ENGINE = Memory"
curl -sf "$CH_URL/?query=INSERT%20INTO%20raw%20FORMAT%20TabSeparated" --data-binary @"$here/data/tweets.ndjson"
ch "CREATE TABLE tweets ENGINE = Memory AS
    SELECT visitParamExtractString(line, 'city') AS city, visitParamExtractString(line, 'user_id') AS user_id,
           visitParamExtractBool(line, 'is_retweet') AS is_retweet,
           toStartOfMinute(parseDateTimeBestEffort(visitParamExtractString(line, 'created_at'))) AS minute
    FROM raw"
iso='concat(replaceOne(toString(%s, '"'UTC'"'), '"' '"', '"'T'"'), '"'Z'"')'
# shellcheck disable=SC2059
ch "SELECT concat('{\"city\":\"', city, '\",\"window_start\":\"', $(printf "$iso" ws), '\",\"window_end\":\"',
                  $(printf "$iso" 'ws + 300'), '\",\"tweets\":', toString(count()), ',\"retweets\":', toString(sum(is_retweet)),
                  ',\"users\":', toString(uniqExact(user_id)), '}')
    FROM tweets ARRAY JOIN range(5) AS k
    GROUP BY city, minute - k * 60 AS ws ORDER BY ws, city FORMAT TSVRaw" > "$here/expected/city_stats.ndjson"
# shellcheck disable=SC2059
ch "SELECT concat('{\"window_start\":\"', $(printf "$iso" ws), '\",\"window_end\":\"', $(printf "$iso" 'ws + 3600'),
                  '\",\"top\":[', arrayStringConcat(arrayMap(x -> concat('{\"value\":\"', tupleElement(x, 1), '\",\"count\":',
                                                                        toString(tupleElement(x, 2)), '}'),
                                                     arraySlice(groupArray((city, n)), 1, 5)), ','), ']}')
    FROM (SELECT minute - k * 60 AS ws, city, count() AS n FROM tweets ARRAY JOIN range(60) AS k
          GROUP BY ws, city ORDER BY ws, n DESC, city)
    GROUP BY ws ORDER BY ws
    SETTINGS max_threads = 1 FORMAT TSVRaw" > "$here/expected/top_cities.ndjson"
wc -l "$here"/expected/*.ndjson

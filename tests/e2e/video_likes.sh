#!/usr/bin/env bash
# video_likes.sh - examples/video-likes end to end: likes posted to the
# route POST /videos/{id}/likes at chosen times give exactly the expected
# running counts per video and window in the streams video_aggregations_1,
# _5 and _10 (counted independently here); the same run with --kafka on the
# mock cluster, the topics read back with kcat.
. "$(dirname "$0")/../lib.sh"
plan 10
pipeline="$(dirname "$0")/../../examples/video-likes/pipeline.sql"

# the likes, in time order: "video seconds-after-10:00" - window edges, and a steady spread over 23 minutes
{
    printf '%s\n' "v1 5" "v1 59" "v2 30" "v1 60" "v3 299" "v1 300" "v2 301" "v2 599" "v3 600" "v1 750" "v1 1199" "v2 1200"
    for i in $(seq 0 59); do echo "v$((i % 4 + 1)) $((i * 23))"; done
} | sort -s -k2,2n > "$SCRATCH/likes"
iso() { printf '2026-11-23T%02d:%02d:%02dZ' $((10 + $1 / 3600)) $(($1 % 3600 / 60)) $(($1 % 60)); }
# expected: "minutes video window_start likes" for each window size
awk '{ for (i = 1; i <= 3; i++) { m = (i == 1 ? 1 : i == 2 ? 5 : 10); w = int($2 / (m * 60)) * m * 60;
         n[m " " $1 " " w]++ } }
     END { for (k in n) { split(k, f, " "); printf "%s %s 2026-11-23T%02d:%02d:%02dZ %d\n", f[1], f[2],
                                                     10 + int(f[3] / 3600), int(f[3] % 3600 / 60), f[3] % 60, n[k] } }' \
    "$SCRATCH/likes" | sort > "$SCRATCH/expected"

post_likes() { # post_likes URL: every like of the list, one request each; prints how many were accepted
    local video t accepted=0
    while read -r video t; do
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$1/videos/$video/likes?ts=$(iso "$t")" -d '{"user_id":"u1"}')
        [ "$code" = 200 ] && accepted=$((accepted + 1))
    done < "$SCRATCH/likes"
    echo "$accepted"
}
# final rows of a stream's (or topic's) JSON lines: "minutes video window_start likes"
final_counts() { # final_counts MINUTES < rows
    sed -n 's/.*"video_id":"\([^"]*\)","window_start":"\([^"]*\)","window_end":"[^"]*","likes":\([0-9]*\).*/\1 \2 \3/p' |
        awk -v m="$1" '{ last[$1 " " $2] = $3 } END { for (k in last) print m, k, last[k] }'
}
local_counts() {
    local m
    for m in 1 5 10; do $WEIR consume "video_aggregations_$m" --from-beginning --exit | final_counts $m; done | sort
}
kafka_counts() {
    local m
    for m in 1 5 10; do kcat -b "$B" -t "video_aggregations_$m" -C -e -q 2>/dev/null | final_counts $m; done | sort
}
wait_equal() { local i; for i in $(seq 40); do [ "$($1)" = "$(cat "$SCRATCH/expected")" ] && return 0; sleep 0.2; done; return 1; }

start_serve -f "$pipeline" --checkpoint-ms 100
[ "$(post_likes "$URL")" = "$(wc -l < "$SCRATCH/likes")" ]; ok $? "every like posted to /videos/{id}/likes is accepted"
wait_equal local_counts
ok $? "video_aggregations_1, _5 and _10 hold exactly the expected count per video and window ($(wc -l < "$SCRATCH/expected") windows)"
rows=$(curl -s "$URL/v1/tables/video_aggregations_5?key=v1" | grep -o '"likes":[0-9]*' | wc -l)
[ "$rows" = "$(grep -c '^5 v1 ' "$SCRATCH/expected")" ]; ok $? "a pull query gives v1's 5-minute windows ($rows)"
top=$(curl -s "$URL/v1/query" -d "{\"sql\":\"SELECT top FROM top_videos WHERE window_start = TIMESTAMP '2026-11-23T10:00:00Z'\"}")
first=$(awk '$1 == 1 && $3 == "2026-11-23T10:00:00Z" { print $4, $2 }' "$SCRATCH/expected" | sort -rn | head -1)
echo "$top" | grep -q "\"top\":\[{\"value\":\"${first#* }\",\"count\":${first% *}}"
ok $? "top_videos ranks the minute's videos (${first#* } first with ${first% *})"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/videos/v9/likes?stars=5")
[ "$code" = 400 ]; ok $? "a query argument that is not a column of likes is refused (400)"
curl -s -o /dev/null -X POST "$URL/videos/v1/likes?ts=$(iso 10)"
wait_for_dlq() { local i; for i in $(seq 600); do $WEIR consume likes.dlq --from-beginning --exit | grep -q "$1" && return 0; sleep 0.1; done; return 1; }
wait_for_dlq '"reason":"too late'; ok $? "a like for a window that has closed goes to likes.dlq, not into the counts"
[ "$(local_counts)" = "$(cat "$SCRATCH/expected")" ]; ok $? "which stay as they were"
stop_serve

start_kafka_mock likes:4 video_aggregations_1:4 video_aggregations_5:4 \
    video_aggregations_10:4 top_videos:4
start_serve -f "$pipeline" --data "$SCRATCH/kafka" --kafka "$B" --checkpoint-ms 100
[ "$(post_likes "$URL")" = "$(wc -l < "$SCRATCH/likes")" ]; ok $? "with --kafka every like is accepted too"
wait_equal kafka_counts
ok $? "the topics video_aggregations_1, _5 and _10, read with kcat, hold the same counts"
[ "$(kcat -b "$B" -t likes -C -e -q 2>/dev/null | wc -l)" = "$(wc -l < "$SCRATCH/likes")" ]
ok $? "and topic likes has every like once"
stop_serve
kill $mock; wait $mock 2>/dev/null
finish

#!/usr/bin/env bash
# user_logins.sh - examples/user-logins end to end: 3000 generated logins
# (about 5% malformed, of five kinds) through weir serve; the processed
# stream and the dead letters together hold every input record once, each
# planted bad record is refused for its own flaw (classified independently
# here), and the per-minute tables count exactly the good records.
. "$(dirname "$0")/../lib.sh"
plan 7
pipeline="$(dirname "$0")/../../examples/user-logins/pipeline.sql"
$WEIR gen logins -n 3000 --seed 7 --step-ms 100 > "$SCRATCH/in.ndjson"

# the flaw of each bad record, found without weir: "device_id column"
awk '{
    match($0, /"device_id":"[^"]*"/); dev = substr($0, RSTART + 13, RLENGTH - 14)
    match($0, /"ip":"[^"]*"/); ip = substr($0, RSTART + 6, RLENGTH - 7)
    match($0, /"app_version":"[^"]*"/); ver = substr($0, RSTART + 15, RLENGTH - 16)
    n = split(ip, o, "."); good_ip = n == 4
    for (i = 1; i <= n; i++) if (o[i] !~ /^(0|[1-9][0-9]?[0-9]?)$/ || o[i] + 0 > 255) good_ip = 0
    if ($0 !~ /"user_id":/) print dev, "user_id"
    else if (!good_ip) print dev, "ip"
    else if ($0 ~ /"timestamp":"/) print dev, "timestamp"
    else if (ver !~ /^[0-9]+\.[0-9]+\.[0-9]+$/) print dev, "app_version"
    else if ($0 ~ /"locale":""/) print dev, "locale"
}' "$SCRATCH/in.ndjson" | sort > "$SCRATCH/flaws"

$WEIR serve -f "$pipeline" --stdin user-login --once < "$SCRATCH/in.ndjson" 2>"$SCRATCH/serve.err"
ok $? "weir serve --stdin user-login processes the generated logins"
processed=$($WEIR consume processed-user-login --from-beginning --exit | wc -l)
$WEIR consume user-login.dlq --from-beginning --exit > "$SCRATCH/dlq"
[ $((processed + $(wc -l < "$SCRATCH/dlq"))) = 3000 ]
ok $? "processed ($processed) and dead letters ($(wc -l < "$SCRATCH/dlq")) hold the 3000 input records"
kinds=$(cut -d' ' -f2 "$SCRATCH/flaws" | sort -u | tr '\n' ' ')
[ "$kinds" = "app_version ip locale timestamp user_id " ]; ok $? "the input has bad records of all five kinds ($kinds)"
sed 's/.*"reason":"column \([a-z_]*\).*device_id\\":\\"\([^\\]*\)\\".*/\2 \1/' "$SCRATCH/dlq" | sort > "$SCRATCH/refused"
cmp -s "$SCRATCH/flaws" "$SCRATCH/refused"
ok $? "every bad record, and only those, is refused naming its own flawed column ($(wc -l < "$SCRATCH/flaws"))"
grep -q '"reason":"column ip breaks CHECK (ip_class(ip) IS NOT NULL)"' "$SCRATCH/dlq"
ok $? "a dead letter says which rule it broke"

# per device type and minute, counted independently from the good records
grep -v -F -f <(cut -d' ' -f1 "$SCRATCH/flaws") "$SCRATCH/in.ndjson" |
    sed 's/.*"timestamp":\([0-9]*\),"device_type":"\([^"]*\)".*/\2 \1/' |
    awk '{ n[$1 " " int($2 / 60) * 60]++ } END { for (k in n) print k, n[k] }' |
    while read -r device minute n; do echo "$device $(date -u -d "@$minute" +%Y-%m-%dT%H:%M:%SZ) $n"; done | sort > "$SCRATCH/expected"
$WEIR query 'SELECT device_type, window_start, logins FROM logins_by_device' |
    sed 's/.*"device_type":"\([^"]*\)","window_start":"\([^"]*\)","logins":\([0-9]*\).*/\1 \2 \3/' | sort > "$SCRATCH/by_device"
cmp -s "$SCRATCH/expected" "$SCRATCH/by_device"
ok $? "logins_by_device counts the good logins per device type and minute ($(wc -l < "$SCRATCH/by_device") rows)"
total=$($WEIR query 'SELECT logins FROM logins_by_locale' | grep -o '[0-9]*' | awk '{ s += $1 } END { print s }')
[ "$total" = "$processed" ]; ok $? "logins_by_locale counts each of them once ($total)"
finish

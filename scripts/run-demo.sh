#!/usr/bin/env bash
# run-demo.sh WEIR - what `make run` starts: one `weir serve` running the
# example systems of examples/ together (their pipelines in one file), each
# fed by its generator at a modest rate over HTTP (weir gen --post), with
# the dashboard at http://127.0.0.1:8080/ (WEIR_LISTEN=HOST:PORT moves it; a
# taken address is an error). Ctrl-C stops the generators, then serve (which
# checkpoints on the way out).
set -u
weir=${1:?usage: run-demo.sh path/to/weir}
root=$(cd "$(dirname "$0")/.." && pwd)
export WEIR_DATA=${WEIR_DATA:-./weir-data}
listen=${WEIR_LISTEN:-127.0.0.1:8080}
url="http://$listen"
pipeline="$(dirname "$weir")/demo.sql"

examples=(collatz video-likes user-logins sensors tweets)
for e in "${examples[@]}"; do echo "-- examples/$e/pipeline.sql"; cat "$root/examples/$e/pipeline.sql"; echo; done > "$pipeline"

# Something already answering on the address would take the demo's requests
# (curl's 7 is "connection refused": the address is free).
curl -s -o /dev/null --max-time 2 "$url/" 2>/dev/null
if [ $? -ne 7 ]; then
    echo "weir demo: $listen is taken by another program; run it elsewhere, e.g. WEIR_LISTEN=127.0.0.1:8081 make run" >&2
    exit 1
fi
log=$(mktemp "${TMPDIR:-/tmp}/weir-demo-XXXXXX")
"$weir" serve -f "$pipeline" --schemas "$root/examples/sensors/schemas" --listen "$listen" --reset --idle-ms 2000 \
    2> >(tee "$log" >&2) &
serve=$!
pids=()
stop() { # stop [EXIT CODE]
    trap - EXIT INT TERM
    kill "${pids[@]}" 2>/dev/null
    kill -TERM "$serve" 2>/dev/null
    wait 2>/dev/null
    rm -f "$log"
    [ "${1:-0}" = 0 ] && echo "weir demo: stopped; the data stays in $WEIR_DATA ($weir streams lists it)"
    exit "${1:-0}"
}
trap stop EXIT INT TERM
# Ready once this serve says it listens on $listen (not just anything answering there).
for i in $(seq 600); do
    grep -q "listening on http://$listen/" "$log" && break
    kill -0 "$serve" 2>/dev/null || break
    sleep 0.1
done
if ! kill -0 "$serve" 2>/dev/null || ! grep -q "listening on http://$listen/" "$log"; then
    echo "weir demo: weir serve did not start on $listen (its messages are above); WEIR_LISTEN=HOST:PORT moves it" >&2
    stop 1
fi

generate() { # generate NAME RATE URL
    "$weir" gen "$1" --rate "$2" --seed "$RANDOM" --post "$3" 2> >(sed -u "s/^/[gen $1] /" >&2) &
    pids+=($!)
}
generate collatz 200 "$url/v1/streams/conjecture.data"
generate likes 20 "$url/v1/streams/likes"
generate logins 10 "$url/v1/streams/user-login"
generate sensors 20 "$url/v1/streams/{type}"
generate tweets 30 "$url/v1/streams/tweets"

cat <<EOF

weir demo: ${examples[*]} in one weir serve (pipeline: $pipeline, data: $WEIR_DATA)
Dashboard:  $url/

Try:
  curl $url/longest_step_chain
  curl $url/highest_value
  curl $url/part/9232
  curl $url/plot/N > chain.svg          # N: a number, e.g. the one /longest_step_chain names
  curl -X POST $url/videos/v42/likes
  curl '$url/v1/tables/video_aggregations_1?key=v42'
  curl $url/v1/query -d '{"sql":"SELECT window_start, top FROM top_cities ORDER BY window_start DESC LIMIT 1"}'
  curl -X POST $url/v1/streams/hoverboard -d '{"id":"hb-0042","model":"Glide X1","battery":87,"speed_kmh":12.5,"lat":41.82,"lon":-71.41,"ts":"$(date -u +%Y-%m-%dT%H:%M:%SZ)"}'
  curl -X POST $url/v1/streams/hoverboard -d '{"id":"hb-0042","battery":150}'      # refused: 422 with the field and rule
  curl -N $url/v1/streams/user-login.dlq/changes                                   # malformed logins, live
Ctrl-C stops.
EOF
wait "$serve"

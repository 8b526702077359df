#!/usr/bin/env bash
# dashboard_demo.sh - `make run` as a new user sees it: scripts/run-demo.sh
# (the five example systems in one weir serve, fed by their generators) on a
# free port, and headless chromium on its dashboard for 30 s
# (tests/browser/dashboard_demo.mjs): every table and stream shows with
# rows, dead letters arrive, the page keeps answering over one change feed.
# The screenshot is kept in $BUILD/artifacts/demo-dashboard.png.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$here/../web/node_modules/playwright-core" ] || ! command -v chromium >/dev/null; then
    echo "Bail out! the dashboard's npm packages or chromium are missing (make test installs them)"
    exit 1
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WEIR_DATA="$SCRATCH/demo" WEIR_LISTEN="127.0.0.1:$port" "$here/../scripts/run-demo.sh" "$WEIR" >"$SCRATCH/demo.log" 2>&1 &
demo=$!
for i in $(seq $((START_DEADLINE * 10))); do
    grep -q '^Dashboard:' "$SCRATCH/demo.log" && break
    kill -0 "$demo" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '^Dashboard:' "$SCRATCH/demo.log"; then
    complain "the demo did not start within $START_DEADLINE s: $(cat "$SCRATCH/demo.log")"
    echo "Bail out! make run's demo did not start"
    kill -TERM "$demo" 2>/dev/null; wait
    exit 1
fi
mkdir -p "$BUILD/artifacts"
node "$here/browser/dashboard_demo.mjs" "http://127.0.0.1:$port/" "$BUILD/artifacts/demo-dashboard.png"
rc=$?
kill -TERM "$demo" 2>/dev/null
wait "$demo"; stopped=$?
[ $rc -ne 0 ] && complain "the demo's log: $(tail -40 "$SCRATCH/demo.log")"
[ $stopped -eq 0 ] || complain "the demo did not stop cleanly (exit $stopped)"
[ $rc -eq 0 ] && [ $stopped -eq 0 ]

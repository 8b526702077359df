#!/usr/bin/env bash
# dashboard.sh - the browser test: weir serve with a pipeline, records
# ingested over HTTP the whole time, and headless chromium driving the
# dashboard (tests/browser/dashboard.mjs). The screenshot is kept in
# $BUILD/artifacts/dashboard.png.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$here/../web/node_modules/playwright-core" ] || ! command -v chromium >/dev/null; then
    echo "Bail out! the dashboard's npm packages or chromium are missing (make test installs them)"
    exit 1
fi
cat > "$SCRATCH/p.sql" <<SQL
CREATE STREAM clicks (user TEXT, page TEXT, ms INT) WITH (partitions = 2, key = 'user');
CREATE TABLE per_page AS SELECT page, COUNT(*) AS n, SUM(ms) AS total_ms FROM clicks GROUP BY page;
CREATE TABLE per_second AS SELECT page, window_start, window_end, COUNT(*) AS n
  FROM TUMBLE(clicks, INTERVAL '1' SECOND) GROUP BY page;
CREATE STREAM slow AS SELECT user, page, ms / (ms - ms) AS broken FROM clicks WHERE ms > 90;
CREATE SINK archive FROM clicks WITH (connector = 'file', path = '$SCRATCH/archive.ndjson');
SQL
start_serve -f "$SCRATCH/p.sql" || { echo "Bail out! weir serve did not start"; exit 1; }
pages=(home about pricing docs blog)
( while kill -0 "$SERVE_PID" 2>/dev/null; do
      body=""
      for i in $(seq 20); do
          body+="{\"user\":\"u$((RANDOM % 50))\",\"page\":\"${pages[RANDOM % 5]}\",\"ms\":$((RANDOM % 100))}"$'\n'
      done
      curl -s -o /dev/null -X POST --data-binary "$body" "$URL/v1/streams/clicks"
      sleep 0.1
  done ) &
feeder=$!
mkdir -p "$BUILD/artifacts"
node "$here/browser/dashboard.mjs" "$URL/" "$BUILD/artifacts/dashboard.png"
rc=$?
kill $feeder 2>/dev/null
stop_serve
wait 2>/dev/null
exit $rc

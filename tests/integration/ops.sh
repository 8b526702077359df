#!/usr/bin/env bash
# ops.sh - the operations kit: make install (binary, dashboard, man page made
# from --help) into a DESTDIR, the installed binary serving its dashboard,
# the Prometheus rules (promtool check and unit tests), the Grafana
# dashboard, and that every metric they use is one weir serves.
. "$(dirname "$0")/../lib.sh"
plan 10
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
san=0
[ "$(basename "$BUILD")" = build-san ] && san=1
make -s -C "$ROOT" install SANITIZE=$san DESTDIR="$SCRATCH/root" PREFIX=/usr >"$SCRATCH/install.log" 2>&1
ok $? "make install DESTDIR=... PREFIX=/usr succeeds"
I="$SCRATCH/root/usr"
[ -x "$I/bin/weir" ] && [ -f "$I/share/weir/web/index.html" ] && [ -f "$I/share/weir/web/node_modules/uplot/dist/uPlot.iife.min.js" ] &&
    [ -f "$I/share/man/man1/weir.1" ]
ok $? "it installs bin/weir, the dashboard with uPlot, and weir(1)"
"$I/bin/weir" --version | grep -q '^weir [0-9.]* (build .*)$'; ok $? "the installed weir --version names its build: $("$I/bin/weir" --version)"
man -l "$I/share/man/man1/weir.1" 2>/dev/null > "$SCRATCH/man.txt"
missing=$("$WEIR" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p' | while read -r c; do
    grep -q "COMMAND: $(echo "$c" | tr a-z A-Z)" "$SCRATCH/man.txt" || echo "$c"; done)
[ -s "$SCRATCH/man.txt" ] && [ -z "$missing" ] && grep -q -- '--min-free' "$SCRATCH/man.txt"
ok $? "the man page renders and describes every command and option (missing: ${missing:-none})"

cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM events (k TEXT) WITH (partitions = 2, key = 'k');
CREATE TABLE counts AS SELECT k, COUNT(*) AS c FROM events GROUP BY k;
CREATE SINK out FROM counts WITH (connector = 'file', path = 'out.ndjson');
SQL
WEIR="$I/bin/weir" start_serve -f "$SCRATCH/p.sql" --data "$SCRATCH/d" || { echo "Bail out! the installed weir did not start"; exit 1; }
code=$(curl -s -o "$SCRATCH/index" -w '%{http_code}' "$URL/")
[ "$code" = 200 ] && grep -q uPlot "$SCRATCH/index" && [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/node_modules/uplot/dist/uPlot.iife.min.js")" = 200 ]
ok $? "the installed weir serves its dashboard from PREFIX/share/weir/web"
curl -s -d '{"k":"a"}' "$URL/v1/streams/events" >/dev/null
curl -s "$URL/metrics" > "$SCRATCH/metrics"
stop_serve

cd "$ROOT/ops/prometheus" || exit 1
promtool check rules weir-alerts.yml >"$SCRATCH/promtool" 2>&1; ok $? "promtool check rules weir-alerts.yml: $(grep -o "SUCCESS.*" "$SCRATCH/promtool")"
promtool test rules weir-alerts.test.yml >"$SCRATCH/promtool" 2>&1; ok $? "promtool test rules: every alert fires on its case"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"] and all(p["targets"] for p in d["panels"])' \
    "$ROOT/ops/grafana/weir-dashboard.json"
ok $? "the Grafana dashboard is JSON with panels that all query something"
used=$(cat "$ROOT/ops/grafana/weir-dashboard.json" "$ROOT/ops/prometheus/weir-alerts.yml" | grep -o 'weir_[a-z_]*' | sed 's/_bucket$//' | sort -u)
served=$(sed -n 's/^# TYPE \(weir_[a-z_]*\) .*/\1/p' "$SCRATCH/metrics" | sort -u)
unknown=$(comm -23 <(echo "$used") <(echo "$served"))
[ -n "$used" ] && [ -z "$unknown" ]; ok $? "every metric the rules and the dashboard use is served by weir (unknown: ${unknown:-none})"
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$SCRATCH/unit" "$SCRATCH/man/man1"
    cp "$I/share/man/man1/weir.1" "$SCRATCH/man/man1/"
    sed "s|/usr/local/bin/weir|$I/bin/weir|" "$ROOT/ops/systemd/weir.service" > "$SCRATCH/unit/weir.service"
    MANPATH="$SCRATCH/man" systemd-analyze verify "$SCRATCH/unit/weir.service" >"$SCRATCH/verify" 2>&1
    ok $? "systemd-analyze verify accepts the unit: $(cat "$SCRATCH/verify")"
else
    ok 0 "# SKIP systemd-analyze is not installed"
fi
finish

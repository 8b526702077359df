# clickhouse_server.sh - sourced by tests/lib.sh and by benchmarks (bench/peers.sh):
# a clickhouse-server of its own for a test or a run, on free loopback
# ports, started, waited for and stopped by its PID.
: "${START_DEADLINE:=60}"
# ClickHouse 18.16 starts slowly on a loaded 2-core machine (a sanitized test run beside it): its own,
# longer deadline, as the Kafka broker has.
CH_START_DEADLINE=${WEIR_CH_START_DEADLINE:-180}

# start_clickhouse DIR: Debian's clickhouse-server with its data, logs and
# ports (free ones, picked here) under DIR; waits for /ping (up to
# $CH_START_DEADLINE s). Sets CH_URL and
# CH_PID. Calling it again with the same DIR restarts on the same data.
start_clickhouse() {
    local dir=$1 port i
    mkdir -p "$dir"
    if [ ! -f "$dir/config.xml" ]; then
        port=$((20000 + RANDOM % 20000))
        while ss -ltn 2>/dev/null | grep -q ":$port \|:$((port + 1)) "; do port=$((20000 + RANDOM % 20000)); done
        cp /etc/clickhouse-server/users.xml "$dir/users.xml"
        cat > "$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/server.log</log><errorlog>$dir/err.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>$port</http_port>
  <tcp_port>$((port + 1))</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>104857600</mark_cache_size>
  <timezone>UTC</timezone>
</yandex>
XML
    fi
    port=$(sed -n 's|.*<http_port>\([0-9]*\)</http_port>.*|\1|p' "$dir/config.xml")
    CH_URL="http://127.0.0.1:$port"
    # a server started again on the same directory may exit at once while the last one's port or
    # status file is not yet free: it is started again, until the deadline
    clickhouse-server --config-file="$dir/config.xml" >"$dir/stdout" 2>&1 &
    CH_PID=$!
    for i in $(seq $((CH_START_DEADLINE * 20))); do
        [ "$(curl -s "$CH_URL/ping" 2>/dev/null)" = "Ok." ] && return 0
        if ! kill -0 "$CH_PID" 2>/dev/null && [ $((i % 10)) = 0 ]; then
            clickhouse-server --config-file="$dir/config.xml" >"$dir/stdout" 2>&1 &
            CH_PID=$!
        fi
        sleep 0.05
    done
    local why
    why="clickhouse-server did not start within $CH_START_DEADLINE s; its logs: $(tail -20 "$dir/err.log" "$dir/stdout" 2>/dev/null)"
    if declare -F complain >/dev/null; then complain "$why"; else echo "$why" >&2; fi
    return 1
}
stop_clickhouse() { # SIGTERM, and SIGKILL if it takes more than 3 s (18.16 can take 10)
    kill -TERM "$CH_PID" 2>/dev/null
    local i
    for i in $(seq 60); do kill -0 "$CH_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$CH_PID" 2>/dev/null || true # gone already: SIGTERM was enough (callers run under set -e)
    wait "$CH_PID" 2>/dev/null || true
    return 0 # it is stopped, whichever signal did it
}
ch() { curl -s "$CH_URL/" --data-binary "$1"; } # ch SQL: a query's answer

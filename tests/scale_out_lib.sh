# scale_out_lib.sh - sourced by the scale-out tests that run several
# `weir serve --scale-out` processes of group g on the mock cluster at $B,
# reading $SCRATCH/p.sql: INPUTS names the input streams; SERVE_IDLE_MS
# the processes' --idle-ms; SERVE_ARGS (optional) more serve options.
metrics() { curl -s -m 30 "$1/metrics"; }
owned() { metrics "$1" | awk -v m="weir_partitions_owned{stream=\"$2\"}" '$1 == m { n = $2 } END { print n + 0 }'; }
# delivered URL: every input partition the process holds is read to its end and every sink has delivered its rows
delivered() {
    local m s; m=$(metrics "$1") || return 1
    [ -n "$m" ] || return 1
    for s in $INPUTS; do
        [ "$(echo "$m" | grep -c "^weir_pipeline_lag_records{stream=\"$s\",partition=\"[0-9]*\"} 0$")" = \
          "$(echo "$m" | awk -v m="weir_partitions_owned{stream=\"$s\"}" '$1 == m { print $2 }')" ] || return 1
    done
    ! echo "$m" | grep '^weir_sink_lag_records{' | grep -qv ' 0$'
}
# caught_up URL...: delivered, and still so after a checkpoint (sinks deliver what checkpoints cover, the task
# states wait for that delivery, and a process's repartition records reach the others through their topic)
caught_up() { local u; for u; do delivered "$u" || return 1; done; sleep 1; for u; do delivered "$u" || return 1; done; }
wait_for() { local i; for i in $(seq "$1"); do eval "$2" && return 0; sleep 0.1; done; return 1; }
serve() { # serve NAME: one process of the group, its URL in U_NAME
    $WEIR serve -f "$SCRATCH/p.sql" --data "$SCRATCH/$1" --kafka "$B" --kafka-group g --scale-out --idle-ms "$SERVE_IDLE_MS" \
        --checkpoint-ms 200 --listen 127.0.0.1:0 ${SERVE_ARGS:-} 2>"$SCRATCH/$1.err" &
    eval "PID_$1=$!"
    wait_for 300 "grep -q listening '$SCRATCH/$1.err'" || diag "$1 did not start: $(cat "$SCRATCH/$1.err")"
    eval "U_$1=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$SCRATCH/$1.err")"
}

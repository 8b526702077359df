# checkpoint_durations.awk - the duration in ms of each checkpoint, in
# order, from `strace -f -ttt -e trace=clone3,rename` of weir serve: from
# the clone3 that starts a checkpoint's thread to that thread's rename of
# pipeline/stable. Used by bench/state.sh and bench/state_restart.sh.
# A clone3 interrupted by another thread's traced call is two lines:
# "clone3(... <unfinished ...>" at its start, "<... clone3 resumed> ... =
# TID" at its end; the start is the first's time.
/clone3\(.*<unfinished/ { pending[$1] = $2 }
/clone3/ && $(NF - 1) == "=" && $NF ~ /^[0-9]+$/ { start[$NF] = /resumed/ && ($1 in pending) ? pending[$1] : $2 }
/rename\(.*pipeline\/stable/ && ($1 in start) { printf "%.3f\n", ($2 - start[$1]) * 1000 }

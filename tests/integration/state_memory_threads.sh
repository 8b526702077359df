#!/usr/bin/env bash
# state_memory_threads.sh - state_memory.sh with --threads 4: the groups of
# the partitions' engines (serve --threads, exec/workers.c) are in the state
# store as the runner engine's are, so under a bound of 1 MiB they leave
# memory and come back from the store, and every answer and output equals
# the unbounded run's.
WEIR_STATE_MEMORY_THREADS=4 exec bash "$(dirname "$0")/state_memory.sh"

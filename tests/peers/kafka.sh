#!/usr/bin/env bash
# kafka.sh fetch|dir - the jars of a real Apache Kafka broker for the tests
# (tests/lib.sh start_kafka_broker), from Maven Central as tests/peers/pom.xml
# names them, fetched once into a cache directory that outlives `make clean`:
# $WEIR_PEERS_CACHE (default ~/.cache/weir-peers)/kafka-<hash of pom.xml>, so
# a changed pom fetches again beside the old one.
#   fetch  copies the jars there with Maven unless present; prints nothing
#          when they are, and only Maven's errors when it fails (exit 1)
#   dir    prints that directory (the java class path is DIR/*)
# Concurrent fetches (prove -j2) wait on a lock and fetch once; a fetch that
# dies leaves no half directory (it fills a temporary one and renames it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pom=$here/pom.xml
cache=${WEIR_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/weir-peers}
dir=$cache/kafka-$(sha256sum "$pom" | cut -c1-12)

fetch() {
    [ -f "$dir/.complete" ] && return 0
    command -v mvn >/dev/null || { echo "kafka.sh: mvn is missing (scripts/deps.sh test installs maven)" >&2; return 1; }
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock 9
    [ -f "$dir/.complete" ] && return 0 # another fetch finished while this one waited
    local tmp=$dir.tmp.$$
    rm -rf "$tmp"
    # -q: Maven says nothing unless it fails; -B: no progress bars, no colours.
    if ! mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$cache/fetch.log" 2>&1; then
        echo "kafka.sh: fetching Apache Kafka with Maven failed:" >&2
        tail -30 "$cache/fetch.log" >&2
        rm -rf "$tmp"
        return 1
    fi
    touch "$tmp/.complete"
    rm -rf "$dir"
    mv "$tmp" "$dir"
}

case "${1:-}" in
    fetch) fetch ;;
    dir) echo "$dir" ;;
    *) echo "usage: tests/peers/kafka.sh fetch|dir" >&2; exit 2 ;;
esac

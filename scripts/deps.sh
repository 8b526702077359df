#!/usr/bin/env bash
# deps.sh [test] [fuzz] [bench] - installs the Debian packages weir's build and
# tests need, and nothing when everything is there (then it prints nothing).
# Groups: base (always: compiler, pkg-config, prove, librdkafka,
# libmicrohttpd with libgnutls28-dev to check HTTPS certificates, libcurl,
# libpcre2 for schema patterns, liblmdb for the state store (src/state/store.c), zlib, snappy, lz4 and zstd
# for the compressed record batches Kafka clients produce (src/kafka/compress.c),
# curl, and Node.js
# with npm for the dashboard's libraries), test (chromium for the browser test, prometheus for promtool,
# kcat and clickhouse-server as the real peers, python3 for the tests' raw
# sockets and JSON checks, python3-kafka and python3-confluent-kafka as
# outside Kafka clients, a JDK and Maven for the real Apache Kafka
# broker and the Java client (tests/peers/kafka.sh fetches their jars), man-db to render the man page), fuzz (clang with
# libFuzzer), bench (wrk, python3 for bench/paced.py, and what else the benchmarks compare against:
# librocksdb-dev for bench/statestore.sh, which weighs it against LMDB; a JDK 17
# and Maven for bench/peers.sh's Flink and Kafka Streams programs, whose libraries
# Maven fetches from Maven Central into ~/.m2; clickhouse-server for its peers too;
# strace for the checkpoints' durations bench/state.sh and bench/state_restart.sh read).
set -eu
packages=(build-essential pkg-config perl librdkafka-dev libxxhash-dev libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev libpcre2-dev liblmdb-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev curl)
for group in "$@"; do
    case "$group" in
        test)
            packages+=(chromium prometheus kcat clickhouse-server python3 python3-kafka python3-confluent-kafka man-db openssl)
            # Java 17 (Kafka 4 needs it) and Maven may come from elsewhere than Debian: ask for them by command.
            # A JDK, not a JRE: kafka_java.sh runs tests/peers/KafkaClientCheck.java with java's
            # source launcher, which needs the compiler (jdk.compiler).
            command -v javac >/dev/null || packages+=(default-jdk-headless)
            command -v mvn >/dev/null || packages+=(maven)
            ;;
        fuzz) packages+=(clang libclang-rt-14-dev) ;;
        bench) packages+=(coreutils wrk python3 clickhouse-server librocksdb-dev openjdk-17-jdk-headless maven time strace) ;;
        *) echo "deps.sh: unknown group '$group'" >&2; exit 2 ;;
    esac
done
# Node.js may come from elsewhere than Debian (nodesource): ask for it by command.
command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "deps.sh: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

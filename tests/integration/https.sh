#!/usr/bin/env bash
# https.sh - weir serve --tls-cert/--tls-key serves its API over HTTPS
# (libmicrohttpd with GnuTLS): a client trusting the certificate gets
# answers, plain HTTP to the port gets none, weir produce to the running
# server trusts the certificate serve names in DATA/serve.url, and a
# missing, unreadable or mismatched file is an error at start naming it.
. "$(dirname "$0")/../lib.sh"
plan 9
command -v openssl >/dev/null || { echo "Bail out! needs openssl (scripts/deps.sh test)"; exit 1; }
cert() { # cert NAME: a self-signed certificate for 127.0.0.1, NAME.pem and NAME.key
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$SCRATCH/$1.key" -out "$SCRATCH/$1.pem" 2>/dev/null
}
cert server && cert other || { echo "Bail out! openssl could not make a certificate"; exit 1; }
cat > "$SCRATCH/p.sql" <<'SQL'
CREATE STREAM events (k TEXT, n INT) WITH (partitions = 2, key = 'k');
CREATE TABLE counts AS SELECT k, COUNT(*) AS c FROM events GROUP BY k;
SQL
start_serve -f "$SCRATCH/p.sql" --data "$SCRATCH/d" --tls-cert "$SCRATCH/server.pem" --tls-key "$SCRATCH/server.key" ||
    { echo "Bail out! weir serve did not start"; exit 1; }
[[ "$URL" == https://127.0.0.1:* ]]; ok $? "serve says it listens on an https URL ($URL)"
curl -s --cacert "$SCRATCH/server.pem" "$URL/healthz" | grep -q '"status":"ok"'; ok $? "a client trusting the certificate gets /healthz"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SCRATCH/server.pem" -X POST "$URL/v1/streams/events" \
    --data-binary $'{"k":"a","n":1}\n{"k":"b","n":2}')
[ "$STATUS" = 200 ]; ok $? "ingest over HTTPS is acknowledged ($STATUS)"
! curl -s -m 10 -o /dev/null "http://${URL#https://}/healthz"; ok $? "plain HTTP to the port gets no answer"
a=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SCRATCH/server.pem" -X POST -H "Origin: $URL" "$URL/v1/streams/events" -d '{"k":"x","n":0}')
b=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SCRATCH/server.pem" -X POST -H "Origin: http://${URL#https://}" "$URL/v1/streams/events" -d '{"k":"x","n":0}')
[ "$a" = 200 ] && [ "$b" = 403 ]; ok $? "weir's own pages are its https origin: $a from it, $b from the http one"
! curl -s -m 10 -o /dev/null --cacert "$SCRATCH/other.pem" "$URL/healthz"; ok $? "a client trusting another certificate refuses the server"
printf '{"k":"a","n":3}\n{"k":"c","n":4}\n' | $WEIR produce events --data "$SCRATCH/d" 2>"$SCRATCH/err"
total() { curl -s --cacert "$SCRATCH/server.pem" "$URL/v1/query" -d '{"sql":"SELECT c FROM counts"}' | grep -o '"c":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }'; }
for i in $(seq 600); do [ "$(total)" = 5 ] && break; sleep 0.1; done
[ "$(total)" = 5 ] && grep -q "served by weir serve at $URL" "$SCRATCH/err"
ok $? "weir produce reaches the running server over HTTPS, trusting the certificate it names ($(total); $(cat "$SCRATCH/err"))"
stop_serve
refused_at_start() { # refused_at_start PATTERN NAME CERT KEY: serve stops (within 60 s) with that error
    $WEIR serve -f "$SCRATCH/p.sql" --data "$SCRATCH/d2" --listen 127.0.0.1:0 --tls-cert "$3" --tls-key "$4" \
        2>"$SCRATCH/err" & local pid=$! i
    for i in $(seq 600); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    ! kill -0 $pid 2>/dev/null && grep -q -- "$1" "$SCRATCH/err"
    ok $? "$2: $(cat "$SCRATCH/err")"
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
}
refused_at_start "--tls-cert $SCRATCH/server.pem and --tls-key $SCRATCH/other.key: .*not match" \
    "a key that is not the certificate's stops serve naming both files" "$SCRATCH/server.pem" "$SCRATCH/other.key"
refused_at_start "--tls-cert: .*missing.pem" "a certificate file that cannot be read stops serve naming it" \
    "$SCRATCH/missing.pem" "$SCRATCH/server.key"
finish

#!/usr/bin/env bash
# topn.sh - ORDER BY col LIMIT k over a table answered from the state
# store's ordered index (docs/STATE_STORE.md, "Top-N from an ordered
# index") equals the sorting path's answer: endpoints (whose indexes are
# made at start) and ad-hoc pull queries (whose index the next checkpoint
# makes) against the same query with a WHERE that keeps every row (which
# no index answers), and against a model of the table, on random rows with
# many ties, updated and deleted (DELETE /v1/tables/t?key=K: tombstones)
# round after round; after a restart, after kill -9 and in `weir query`
# beside the server.
. "$(dirname "$0")/../lib.sh"
plan 9
export WEIR_DATA="$SCRATCH/data"

cat > "$SCRATCH/p.sql" <<'SQL'
CREATE TABLE scores (id UINT PRIMARY KEY, score INT, name TEXT) WITH (partitions = 2);
CREATE ENDPOINT 'GET /top' AS SELECT id, score FROM scores ORDER BY score DESC, id LIMIT 5;
CREATE ENDPOINT 'GET /bottom' AS SELECT id, score FROM scores ORDER BY score LIMIT 8;
CREATE ENDPOINT 'GET /names' AS SELECT id, name FROM scores ORDER BY name DESC LIMIT 4;
SQL

# The queries compared: each ORDER BY ... LIMIT, by index and by the sorting path.
shapes=("score DESC, id LIMIT 5" "score LIMIT 8" "name DESC LIMIT 4" "score DESC LIMIT 30" "id DESC LIMIT 3"
        "name, id LIMIT 6" "score, name DESC LIMIT 50")
query() { # query SQL: the rows of POST /v1/query
    curl -s -m 60 "$URL/v1/query" -d "$(python3 -c 'import json, sys; print(json.dumps({"sql": sys.argv[1]}))' "$1")" |
        python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin).get("rows")))'
}
# same_as_sorting: every shape's answer by index equals the sorting path's; the
# endpoints equal the ad-hoc queries; /top equals the model's
same_as_sorting() {
    local s a b
    for s in "${shapes[@]}"; do
        a=$(query "SELECT id, score, name FROM scores ORDER BY $s")
        b=$(query "SELECT id, score, name FROM scores WHERE id >= 0 ORDER BY $s")
        [ "$a" = "$b" ] && [ "$a" != null ] || { diag "ORDER BY $s: index $a, sorting $b"; return 1; }
    done
    a=$(curl -s "$URL/top" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))')
    b=$(query "SELECT id, score FROM scores WHERE id >= 0 ORDER BY score DESC, id LIMIT 5")
    [ "$a" = "$b" ] || { diag "/top $a, sorting $b"; return 1; }
    b=$(python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(json.dumps(sorted(rows, key=lambda r: (-r["score"], r["id"]))[:5]))' "$SCRATCH/model")
    [ "$a" = "$(echo "$b" | python3 -c 'import json, sys; print(json.dumps([{"id": r["id"], "score": r["score"]} for r in json.load(sys.stdin)]))')" ] ||
        { diag "/top $a, model $b"; return 1; }
}

# round N: random upserts (new ids and old ones, scores with many ties) and deletes, then waits
# until the table shows them (a sentinel row written last); the model follows
round() {
    python3 - "$1" "$SCRATCH/model" "$SCRATCH/batch" "$SCRATCH/deletes" <<'PY'
import json, random, sys
n, model_path, batch_path, del_path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
random.seed(n)
try:
    model = {r["id"]: r for r in map(json.loads, open(model_path))}
except FileNotFoundError:
    model = {}
batch = []
for _ in range(random.randint(200, 800)):
    i = random.randint(1, 3000)
    r = {"id": i, "score": random.randint(0, 60), "name": "n%03d" % random.randint(0, 200)}
    batch.append(r)
    model[i] = r
dels = random.sample(sorted(model), min(len(model), random.randint(0, 30)))
for i in dels:
    del model[i]
sentinel = {"id": 1000000, "score": -1, "name": "round%d" % n}
model[1000000] = sentinel
open(batch_path, "w").write("".join(json.dumps(r) + "\n" for r in batch))
open(del_path, "w").write("".join("%d\n" % i for i in dels))
open(model_path, "w").write("".join(json.dumps(r) + "\n" for r in model.values()))
print(json.dumps(sentinel))
PY
}
send_round() { # send_round N: the round's rows, deletes and sentinel; waits until the sentinel shows
    local sentinel i
    sentinel=$(round "$1")
    curl -s -o /dev/null "$URL/v1/streams/scores" --data-binary @"$SCRATCH/batch"
    while read -r i; do curl -s -o /dev/null -X DELETE "$URL/v1/tables/scores?key=$i"; done < "$SCRATCH/deletes"
    curl -s -o /dev/null "$URL/v1/streams/scores" --data-binary "$sentinel"
    for i in $(seq 600); do
        [ "$(query "SELECT name FROM scores WHERE id = 1000000")" = "[{\"name\": \"round$1\"}]" ] && return 0
        sleep 0.1
    done
    diag "round $1 did not show"; return 1
}

start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start"; exit 1; }
send_round 1 && same_as_sorting
ok $? "after the first rows (in memory, then checkpointed), every top-N answer equals the sorting path's"
good=0
for n in $(seq 2 9); do
    send_round "$n" && same_as_sorting && good=$((good + 1))
done
[ "$good" = 8 ]; ok $? "8 rounds of updates and deletes: every answer equals the sorting path's and the model's ($good rounds)"
sleep 0.5 # a checkpoint or more with the rows in the store only
same_as_sorting; ok $? "with the rows checkpointed: the same"
stop_serve

start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start"; exit 1; }
same_as_sorting; ok $? "after a restart (the rows and the indexes read from the store): the same"
send_round 10 && same_as_sorting; ok $? "and with rows changed since the restart"

# weir query (read-only, beside the server): the endpoints' index in the store's snapshot
a=$($WEIR query "SELECT id, score FROM scores ORDER BY score DESC, id LIMIT 5" | tr -d ' \n')
b=$($WEIR query "SELECT id, score FROM scores WHERE id >= 0 ORDER BY score DESC, id LIMIT 5" | tr -d ' \n')
[ -n "$a" ] && [ "$a" = "$b" ]; ok $? "weir query beside the server answers by index as by sorting: $a"

send_round 11
sleep 0.$((RANDOM % 3))
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
start_serve -f "$SCRATCH/p.sql" --checkpoint-ms 100 || { echo "Bail out! weir serve did not start"; exit 1; }
same_as_sorting; ok $? "after kill -9 and a restart: the same"
send_round 12 && same_as_sorting; ok $? "and with rows changed since"
stop_serve

a=$($WEIR query "SELECT id, name FROM scores ORDER BY name DESC LIMIT 4" | tr -d ' \n')
b=$($WEIR query "SELECT id, name FROM scores WHERE id >= 0 ORDER BY name DESC LIMIT 4" | tr -d ' \n')
[ -n "$a" ] && [ "$a" = "$b" ]; ok $? "weir query with the server stopped: the same ($a)"
finish

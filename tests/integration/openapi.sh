#!/usr/bin/env bash
# openapi.sh - /openapi.json describes every route with typed parameters
# (an endpoint's by its SQL, a route template's by its stream), query
# parameters, request bodies and error answers; /docs renders it in Swagger
# UI (headless chromium, tests/browser/docs.mjs).
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")/.." && pwd)
plan 8
cat "$here/../examples/collatz/pipeline.sql" "$here/../examples/video-likes/pipeline.sql" > "$SCRATCH/p.sql"
start_serve -f "$SCRATCH/p.sql" || { echo "Bail out! weir serve did not start"; exit 1; }
curl -s "$URL/openapi.json" > "$SCRATCH/api.json"
check() { # check NAME PYTHON: PYTHON sees the document as d and prints "ok" or what is wrong
    local got
    got=$(python3 -c "import json; d = json.load(open('$SCRATCH/api.json'))
$2" 2>&1)
    [ "$got" = ok ]; ok $? "$1$([ "$got" = ok ] || echo ": $got")"
}
check "every {parameter} of every path is declared, in the path, required" '
bad = []
for path, item in d["paths"].items():
    for method, op in item.items():
        names = [p["name"] for p in op["parameters"] if p["in"] == "path" and p["required"]]
        want = [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]
        if sorted(names) != sorted(want): bad.append((method, path))
print("ok" if not bad else bad)'
check "an endpoint's UINT parameter is an integer from 0, with its SQL" '
op = d["paths"]["/part/{x}"]["get"]
print("ok" if op["parameters"][0]["schema"] == {"type": "integer", "minimum": 0} and "value_numbers" in op["description"] else op)'
check "a route template's body and parameters come from its stream's columns" '
op = d["paths"]["/videos/{video_id}/likes"]["post"]
props = op["requestBody"]["content"]["application/json"]["schema"]["properties"]
print("ok" if {"video_id", "user_id", "ts"} <= set(props) and props["ts"]["format"] == "date-time" else props)'
check "query parameters are listed with their types" '
q = {p["name"]: p["schema"]["type"] for p in d["paths"]["/v1/streams/{s}/records"]["get"]["parameters"] if p["in"] == "query"}
print("ok" if q == {"partition": "integer", "offset": "integer", "time": "string", "key": "string", "limit": "integer"} else q)'
check "ingest lists its errors (400, 404, 409, 413, 422, 503) as the Error schema" '
r = d["paths"]["/v1/streams/{s}"]["post"]["responses"]
want = {"200", "400", "404", "409", "413", "422", "503", "default"}
print("ok" if want <= set(r) and r["422"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Error" else sorted(r))'
check "every \$ref resolves" '
def refs(o):
    if isinstance(o, dict):
        yield from ([o["$ref"]] if "$ref" in o else [])
        for v in o.values(): yield from refs(v)
    elif isinstance(o, list):
        for v in o: yield from refs(v)
def resolves(r):
    o = d
    for k in r[2:].split("/"):
        if k not in o: return False
        o = o[k]
    return True
found = set(refs(d))
print("ok" if found and all(resolves(r) for r in found) else found)'
code=$(curl -s -o "$SCRATCH/docs.html" -w '%{http_code}' "$URL/docs")
[ "$code" = 200 ] && grep -q swagger-ui "$SCRATCH/docs.html"; ok $? "GET /docs is the Swagger UI page"
node "$here/browser/docs.mjs" "$URL/docs" "$(python3 -c "import json; d = json.load(open('$SCRATCH/api.json')); print(sum(len(v) for v in d['paths'].values()))")" >"$SCRATCH/docs.out" 2>&1
ok $? "Swagger UI renders every operation: $(tail -1 "$SCRATCH/docs.out")"
stop_serve
finish

#!/usr/bin/env bash
# config_docs.sh - docs/CONFIGURATION.md is what `weir connectors
# --markdown` prints from the connectors' option tables: a connector or
# option changed without `make docs` fails here, so the checked-in
# reference never drifts from the code.
. "$(dirname "$0")/../lib.sh"
plan 2
docs="$(dirname "$0")/../../docs/CONFIGURATION.md"
$WEIR connectors --markdown > "$SCRATCH/CONFIGURATION.md"; ok $? "weir connectors --markdown runs"
diff -u "$docs" "$SCRATCH/CONFIGURATION.md" > "$SCRATCH/diff"
ok $? "docs/CONFIGURATION.md is current (make docs writes it)"
[ -s "$SCRATCH/diff" ] && diag "$(cat "$SCRATCH/diff")"
finish

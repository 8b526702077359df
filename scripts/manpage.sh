#!/usr/bin/env bash
# manpage.sh WEIR - writes weir(1) in roff to standard output, made from the
# binary's own --help texts (the overview and every command's), so the man
# page never says something the binary does not.
set -eu
weir=${1:?usage: manpage.sh WEIR}
version=$("$weir" --version)

# roff: escape backslashes and leading dots/quotes, keep lines as they are.
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

commands=$("$weir" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
cat <<EOF
.TH WEIR 1 "" "$version" "User Commands"
.SH NAME
weir \- a real-time event pipeline in one binary
.SH SYNOPSIS
.B weir
.I COMMAND
[options] [args]
.SH DESCRIPTION
.nf
EOF
"$weir" --help | esc
echo ".fi"
for c in $commands; do
    echo ".SH COMMAND: $c" | tr a-z A-Z
    echo ".nf"
    "$weir" "$c" --help | esc
    echo ".fi"
done
cat <<'EOF'
.SH FILES
.TP
.I ./weir-data
the default data directory (or $WEIR_DATA, or --data DIR)
.SH SEE ALSO
The README and docs/ of the weir source tree; /docs and /openapi.json of a running weir serve.
EOF

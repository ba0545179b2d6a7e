#!/usr/bin/env bash
# Runs every fuzz target for a while (default 20s each). The seed corpora
# under */testdata/fuzz/ are committed and also run by 'make test'.
set -euo pipefail
t=${1:-20s}
for pkg in $(go list -tags ci ./...); do
	dir=$(go list -tags ci -f '{{.Dir}}' "$pkg")
	for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //'); do
		echo "== $pkg $f"
		CGO_ENABLED=0 go test -tags ci -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg"
	done
done

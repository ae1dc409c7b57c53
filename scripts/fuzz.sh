#!/usr/bin/env bash
# Runs every Go fuzz target of the repository for a bounded time each:
#   scripts/fuzz.sh 2s    a short run (part of make test)
#   scripts/fuzz.sh 2m    make fuzz
# The seed corpus of each target (and any failure found before, kept under
# testdata/fuzz) also runs as a plain test in go test ./... .
set -euo pipefail
fuzztime=${1:-2s}
cd "$(dirname "$0")/.."
count=0
while IFS= read -r file; do
  pkg="./$(dirname "$file")"
  for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | cut -d' ' -f2); do
    echo "==> $target ($pkg, $fuzztime)"
    go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" >/tmp/fuzz-$$.log 2>&1 || { cat /tmp/fuzz-$$.log; rm -f /tmp/fuzz-$$.log; exit 1; }
    tail -n 1 /tmp/fuzz-$$.log
    count=$((count + 1))
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' internal api cmd 2>/dev/null | sort)
rm -f /tmp/fuzz-$$.log
echo "$count fuzz targets passed, 0 failed"

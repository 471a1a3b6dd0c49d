#!/usr/bin/env bash
# Wall-clock time of `iamx doc` (release binary, median of several runs): on the examples, and
# on a generated project of 1,000 principals (bench/gen_principals.py without `delegate` and
# `guard`, so that it compiles without errors).
# Usage: bash bench/doc.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-11}
cargo build --release --quiet
bin=target/release/iamx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 bench/gen_principals.py 1000 | sed '/^ *delegate *$/d; /^  guard {/,/^  }/d' > "$tmp/p1000.iamx"
median() { # command... → median wall time in ms over $runs runs (bench/median.py)
  python3 bench/median.py "$runs" "$@"
}
for e in examples/*/; do
  printf '%-45s %s\n' "iamx doc $e" "$(median $bin doc "$e" -o "$tmp/docs")"
done
printf '%-45s %s\n' "iamx check, 1,000 principals" "$(median $bin check "$tmp/p1000.iamx")"
printf '%-45s %s\n' "iamx doc, 1,000 principals" "$(median $bin doc "$tmp/p1000.iamx" -o "$tmp/docs-1000")"
printf '%-45s %s\n' "iamx doc --graph dot, 1,000 principals" "$(median $bin doc "$tmp/p1000.iamx" -o "$tmp/docs-1000-dot" --graph dot)"
printf '%-45s %s\n' "iamx doc --format json, 1,000 principals" "$(median $bin doc "$tmp/p1000.iamx" -o "$tmp/docs-1000-json" --format json)"
printf '%-45s %s\n' "iamx doc --check, 1,000 principals" "$(median $bin doc "$tmp/p1000.iamx" -o "$tmp/docs-1000" --check)"

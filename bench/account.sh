#!/usr/bin/env bash
# `iamx check --account` on generated snapshots (bench/gen_account.py) of N and 5N users and
# roles. Usage: bash bench/account.sh [N]   (default 1000: runs 1,000 and 5,000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
cargo build --release --quiet
bin=target/release/iamx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for size in "$n" "$((5 * n))"; do
  python3 bench/gen_account.py "$size" > "$tmp/s.json"
  start=$(date +%s.%N)
  "$bin" check --account "$tmp/s.json" > /dev/null 2> "$tmp/err" || true
  end=$(date +%s.%N)
  printf 'iamx check --account, %6d principals (%s bytes): %6.2f s; %s\n' "$size" "$(wc -c < "$tmp/s.json")" \
    "$(echo "$end - $start" | bc)" "$(tail -n 1 "$tmp/err")"
done

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
median() { # command... → median wall time in ms over $runs runs
  python3 - "$runs" "$@" <<'PY'
import subprocess, sys, time, statistics
runs, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append((time.perf_counter() - t) * 1000)
print(f"median {statistics.median(times):8.2f} ms   min {min(times):8.2f} ms   ({runs} runs)")
PY
}
for e in examples/*/; do
  printf '%-45s %s\n' "iamx doc $e" "$(median $bin doc "$e" -o "$tmp/docs")"
done
printf '%-45s %s\n' "iamx check, 1,000 principals" "$(median $bin check "$tmp/p1000.iamx")"
printf '%-45s %s\n' "iamx doc, 1,000 principals" "$(median $bin doc "$tmp/p1000.iamx" -o "$tmp/docs-1000")"
printf '%-45s %s\n' "iamx doc --graph dot, 1,000 principals" "$(median $bin doc "$tmp/p1000.iamx" -o "$tmp/docs-1000-dot" --graph dot)"
printf '%-45s %s\n' "iamx doc --format json, 1,000 principals" "$(median $bin doc "$tmp/p1000.iamx" -o "$tmp/docs-1000-json" --format json)"
printf '%-45s %s\n' "iamx doc --check, 1,000 principals" "$(median $bin doc "$tmp/p1000.iamx" -o "$tmp/docs-1000" --check)"

#!/usr/bin/env bash
# The guardrail analysis at two sizes of generated project (bench/gen_principals.py), and the
# ratio of their times: near 2 is linear, near 4 quadratic. Also the guarded example.
# Usage: bash bench/guardrail.sh [N]   (default 1000: runs N and 2N principals)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
cargo build --release --quiet
bin=target/release/iamx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 bench/gen_principals.py "$n" > "$tmp/a.iamx"
python3 bench/gen_principals.py "$((2 * n))" > "$tmp/b.iamx"
python3 - "$bin" "$tmp/a.iamx" "$tmp/b.iamx" "$n" <<'PY'
import subprocess, sys, time, statistics
bin, a, b, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def run(path, runs=1):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([bin, "check", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)
ex = run("examples/company-xyz-guarded", 21)
print(f"iamx check examples/company-xyz-guarded: {ex * 1000:8.1f} ms (median of 21)")
ta, tb = run(a), run(b)
print(f"iamx check, {n:6} principals:          {ta:8.2f} s")
print(f"iamx check, {2 * n:6} principals:          {tb:8.2f} s   (ratio {tb / ta:.2f})")
PY

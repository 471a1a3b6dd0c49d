#!/usr/bin/env bash
# `iamx diff` of two versions of a generated project (bench/gen_principals.py) that differ in
# 10 statements: each of the first 10 `s3:PutObject` grants moves to another bucket. Also the
# diff of the CompanyXYZ example and its guarded version.
# Usage: bash bench/diff.sh [N]   (default 1000 principals)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
cargo build --release --quiet
bin=target/release/iamx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/old" "$tmp/new"
python3 bench/gen_principals.py "$n" > "$tmp/old/main.iamx"
python3 - "$tmp/old/main.iamx" "$tmp/new/main.iamx" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
count = 0
def edit(m):
    global count
    count += 1
    return m.group(0).replace("team-", "team-x") if count <= 10 else m.group(0)
open(sys.argv[2], "w").write(re.sub(r'allow s3:PutObject on "arn:aws:s3:::team-\d+/\*"', edit, text))
PY
python3 - "$bin" "$tmp" "$n" <<'PY'
import subprocess, sys, time, statistics
bin, tmp, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def run(old, new, runs=1):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([bin, "diff", old, new], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)
ex = run("examples/company-xyz", "examples/company-xyz-guarded", 11)
print(f"iamx diff of the company-xyz examples: {ex * 1000:8.1f} ms (median of 11)")
print(f"iamx diff, {n} principals, 10 statements changed: {run(tmp + '/old', tmp + '/new', 3):6.2f} s (median of 3)")
PY

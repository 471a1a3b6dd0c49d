#!/usr/bin/env bash
# Checks every AWS managed policy (default versions, from data/managed-policies) with
# `iamx check`, and prints the time and the diagnostics by code.
# Usage: bash bench/managed-policies.sh [extra iamx flags]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1]) / "policies"
out.mkdir()
for f in sorted(pathlib.Path("data/managed-policies").glob("*.json")):
    d = json.loads(f.read_text())
    (out / f"{d['name']}.json").write_text(json.dumps(d["document"], indent=2) + "\n")
PY
count=$(ls "$tmp/policies" | wc -l)
start=$(date +%s%N)
set +e
target/release/iamx check --message-format json "$@" "$tmp"/policies/*.json > "$tmp/diagnostics.jsonl" 2> /dev/null
code=$?
set -e
end=$(date +%s%N)
echo "checked $count policies in $(( (end - start) / 1000000 )) ms (exit $code)"
python3 - "$tmp/diagnostics.jsonl" <<'PY'
import collections, json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by_code = collections.Counter((r["code"], r["severity"]) for r in rows)
files = {r["code"]: set() for r in rows}
for r in rows:
    files[r["code"]].add(r["file"])
for (code, sev), n in sorted(by_code.items()):
    print(f"  {code} {sev:7} {n:5} in {len(files[code]):4} policies")
PY
if [[ -n "${SHOW:-}" ]]; then grep "\"$SHOW\"" "$tmp/diagnostics.jsonl" | head -${LIMIT:-20}; fi

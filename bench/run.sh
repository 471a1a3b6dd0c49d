#!/usr/bin/env bash
# Wall-clock benchmarks of the release binary, median of several runs.
# Usage: bash bench/run.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-21}
cargo build --release --quiet
bin=target/release/iamx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 bench/gen_large.py 10000 > "$tmp/large.iamx"
median() { # command... → median wall time in ms over $runs runs (bench/median.py)
  python3 bench/median.py "$runs" "$@"
}
echo "iamx build examples/company-xyz -o DIR:       $(median $bin build examples/company-xyz -o "$tmp/out")   (outputs already up to date)"
echo "iamx build examples/company-xyz -o - :        $(median $bin build examples/company-xyz -o -)"
echo "iamx build examples/company-xyz, fresh DIR:   $(median bash -c "rm -rf $tmp/fresh; $bin build examples/company-xyz -o $tmp/fresh")   (includes bash + rm)"
echo "iamx check examples/company-xyz:              $(median $bin check examples/company-xyz)"
echo "iamx build 10,000 statements ($(wc -c < "$tmp/large.iamx") bytes):"
echo "                                              $(median $bin build "$tmp/large.iamx" -o "$tmp/out-large")"
# The deployment back ends on the same project (bench/deploy.sh times each on its own). Its
# 500 policies are more than one CloudFormation template holds: they go to nested stacks.
echo "  --target cloudformation:                    $(median $bin build "$tmp/large.iamx" -o "$tmp/out-large-cfn" --target cloudformation)"
echo "  --target terraform:                         $(median $bin build "$tmp/large.iamx" -o "$tmp/out-large-tf" --target terraform)"
echo "  --target json,terraform:                    $(median $bin build "$tmp/large.iamx" -o "$tmp/out-large-all" --target json,terraform)"
echo "iamx build examples/company-xyz --target json,cloudformation,terraform, fresh DIR:"
echo "                                              $(median bash -c "rm -rf $tmp/fresh3; $bin build examples/company-xyz -o $tmp/fresh3 --target json,cloudformation,terraform")   (includes bash + rm)"
echo "true (process start floor):                   $(median true)"

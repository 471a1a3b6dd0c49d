#!/usr/bin/env bash
# Wall-clock timings of each deployment target on the generated 10,000-statement project
# (bench/gen_large.py), release binary, median of several runs, fresh output directory.
# Usage: bash bench/deploy.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet
bin=target/release/iamx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 bench/gen_large.py 10000 > "$tmp/large.iamx"
median() { # command... → median wall time in ms over $runs runs (bench/median.py)
  python3 bench/median.py "$runs" "$@"
}
fresh() { # TARGETS → a build into a fresh directory
  echo "rm -rf $tmp/out; $bin build $tmp/large.iamx -o $tmp/out --target $1"
}
echo "10,000 statements, $(wc -c < "$tmp/large.iamx") bytes of source; fresh output directory each run"
echo "  iamx check:                                 $(median $bin check "$tmp/large.iamx")"
for targets in json cloudformation terraform json,cloudformation,terraform; do
  printf '  --target %-35s %s\n' "$targets:" "$(median bash -c "$(fresh $targets)")"
done
echo "  iamx check --target cloudformation:         $(median $bin check "$tmp/large.iamx" --target cloudformation)"
echo "  --target json --compact:                    $(median bash -c "$(fresh json) --compact")"
$bin build "$tmp/large.iamx" -o "$tmp/out" --target json,cloudformation,terraform
echo "outputs:"
( cd "$tmp/out" && du -sh cloudformation terraform . | sed 's/^/  /' && ls cloudformation | tr '\n' ' ' | sed 's/^/  /' && echo )

#!/usr/bin/env bash
# Plans of the generated 10,000-resource stack (results recorded in BENCHMARKS.md): with
# empty state, then the apply of that plan, then no-op plans after it (refresh included),
# with the built-in provider and under --sim. Median and best of RUNS runs, with peak RSS.
#
#   bash bench/plan.sh            # N=10000, RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$(pwd)/$target_dir" ;; esac
bin="$target_dir/release/gantry"
[ -x "$bin" ] || { echo "no release binary at $bin" >&2; exit 1; }
n="${N:-10000}"
runs="${RUNS:-5}"
base="${BENCH_DIR:-bench/generated}/plan-$n"
rm -rf "$base"
python3 bench/gen_stack.py "$base/real" --resources "$n" --modules 50 >/dev/null
python3 bench/gen_stack.py "$base/sim" --resources "$n" --modules 50 >/dev/null

printf '%-34s' "plan, empty state:"
python3 bench/measure.py --runs "$runs" -- "$bin" plan "$base/real"
start=$(date +%s.%N)
"$bin" apply --auto-approve "$base/real" >/dev/null 2>&1
"$bin" apply --sim --auto-approve "$base/sim" >/dev/null 2>&1
end=$(date +%s.%N)
python3 -c "print(f'{\"apply of both (built-in, then --sim):\":<34}{($end - $start):.1f} s')"
printf '%-34s' "no-op plan, built-in provider:"
python3 bench/measure.py --runs "$runs" -- "$bin" plan --detailed-exitcode "$base/real"
printf '%-34s' "no-op plan, --sim:"
python3 bench/measure.py --runs "$runs" -- "$bin" plan --sim --detailed-exitcode "$base/sim"

#!/usr/bin/env bash
# Benchmarks of the stack language and graph (results recorded in BENCHMARKS.md):
# `gantry validate` and `gantry graph` on generated stacks of 1k, 10k and 100k resources in
# 50 modules.
#
#   bash bench/run.sh            # all sizes
#   SIZES="10000" bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/gantry"
out="${BENCH_DIR:-bench/generated}"
for n in ${SIZES:-1000 10000 100000}; do
  python3 bench/gen_stack.py "$out/stack-$n" --resources "$n" --modules 50 >/dev/null
  runs=5; [ "$n" -ge 100000 ] && runs=3
  printf '%-7s validate: ' "$n"; python3 bench/measure.py --runs $runs -- "$bin" validate "$out/stack-$n"
  printf '%-7s graph:    ' "$n"; python3 bench/measure.py --runs $runs -- "$bin" graph "$out/stack-$n"
done

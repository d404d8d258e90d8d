#!/usr/bin/env bash
# Engine benchmarks on the simulated clouds (results recorded in BENCHMARKS.md).
#   bash bench/engine.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$(pwd)/$target_dir" ;; esac
bin="$target_dir/release/gantry"
[ -x "$bin" ] || { echo "no release binary at $bin" >&2; exit 1; }
work="${BENCH_DIR:-bench/generated}/engine"
rm -rf "$work"; mkdir -p "$work"

independent() { # N [LATENCY] [PARALLELISM]
  local d="$work/ind-$1-${2:-0}"; mkdir -p "$d"
  printf 'resource "gantry_data" "r" {\n  count = %s\n  input = count.index\n}\n' "$1" > "$d/main.hcl"
  echo "$d"
}
chain() { # N
  local d="$work/chain-$1"; mkdir -p "$d"
  printf 'resource "gantry_data" "c0" {\n  input = 0\n}\n' > "$d/main.hcl"
  for i in $(seq 1 $(($1 - 1))); do
    printf 'resource "gantry_data" "c%s" {\n  input = gantry_data.c%s.id\n}\n' "$i" "$((i - 1))" >> "$d/main.hcl"
  done
  echo "$d"
}
apply_time() { # DIR LATENCY PARALLELISM
  rm -rf "$1/.gantry"
  local start end
  start=$(date +%s.%N)
  if ! GANTRY_SIM_LATENCY_MS="$2" "$bin" apply --sim --auto-approve --parallelism "$3" "$1" >/dev/null 2>&1; then
    echo "FAILED: apply of $1" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  python3 -c "print(f'{($end - $start) * 1000:.0f} ms')"
}
written() { # DIR: bytes the apply passed to write(2) for files (strace), not stdout
  rm -rf "$1/.gantry"
  local log; log=$(mktemp)
  strace -f -y -e trace=write,pwrite64,writev -o "$log" "$bin" apply --sim --auto-approve "$1" >/dev/null 2>&1
  python3 - "$log" <<'PY'
import re, sys
total = 0
for line in open(sys.argv[1]):
    m = re.search(r'(?:write|pwrite64|writev)\(\d+<([^>]*)>,.*= (\d+)$', line)
    if m and m.group(1).startswith('/') and not m.group(1).startswith('/dev/'):
        total += int(m.group(2))
print(f"{total} bytes")
PY
  rm -f "$log"
}

echo "1,000 independent, no latency:      $(apply_time "$(independent 1000)" 0 256)"
echo "5,000 independent, no latency:      $(apply_time "$(independent 5000)" 0 256)"
echo "200 independent, 200 ms latency:    $(apply_time "$(independent 200 200)" 200 256)"
echo "1,000 independent, 100 ms, par 100: $(apply_time "$(independent 1000 100)" 100 100)"
echo "200-deep chain, 20 ms latency:      $(apply_time "$(chain 200)" 20 256)"
if command -v strace >/dev/null; then
  for n in 1000 10000 20000; do echo "written by a $n-resource apply: $(written "$(independent $n)")"; done
fi

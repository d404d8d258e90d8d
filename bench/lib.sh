# What the benchmarks share; sourced by bench/aws.sh, aws_timings.sh, aws_refresh.sh,
# remote_state.sh, gcp_timings.sh and azure_timings.sh. The debug build is used: what they
# measure is API round trips and waiting, and a release build of the AWS SDK takes most of
# an hour on two cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${GANTRY_TEST_PYTHON:-$HOME/.cache/gantry/venv/bin/python}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gantry/target}"
# GANTRY=/path/to/gantry: that binary as it is, nothing built.
if [ -z "${GANTRY:-}" ]; then
  cargo build -q
  GANTRY="$CARGO_TARGET_DIR/debug/gantry"
fi
RUNS="${RUNS:-3}"

now() { date +%s.%N; }

# start_moto LAUNCHER-ARGS... -> sets MOTO_URL, LAUNCHER_PID; stop_moto ends it.
start_moto() {
  coproc MOTO { exec "$PY" tests/moto/launcher.py --port 0 "$@"; }
  read -r line <&"${MOTO[0]}"
  MOTO_URL="${line#ready }"
  LAUNCHER_PID=$MOTO_PID # bash unsets MOTO_PID once the coprocess exits
}
stop_moto() {
  [ -n "${LAUNCHER_PID:-}" ] || return 0
  kill "$LAUNCHER_PID" 2>/dev/null || true
  wait "$LAUNCHER_PID" 2>/dev/null || true
  LAUNCHER_PID=
}

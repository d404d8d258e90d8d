#!/usr/bin/env bash
# Wall time to apply and destroy examples/aws-gpu-cluster with gantry against moto, and the
# same objects made one call after another by a plain boto3 script
# (bench/aws_boto3_baseline.py). Each run gets a fresh moto launcher. LATENCY_MS delays every
# moto response, to stand in for the round trip to a real AWS endpoint.
#
#   bash bench/aws.sh            # LATENCY_MS=0 and 50, 3 runs each
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${GANTRY_TEST_PYTHON:-$HOME/.cache/gantry/venv/bin/python}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gantry/target}"
# The debug build: a release build of the AWS SDK crates takes most of an hour on two cores,
# and the time measured here is API round trips and waiting, not gantry's own CPU.
cargo build -q
GANTRY="$CARGO_TARGET_DIR/debug/gantry"
RUNS="${RUNS:-3}"

start_moto() { # latency_ms -> sets MOTO_URL, LAUNCHER_PID
  coproc MOTO { exec "$PY" tests/moto/launcher.py --port 0 --latency-ms "$1"; }
  read -r line <&"${MOTO[0]}"
  MOTO_URL="${line#ready }"
  LAUNCHER_PID=$MOTO_PID # bash unsets MOTO_PID once the coprocess exits
}
stop_moto() { [ -n "${LAUNCHER_PID:-}" ] || return 0; kill "$LAUNCHER_PID" 2>/dev/null || true; wait "$LAUNCHER_PID" 2>/dev/null || true; LAUNCHER_PID=; }
trap stop_moto EXIT

now() { date +%s.%N; }

for latency in ${LATENCIES:-0 50}; do
  for run in $(seq "$RUNS"); do
    start_moto "$latency"
    work=$(mktemp -d)
    cp examples/aws-gpu-cluster/*.hcl "$work/"
    export AWS_ENDPOINT_URL="$MOTO_URL" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
      AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true GANTRY_AWS_POLL_MS=50
    t0=$(now); "$GANTRY" apply --auto-approve "$work" >/dev/null
    t1=$(now); "$GANTRY" destroy --auto-approve "$work" >/dev/null
    t2=$(now)
    stop_moto
    start_moto "$latency"
    boto=$("$PY" bench/aws_boto3_baseline.py "$MOTO_URL")
    stop_moto
    rm -rf "$work"
    printf 'latency_ms=%s run=%s gantry_apply_s=%.2f gantry_destroy_s=%.2f boto3=%s\n' \
      "$latency" "$run" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$boto"
  done
done

#!/usr/bin/env bash
# What keeping state in a `backend "s3"` bucket costs: wall time of the apply that creates a
# 1,000-resource stack (gantry_data, so only state is stored remotely: no cloud calls) and of
# a no-op plan, with local state and with the state in moto's S3, with LATENCY_MS added to
# every S3 request (0 and 20 by default).
#
#   bash bench/remote_state.sh          # RUNS=3 LATENCIES="0 20"
source "$(dirname "$0")/lib.sh"
N="${RESOURCES:-1000}"

trap stop_moto EXIT

stack() { # dir, backend block (may be empty)
  mkdir -p "$1"
  printf '%s\nresource "gantry_data" "r" {\n  count = %s\n  input = { index = count.index, name = "r-${count.index}" }\n}\n' "$2" "$N" >"$1/main.hcl"
}

for latency in ${LATENCIES:-0 20}; do
  for run in $(seq "$RUNS"); do
    start_moto --latency-ms "$latency"
    export AWS_ENDPOINT_URL="$MOTO_URL" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
      AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
    "$PY" -c "import boto3; boto3.client('s3', endpoint_url='$MOTO_URL').create_bucket(Bucket='bench')"
    work=$(mktemp -d)
    stack "$work/local" ""
    stack "$work/s3" "terraform {
  backend \"s3\" {
    bucket         = \"bench\"
    key            = \"bench.tfstate\"
    use_path_style = true
  }
}"
    "$GANTRY" init --dir "$work/s3" >/dev/null 2>&1
    for kind in local s3; do
      t0=$(now); "$GANTRY" apply --auto-approve "$work/$kind" >/dev/null 2>&1
      t1=$(now); "$GANTRY" plan "$work/$kind" >/dev/null 2>&1
      t2=$(now)
      printf 'latency_ms=%s run=%s backend=%s apply_s=%.2f noop_plan_s=%.2f\n' \
        "$latency" "$run" "$kind" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
    done
    stop_moto
    rm -rf "$work"
  done
done

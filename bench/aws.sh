#!/usr/bin/env bash
# Wall time to apply and destroy examples/aws-gpu-cluster with gantry against moto, and the
# same objects made one call after another by a plain boto3 script
# (bench/aws_boto3_baseline.py). Each run gets a fresh moto launcher. LATENCY_MS delays every
# moto response, to stand in for the round trip to a real AWS endpoint.
#
#   bash bench/aws.sh            # LATENCY_MS=0 and 50, 3 runs each
source "$(dirname "$0")/lib.sh"

trap stop_moto EXIT


for latency in ${LATENCIES:-0 50}; do
  for run in $(seq "$RUNS"); do
    start_moto --latency-ms "$latency"
    work=$(mktemp -d)
    cp examples/aws-gpu-cluster/*.hcl "$work/"
    export AWS_ENDPOINT_URL="$MOTO_URL" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
      AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true GANTRY_AWS_POLL_MS=50
    t0=$(now); "$GANTRY" apply --auto-approve "$work" >/dev/null
    t1=$(now); "$GANTRY" destroy --auto-approve "$work" >/dev/null
    t2=$(now)
    stop_moto
    start_moto --latency-ms "$latency"
    boto=$("$PY" bench/aws_boto3_baseline.py "$MOTO_URL")
    stop_moto
    rm -rf "$work"
    printf 'latency_ms=%s run=%s gantry_apply_s=%.2f gantry_destroy_s=%.2f boto3=%s\n' \
      "$latency" "$run" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$boto"
  done
done

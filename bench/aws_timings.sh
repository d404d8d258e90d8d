#!/usr/bin/env bash
# gantry against a plain boto3 script when AWS objects take AWS's time: the moto launcher
# runs with --aws-timings SCALE (EKS clusters CREATING for 600 s x SCALE, node groups 240 s,
# FSx 600 s, SageMaker domains 240 s, instances pending 30 s, deletes likewise; see
# tests/moto/README.md). Per run, on a fresh launcher each: gantry apply + destroy of
# examples/aws-gpu-cluster, then bench/aws_boto3_baseline.py (sequential, careful waits,
# boto3 waiter delays x SCALE). Each gantry phase is set against the stack's critical path
# (bench/critical_path.py: the heaviest chain of dependent holds in `gantry graph`, from
# the same timings) and split, from the launcher's transition log, into lead-in, holds,
# poll overshoot, gaps and tail.
#
#   bash bench/aws_timings.sh                # SCALE=1/20, RUNS=3
#   SCALE=1/10 RUNS=1 bash bench/aws_timings.sh
#
# Each launcher is warmed up before anything is timed (one cheap call per service the stack
# uses): moto imports a service's models on its first request, about 2 s for EC2, a cost of
# the emulator that neither gantry nor the script would pay against AWS.
#
# gantry's shortest poll interval (1 s against AWS) is scaled like everything else:
# GANTRY_AWS_POLL_MS defaults to 1000 x SCALE (50 ms at 1/20), as the script's waiter
# delays are (30 s x 1/20 = 1.5 s), so the run is AWS compressed SCALE times. Set
# GANTRY_AWS_POLL_MS=1000 to keep gantry's AWS floor unscaled (it then dominates the
# lateness of holds shorter than 20 s).
#
# The debug build is used: what is measured is waiting on transitional states, not
# gantry's CPU.
source "$(dirname "$0")/lib.sh"
SCALE="${SCALE:-1/20}"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
STACK=examples/aws-gpu-cluster

trap stop_moto EXIT
warm_up() { # one cheap call per service, so moto has imported its models before timing
  "$PY" - "$MOTO_URL" <<'EOF'
import sys, boto3
def client(service):
    return boto3.client(service, endpoint_url=sys.argv[1], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")
client("sts").get_caller_identity()
client("ec2").describe_availability_zones()
client("iam").list_roles(MaxItems=1)
client("s3").list_buckets()
client("kms").list_keys(Limit=1)
client("eks").list_clusters()
client("fsx").describe_file_systems()
client("sagemaker").list_domains()
EOF
}
stats() { "$PY" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1] + "/_gantry/stats").read().decode())' "$MOTO_URL"; }

"$GANTRY" graph "$STACK" > "$OUT/graph.dot"
scale=$("$PY" -c 'import sys, fractions; print(float(fractions.Fraction(sys.argv[1])))' "$SCALE")
export GANTRY_AWS_POLL_MS="${GANTRY_AWS_POLL_MS:-$("$PY" -c 'import sys; print(max(1, round(1000 * float(sys.argv[1]))))' "$scale")}"
echo "scale=$SCALE GANTRY_AWS_POLL_MS=$GANTRY_AWS_POLL_MS output=$OUT" >&2

for run in $(seq "$RUNS"); do
  start_moto --aws-timings "$SCALE"
  warm_up
  work=$(mktemp -d)
  cp "$STACK"/*.hcl "$work/"
  export AWS_ENDPOINT_URL="$MOTO_URL" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
  t0=$(now); "$GANTRY" apply --auto-approve "$work" > "$OUT/run$run.apply.log" 2>&1
  t1=$(now); "$GANTRY" destroy --auto-approve "$work" > "$OUT/run$run.destroy.log" 2>&1
  t2=$(now)
  stats > "$OUT/run$run.stats.json"
  stop_moto
  rm -rf "$work"
  "$PY" bench/critical_path.py --graph "$OUT/graph.dot" --scale "$scale" --phase create \
    --stats "$OUT/run$run.stats.json" --start "$t0" --end "$t1" > "$OUT/run$run.create.json"
  "$PY" bench/critical_path.py --graph "$OUT/graph.dot" --scale "$scale" --phase delete \
    --stats "$OUT/run$run.stats.json" --start "$t1" --end "$t2" > "$OUT/run$run.delete.json"
  start_moto --aws-timings "$SCALE"
  warm_up
  "$PY" bench/aws_boto3_baseline.py "$MOTO_URL" "$SCALE" > "$OUT/run$run.boto3.json"
  stop_moto
  "$PY" - "$OUT" "$run" <<'EOF'
import json, sys
out, run = sys.argv[1], sys.argv[2]
c = json.load(open(f"{out}/run{run}.create.json"))
d = json.load(open(f"{out}/run{run}.delete.json"))
b = json.load(open(f"{out}/run{run}.boto3.json"))
row = {"run": int(run), "gantry_apply_s": c["wall_s"], "gantry_destroy_s": d["wall_s"],
       "boto3_create_s": b["create_s"], "boto3_destroy_s": b["destroy_s"],
       "create_speedup": round(b["create_s"] / c["wall_s"], 2),
       "destroy_speedup": round(b["destroy_s"] / d["wall_s"], 2),
       "apply_critical_path_s": c["critical_path_s"], "apply_vs_critical_path": c["ratio"],
       "destroy_critical_path_s": d["critical_path_s"], "destroy_vs_critical_path": d["ratio"],
       "apply_breakdown": c["breakdown"], "destroy_breakdown": d["breakdown"]}
with open(f"{out}/results.jsonl", "a") as f:
    f.write(json.dumps(row) + "\n")
print(json.dumps(row))
EOF
done

"$PY" - "$OUT" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/results.jsonl")]
keys = ["gantry_apply_s", "gantry_destroy_s", "boto3_create_s", "boto3_destroy_s", "create_speedup",
        "destroy_speedup", "apply_vs_critical_path", "destroy_vs_critical_path"]
print("medians over %d runs: %s" % (len(rows), json.dumps({k: statistics.median(r[k] for r in rows) for k in keys})))
EOF

#!/usr/bin/env bash
# A refresh-bound benchmark: a no-op `gantry plan --detailed-exitcode` of about 2,000 AWS
# objects against the moto launcher throttling above RATE requests/s (--max-rps: a token
# bucket per account and region, RATE tokens, refilled at RATE/s; each protocol's own
# throttling error beyond it), timed against the rate bound: the read calls the plan made,
# counted by the launcher (GET /_gantry/stats before and after), divided by RATE.
#
#   bash bench/aws_refresh.sh                 # RATE=100, RUNS=3
#   RATE=50 RUNS=1 bash bench/aws_refresh.sh
#
# The stack (generated): VPCS VPCs, SUBNETS subnets and SGS security groups spread over
# them, ROLES IAM roles, BUCKETS S3 buckets (2,004 objects by default), all cheap for moto.
# It is applied once through the same limit, then planned RUNS times; one more plan runs
# with the limit lifted (the faults file's max_rps), to show what moto and gantry manage
# unthrottled. The debug build is used (the measured time is the rate bound and waiting;
# CPU cost shows in the unthrottled plan).
source "$(dirname "$0")/lib.sh"
RATE="${RATE:-100}"
VPCS="${VPCS:-4}" SUBNETS="${SUBNETS:-400}" SGS="${SGS:-800}" ROLES="${ROLES:-500}" BUCKETS="${BUCKETS:-300}"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
work=$(mktemp -d)
faults="$work/faults.json"

cat > "$work/main.hcl" <<EOF
provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "v" {
  count      = $VPCS
  cidr_block = "10.\${count.index}.0.0/16"
}

resource "aws_subnet" "s" {
  count      = $SUBNETS
  vpc_id     = aws_vpc.v[count.index % $VPCS].id
  cidr_block = cidrsubnet(aws_vpc.v[count.index % $VPCS].cidr_block, 8, floor(count.index / $VPCS))
}

resource "aws_security_group" "g" {
  count       = $SGS
  name        = "bench-\${count.index}"
  description = "refresh benchmark"
  vpc_id      = aws_vpc.v[count.index % $VPCS].id
}

resource "aws_iam_role" "r" {
  count = $ROLES
  name  = "bench-\${count.index}"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_s3_bucket" "b" {
  count  = $BUCKETS
  bucket = "gantry-refresh-bench-\${count.index}"
}
EOF
objects=$((VPCS + SUBNETS + SGS + ROLES + BUCKETS))

coproc MOTO { exec "$PY" tests/moto/launcher.py --port 0 --max-rps "$RATE" --faults "$faults"; }
read -r line <&"${MOTO[0]}"
MOTO_URL="${line#ready }"
LAUNCHER_PID=$MOTO_PID
stop_moto() { kill "$LAUNCHER_PID" 2>/dev/null || true; wait "$LAUNCHER_PID" 2>/dev/null || true; rm -rf "$work"; }
trap stop_moto EXIT
stats() { "$PY" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1] + "/_gantry/stats").read().decode())' "$MOTO_URL"; }
export AWS_ENDPOINT_URL="$MOTO_URL" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

# One row per command: wall time, requests that went through and that were throttled
# (from the launcher's counts before and after), the rate bound and the ratio.
measure() { # LABEL RATE_OR_EMPTY COMMAND...
  local label=$1 rate=$2; shift 2
  stats > "$OUT/before.json"
  local t0 t1 rc=0
  t0=$(now); "$@" > "$OUT/$label.log" 2>&1 || rc=$?; t1=$(now)
  stats > "$OUT/after.json"
  "$PY" - "$OUT" "$label" "$rate" "$t0" "$t1" "$rc" "$objects" <<'EOF'
import json, sys
out, label, rate, t0, t1, rc, objects = sys.argv[1:]
before, after = (json.load(open(f"{out}/{n}.json")) for n in ("before", "after"))
diff = lambda k: {a: n - before[k].get(a, 0) for a, n in after[k].items() if n != before[k].get(a, 0)}
calls, throttled = diff("requests"), diff("throttled")
wall = float(t1) - float(t0)
row = {"command": label, "exit": int(rc), "objects": int(objects), "wall_s": round(wall, 2),
       "calls": sum(calls.values()), "throttled": sum(throttled.values()), "calls_by_action": calls,
       "throttled_by_action": throttled}
if rate:
    row["rate_bound_s"] = round(row["calls"] / float(rate), 2)
    row["vs_bound"] = round(wall / row["rate_bound_s"], 3)
    row["achieved_rps"] = round(row["calls"] / wall, 1)
with open(f"{out}/results.jsonl", "a") as f:
    f.write(json.dumps(row) + "\n")
print(json.dumps({k: v for k, v in row.items() if not k.endswith("by_action")}))
EOF
}

measure apply "$RATE" "$GANTRY" apply --auto-approve "$work"
for run in $(seq "$RUNS"); do
  measure "plan$run" "$RATE" "$GANTRY" plan --detailed-exitcode "$work"
done
echo '{"max_rps": 0}' > "$faults.tmp" && mv "$faults.tmp" "$faults"
measure plan-unthrottled "" "$GANTRY" plan --detailed-exitcode "$work"

"$PY" - "$OUT" "$RATE" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/results.jsonl")]
rate = float(sys.argv[2])
plans = [r for r in rows if r["command"].startswith("plan") and "vs_bound" in r]
free = [r for r in rows if r["command"] == "plan-unthrottled"]
print("median of %d throttled plans: wall %.2f s, calls %d, bound %.2f s, ratio %.3f, throttled %d; exits %s" % (
    len(plans), statistics.median(r["wall_s"] for r in plans), statistics.median(r["calls"] for r in plans),
    statistics.median(r["rate_bound_s"] for r in plans), statistics.median(r["vs_bound"] for r in plans),
    statistics.median(r["throttled"] for r in plans), [r["exit"] for r in rows]))
if free and plans:
    # The calls a plan needs when nothing is throttled (a read the engine retries whole
    # after throttling repeats its first calls): the bound without those repeats.
    need = free[-1]["calls"]
    print("unthrottled plan: wall %.2f s, %d calls (%.0f requests/s, what moto and gantry manage here); "
          "bound from those calls %.2f s, median ratio to it %.3f" % (
              free[-1]["wall_s"], need, need / free[-1]["wall_s"], need / rate,
              statistics.median(r["wall_s"] for r in plans) / (need / rate)))
print("calls of one plan by action:", json.dumps(plans[-1]["calls_by_action"]) if plans else "-")
EOF

#!/usr/bin/env bash
# gantry against a plain google-api-python-client script when Google Cloud objects take
# Google's time: the contract fake (tests/gcp/fake) runs with --timings SCALE, holding each
# operation for Google's typical time for it x SCALE (behaviour.TYPICAL_SECONDS: a TPU
# slice 300 s, a Filestore share 420 s, a Workbench notebook 240 s, a network 20 s, ...).
# Per run, on a fresh fake each: gantry apply + destroy of examples/llm-training-gcp (its
# provider block pointed at the fake), then bench/gcp_client_baseline.py making and deleting
# the same objects one after another, waiting for each operation (polls every 1 s x SCALE).
#
#   bash bench/gcp_timings.sh                # SCALE=1/20, RUNS=3
#   SCALE=1/10 RUNS=1 bash bench/gcp_timings.sh
#
# The debug build is used: what is measured is waiting on operations, not gantry's CPU.
source "$(dirname "$0")/lib.sh"
SCALE="${SCALE:-1/20}"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
STACK=examples/llm-training-gcp

FAKE_PID=
stop_fake() {
  [ -n "${FAKE_PID:-}" ] || return 0
  kill "$FAKE_PID" 2>/dev/null || true
  wait "$FAKE_PID" 2>/dev/null || true
  FAKE_PID=
}
trap stop_fake EXIT

# The example, its provider block pointed at the fake.
write_stack() {
  "$PY" - "$STACK/main.hcl" "$1/main.hcl" "$FAKE_URL" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
base = sys.argv[3]
start = text.index('provider "google" {')
end = text.index("\n}\n", start) + 3
block = f'''provider "google" {{
  project = "gantry-test"
  region  = var.region
  access_token = "fake-token"
  compute_custom_endpoint = "{base}/compute"
  tpu_v2_custom_endpoint = "{base}/tpu"
  iam_custom_endpoint = "{base}/iam"
  resource_manager_v3_custom_endpoint = "{base}/cloudresourcemanager"
  filestore_custom_endpoint = "{base}/file"
  workbench_custom_endpoint = "{base}/notebooks"
  container_custom_endpoint = "{base}/container"
  cloud_quotas_custom_endpoint = "{base}/cloudquotas"
  storage_custom_endpoint = "{base}/storage/storage/v1/"
}}
'''
open(sys.argv[2], "w").write(text[:start] + block + text[end:])
PYEOF
}

echo "scale=$SCALE output=$OUT" >&2
for run in $(seq "$RUNS"); do
  coproc FAKE { exec "$PY" tests/gcp/fake/server.py --project gantry-test --timings "$SCALE"; }
  FAKE_PID=$FAKE_PID
  read -r line <&"${FAKE[0]}"
  FAKE_URL="http://127.0.0.1:${line#READY }"
  work=$(mktemp -d)
  write_stack "$work"
  t0=$(now); "$GANTRY" apply --auto-approve "$work" > "$OUT/run$run.apply.log" 2>&1
  t1=$(now); "$GANTRY" destroy --auto-approve "$work" > "$OUT/run$run.destroy.log" 2>&1
  t2=$(now)
  stop_fake
  rm -rf "$work"
  coproc FAKE { exec "$PY" tests/gcp/fake/server.py --project gantry-test --timings "$SCALE"; }
  FAKE_PID=$FAKE_PID
  read -r line <&"${FAKE[0]}"
  FAKE_URL="http://127.0.0.1:${line#READY }"
  "$PY" bench/gcp_client_baseline.py "$FAKE_URL" "$SCALE" > "$OUT/run$run.client.json"
  stop_fake
  "$PY" - "$OUT" "$run" "$t0" "$t1" "$t2" <<'PYEOF'
import json, sys
out, run, t0, t1, t2 = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
b = json.load(open(f"{out}/run{run}.client.json"))
row = {"run": int(run), "gantry_apply_s": round(t1 - t0, 2), "gantry_destroy_s": round(t2 - t1, 2),
       "client_create_s": b["create_s"], "client_destroy_s": b["destroy_s"]}
row["create_speedup"] = round(row["client_create_s"] / row["gantry_apply_s"], 2)
row["destroy_speedup"] = round(row["client_destroy_s"] / row["gantry_destroy_s"], 2)
with open(f"{out}/results.jsonl", "a") as f:
    f.write(json.dumps(row) + "\n")
print(json.dumps(row))
PYEOF
done

"$PY" - "$OUT" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/results.jsonl")]
keys = ["gantry_apply_s", "gantry_destroy_s", "client_create_s", "client_destroy_s",
        "create_speedup", "destroy_speedup"]
print("medians over %d runs: %s" % (len(rows), json.dumps({k: statistics.median(r[k] for r in rows) for k in keys})))
PYEOF

#!/usr/bin/env bash
# gantry against a sequential azure-mgmt SDK script when Azure objects take Azure's time:
# the contract fake (tests/azure/fake) runs with --timings SCALE, holding each operation for
# Azure's typical time for its type x SCALE (behaviour.TYPICAL_SECONDS: a scale set of
# ND H100 v5 300 s to make and 180 s to delete, an ML workspace 60 s, a storage account
# 25 s, a key vault 20 s, a virtual network 10 s, a subnet or NSG 5 s, ...).
# Per run, on a fresh fake each: gantry apply + destroy of examples/llm-training-azure (its
# provider block pointed at the fake), then bench/azure_client_baseline.py making and
# deleting the same 19 objects one after another, waiting for each operation (azure-core
# polls every 1 s x SCALE).
#
#   bash bench/azure_timings.sh                # SCALE=1/20, RUNS=3
#   SCALE=1/10 RUNS=1 bash bench/azure_timings.sh
#   GANTRY=path/to/gantry bash bench/azure_timings.sh   # that binary, no cargo build
#
# The debug build is used: what is measured is waiting on operations, not gantry's CPU.
source "$(dirname "$0")/lib.sh"
SCALE="${SCALE:-1/20}"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
STACK=examples/llm-training-azure
# The fake's service principal (the ids tests/azure/support.rs uses).
SUB=00000000-0000-0000-0000-00000000a11c
TENANT=72f988bf-86f1-41af-91ab-2d7cd011db47
CLIENT_ID=0e4d1c3a-6a4c-4d2e-9a55-1d2f3b4c5d6e
CLIENT_SECRET=fake-client-secret-value

FAKE_PID=
CERTS=
start_fake() {  # -> FAKE_PORT, FAKE_PID, CERTS (its ca.pem)
  CERTS=$(mktemp -d)
  coproc FAKE { exec "$PY" tests/azure/fake/server.py --subscription "$SUB" --tenant "$TENANT" \
    --client-id "$CLIENT_ID" --client-secret "$CLIENT_SECRET" --cert-dir "$CERTS" --timings "$SCALE"; }
  FAKE_PID=$FAKE_PID # bash unsets FAKE_PID once the coprocess exits
  read -r line <&"${FAKE[0]}"
  FAKE_PORT="${line#READY }"
}
stop_fake() {
  if [ -n "${FAKE_PID:-}" ]; then
    kill "$FAKE_PID" 2>/dev/null || true
    wait "$FAKE_PID" 2>/dev/null || true
    FAKE_PID=
  fi
  if [ -n "${CERTS:-}" ]; then rm -rf "$CERTS"; CERTS=; fi
}
trap stop_fake EXIT

# The example, its provider block pointed at the fake (its features and default_tags kept).
write_stack() {
  "$PY" - "$STACK/main.hcl" "$1/main.hcl" "$FAKE_PORT" "$SUB" "$TENANT" "$CLIENT_ID" "$CLIENT_SECRET" <<'PYEOF'
import sys
src, dst, port, sub, tenant, client, secret = sys.argv[1:]
text = open(src).read()
opening = 'provider "azurerm" {\n'
assert opening in text, "the example has no provider \"azurerm\" block"
settings = (f'  subscription_id = "{sub}"\n  tenant_id = "{tenant}"\n  client_id = "{client}"\n'
            f'  client_secret = "{secret}"\n  metadata_host = "127.0.0.1:{port}"\n  use_cli = false\n')
open(dst, "w").write(text.replace(opening, opening + settings, 1))
PYEOF
}

# gantry with the fake's CA trusted and no Azure credentials of the caller's environment.
gantry() {
  local unset=()
  for name in $(compgen -e); do
    case "$name" in ARM_*|AZURE_*|ACTIONS_ID_TOKEN*) unset+=(-u "$name") ;; esac
  done
  env "${unset[@]}" SSL_CERT_FILE="$CERTS/ca.pem" "$GANTRY" "$@"
}

echo "scale=$SCALE output=$OUT" >&2
for run in $(seq "$RUNS"); do
  start_fake
  work=$(mktemp -d)
  write_stack "$work"
  t0=$(now); gantry apply --auto-approve "$work" > "$OUT/run$run.apply.log" 2>&1 \
    || { tail -30 "$OUT/run$run.apply.log" >&2; exit 1; }
  t1=$(now); gantry destroy --auto-approve "$work" > "$OUT/run$run.destroy.log" 2>&1 \
    || { tail -30 "$OUT/run$run.destroy.log" >&2; exit 1; }
  t2=$(now)
  stop_fake
  rm -rf "$work"
  start_fake
  "$PY" -W ignore bench/azure_client_baseline.py "https://127.0.0.1:$FAKE_PORT" "$CERTS/ca.pem" "$SUB" \
    "$TENANT" "$CLIENT_ID" "$CLIENT_SECRET" "$SCALE" > "$OUT/run$run.client.json"
  stop_fake
  "$PY" - "$OUT" "$run" "$t0" "$t1" "$t2" <<'PYEOF'
import json, sys
out, run, t0, t1, t2 = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
b = json.load(open(f"{out}/run{run}.client.json"))
row = {"run": int(run), "gantry_apply_s": round(t1 - t0, 2), "gantry_destroy_s": round(t2 - t1, 2),
       "client_create_s": b["create_s"], "client_destroy_s": b["destroy_s"], "objects": b["objects"]}
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

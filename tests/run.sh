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

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

log "cargo nextest run"
# insta must not write snapshots in CI: a missing or changed snapshot is a failure.
export INSTA_UPDATE=no
cargo nextest run --workspace --no-fail-fast "$@"

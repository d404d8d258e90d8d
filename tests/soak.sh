#!/usr/bin/env bash
# Soak test: the SIGKILL crash test with many more trials than the suite runs.
#   bash tests/soak.sh            # 300 trials
#   TRIALS=1000 bash tests/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GANTRY_CRASH_TRIALS="${TRIALS:-300}" cargo nextest run --workspace --no-capture \
  -E 'test(crash_at_random_moments_never_loses_a_resource)'

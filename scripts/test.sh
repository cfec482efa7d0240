#!/usr/bin/env bash
# Runs the whole test suite (unit and integration). Installs what is missing first, so it
# works on a clean clone: this is what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --deps-only
node dist/scripts/make-fixtures.js --quiet
exec node scripts/run-tests.mjs "$@"

#!/usr/bin/env bash
# Image-operation benchmark: berthd vs dockerd vs podman (load / images / rmi / idle RSS).
#   bench/images.sh [--runs N] [--list-runs N] [--images N] [--settle SEC] [--engines LIST] ...
# (bench/images.sh --help lists every option; bench/README.md explains the output.)
# The work is done by bench/images.mjs; this wrapper owns the private temp dir and a cleanup
# trap that stops the daemons it started (by PID), unmounts and removes the dir even if the
# Node process dies.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for a in "$@"; do
  [[ $a == -h || $a == --help ]] && exec node "$BENCH_DIR/images.mjs" --help
  [[ $a == --keep-tmp ]] && export BENCH_KEEP_TMP=1
done
((EUID == 0)) || { bench_log "bench/images.sh needs root (it starts dockerd, berthd and rootful podman)"; exit 1; }

bench_ensure_dist
bench_mktemp berth-bench
bench_install_traps
node "$BENCH_DIR/images.mjs" --tmp "$BENCH_TMP" "$@"

#!/usr/bin/env bash
# Container benchmark: berthd vs dockerd vs podman through their CLIs: run --rm, create /
# start / exec / stop, N sequential run -d, ps, ps -a with many containers, log throughput,
# supervisor and daemon RSS.
#   bench/containers.sh [--runs N] [--warmup N] [--containers N] [--ps-berth N] [--ps-others N]
#                       [--logs-mb N] [--logs-runs N] [--engines LIST] [--skip LIST] ...
# (bench/containers.sh --help lists every option; bench/README.md explains the output.)
# The work is done by bench/containers.mjs; this wrapper owns the private temp dir and a
# cleanup trap that, even if the Node process dies: stops the daemons it started (by PID),
# kills what is left of the benchmark's own processes (a conmon or containerd-shim whose
# command line names the temp dir, a container process whose root is inside it), unmounts,
# deletes the network bridges the benchmark created and removes the dir.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for a in "$@"; do
  [[ $a == -h || $a == --help ]] && exec node "$BENCH_DIR/containers.mjs" --help
  [[ $a == --keep-tmp ]] && export BENCH_KEEP_TMP=1
done
((EUID == 0)) || { bench_log "bench/containers.sh needs root (it starts dockerd, berthd and rootful podman)"; exit 1; }

# Leftovers of ours only: command line mentions $BENCH_TMP, or root directory inside it.
containers_sweep() {
  local d pid root left=()
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    root=$(readlink "$d/root" 2>/dev/null) || root=
    if [[ $root == "$BENCH_TMP" || $root == "$BENCH_TMP"/* ]] || bench_owned "$pid"; then left+=("$pid"); fi
  done
  ((${#left[@]})) || return 0
  bench_log "killing ${#left[@]} leftover process(es) of this benchmark: ${left[*]}"
  kill -KILL "${left[@]}" 2>/dev/null || true
  sleep 0.5
}

containers_cleanup() {
  local rc=$? b
  trap - EXIT INT TERM HUP
  if [[ -n ${BENCH_TMP:-} && -d $BENCH_TMP ]]; then
    bench_stop_pids
    containers_sweep
    bench_umount_all
    if [[ -f $BENCH_TMP/bridges ]]; then
      while read -r b; do
        [[ $b =~ ^bb[dp][0-9a-f]{6}$ && -e /sys/class/net/$b ]] && ip link del "$b" 2>/dev/null || true
      done <"$BENCH_TMP/bridges"
    fi
  fi
  bench_cleanup
  return "$rc"
}

bench_ensure_dist
bench_mktemp berth-cbench
trap containers_cleanup EXIT
trap 'containers_cleanup; exit 130' INT
trap 'containers_cleanup; exit 143' TERM
trap 'containers_cleanup; exit 129' HUP
node "$BENCH_DIR/containers.mjs" --tmp "$BENCH_TMP" "$@"

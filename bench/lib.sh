# Shared helpers for the bench/*.sh scripts. Source it; do not run it.
#
# The scripts keep everything they create under one private temporary directory ($BENCH_TMP):
# daemon roots, sockets, logs, and a `pids` file listing every process they started. Cleanup
# only ever signals a PID from that file whose command line still mentions $BENCH_TMP, so a
# recycled PID or someone else's daemon is never touched.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)

bench_log() { printf '%s\n' "$*" >&2; }

# bench_mktemp PREFIX: create $BENCH_TMP (short path: unix socket paths are limited to 107 bytes).
bench_mktemp() {
  BENCH_TMP=$(mktemp -d "/tmp/${1:-berth-bench}.XXXXXX")
  : >"$BENCH_TMP/pids"
  export BENCH_TMP
}

# bench_owned PID: true when PID is alive and its command line mentions $BENCH_TMP.
bench_owned() {
  local pid=$1
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$BENCH_TMP"
}

# bench_stop_pids: SIGTERM every owned PID from $BENCH_TMP/pids (in the order listed: a daemon
# before the helpers it supervises, e.g. dockerd before its containerd),
# wait up to 20 s for each to exit, then SIGKILL what is left.
bench_stop_pids() {
  [[ -n ${BENCH_TMP:-} && -f $BENCH_TMP/pids ]] || return 0
  local pids pid i
  mapfile -t pids <"$BENCH_TMP/pids"
  for pid in "${pids[@]}"; do
    bench_owned "$pid" || continue
    kill -TERM "$pid" 2>/dev/null || continue
    for ((i = 0; i < 200; i++)); do bench_owned "$pid" || break; sleep 0.1; done
    if bench_owned "$pid"; then
      bench_log "pid $pid did not stop after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

# bench_umount_all: unmount everything mounted at or below $BENCH_TMP, deepest first.
bench_umount_all() {
  [[ -n ${BENCH_TMP:-} && -d $BENCH_TMP ]] || return 0
  local mp pass
  for pass in 1 2 3; do
    mapfile -t mps < <(awk -v root="$BENCH_TMP" '{ gsub(/\\040/, " ", $5); if ($5 == root || index($5, root "/") == 1) print $5 }' /proc/self/mountinfo | sort -r)
    ((${#mps[@]})) || return 0
    for mp in "${mps[@]}"; do umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true; done
  done
  mapfile -t mps < <(awk -v root="$BENCH_TMP" 'index($5, root) == 1 { print $5 }' /proc/self/mountinfo)
  ((${#mps[@]} == 0)) || bench_log "warning: still mounted: ${mps[*]}"
}

# bench_cleanup: stop our processes, unmount, remove $BENCH_TMP. Idempotent; meant for `trap`.
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n ${BENCH_TMP:-} && -d $BENCH_TMP ]]; then
    bench_stop_pids
    bench_umount_all
    if [[ -n ${BENCH_KEEP_TMP:-} ]]; then
      bench_log "kept $BENCH_TMP (BENCH_KEEP_TMP set)"
    else
      rm -rf --one-file-system -- "$BENCH_TMP" 2>/dev/null || rm -rf --one-file-system -- "$BENCH_TMP" || true
    fi
  fi
  return "$rc"
}

# bench_install_traps: cleanup on normal exit and on INT/TERM/HUP (then exit 128+signal).
bench_install_traps() {
  trap bench_cleanup EXIT
  trap 'bench_cleanup; exit 130' INT
  trap 'bench_cleanup; exit 143' TERM
  trap 'bench_cleanup; exit 129' HUP
}

# bench_ensure_dist: berthd runs from dist/; build it when missing.
bench_ensure_dist() {
  if [[ ! -f $REPO_ROOT/dist/src/daemon/main.js || -n ${BENCH_BUILD:-} ]]; then
    bench_log "building dist/ (npx tsc -b)"
    # tsc emits even when some other module has type errors; only a missing daemon is fatal.
    (cd "$REPO_ROOT" && npx tsc -b) >&2 || bench_log "warning: tsc -b reported errors (see above)"
  fi
  [[ -f $REPO_ROOT/dist/src/daemon/main.js ]] || { bench_log "error: dist/src/daemon/main.js missing after build"; return 1; }
}

# bench_start_berthd: start berthd on private roots under $BENCH_TMP; sets BERTHD_PID and
# BERTH_SOCK, appends the PID to $BENCH_TMP/pids, waits until /_ping answers (60 s at most).
bench_start_berthd() {
  mkdir -p "$BENCH_TMP/berth" "$BENCH_TMP/berth-exec"
  echo '{}' >"$BENCH_TMP/daemon.json"
  BERTH_SOCK=$BENCH_TMP/berth.sock
  "$REPO_ROOT/bin/berthd" --data-root "$BENCH_TMP/berth" --exec-root "$BENCH_TMP/berth-exec" \
    -H "unix://$BERTH_SOCK" --config-file "$BENCH_TMP/daemon.json" \
    </dev/null >"$BENCH_TMP/berthd.log" 2>&1 &
  BERTHD_PID=$!
  echo "$BERTHD_PID" >>"$BENCH_TMP/pids"
  local i
  for ((i = 0; i < 600; i++)); do
    if [[ -S $BERTH_SOCK ]] && curl -sf --unix-socket "$BERTH_SOCK" http://d/_ping >/dev/null 2>&1; then return 0; fi
    kill -0 "$BERTHD_PID" 2>/dev/null || break
    sleep 0.1
  done
  bench_log "error: berthd did not come up; its log:"
  sed 's/^/  berthd: /' "$BENCH_TMP/berthd.log" >&2
  return 1
}

# bench_docker_env: a clean docker CLI environment (no user config, contexts or TLS settings).
bench_docker_env() {
  mkdir -p "$BENCH_TMP/docker-cli"
  export DOCKER_CONFIG=$BENCH_TMP/docker-cli DOCKER_CLI_HINTS=false
  unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_API_VERSION
}

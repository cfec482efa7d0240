#!/usr/bin/env bash
# Build benchmark: a Dockerfile FROM busybox with 12 steps (ENV, WORKDIR, RUN, a COPY of a
# 2000-file directory, LABEL, CMD) built cold (fresh daemon, empty cache), then fully cached,
# then after one file of the 2000 changed. berthd vs dockerd's classic builder
# (DOCKER_BUILDKIT=0) vs `podman build`, each on private roots under one temp dir.
#   bench/build.sh [--runs N] [--engines berth,dockerd,podman] [--keep-tmp]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=3
ENGINES=berth,dockerd,podman
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --keep-tmp) export BENCH_KEEP_TMP=1; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) bench_log "unknown option $1"; exit 1 ;;
  esac
done
((EUID == 0)) || { bench_log "bench/build.sh needs root (it starts dockerd, berthd and rootful podman)"; exit 1; }
BUSYBOX=$REPO_ROOT/.cache/fixtures/busybox.tar
[[ -f $BUSYBOX ]] || { bench_log "missing $BUSYBOX"; exit 1; }

bench_ensure_dist
bench_mktemp berth-bbench
bench_install_traps
bench_docker_env

CTX=$BENCH_TMP/ctx
mkdir -p "$CTX/files"
for ((i = 0; i < 2000; i++)); do printf 'file %d\n' "$i" >"$CTX/files/f$i.txt"; done
echo small >"$CTX/small.txt"
cat >"$CTX/Dockerfile" <<'DF'
FROM busybox
ENV APP=/app MODE=bench
WORKDIR /app
RUN echo one > /one
COPY files/ /app/files/
RUN ls /app/files | wc -l > /count
ENV STEP=7
RUN echo two > /two
WORKDIR /app/sub
COPY small.txt ./
LABEL bench=1
CMD ["sh"]
DF

now() { date +%s.%N; }
# timed LABEL CMD...: run, print seconds, fail loudly.
timed() {
  local t0 t1
  t0=$(now)
  if ! "$@" >"$BENCH_TMP/last.out" 2>&1; then bench_log "failed: $*"; tail -20 "$BENCH_TMP/last.out" >&2; return 1; fi
  t1=$(now)
  echo "$t1 - $t0" | bc
}

start_dockerd() {
  local sock=$BENCH_TMP/docker.sock
  dockerd -H "unix://$sock" --data-root "$BENCH_TMP/docker" --exec-root "$BENCH_TMP/docker-exec" \
    --pidfile "$BENCH_TMP/docker.pid" --bridge=none --iptables=false --ip-masq=false \
    </dev/null >"$BENCH_TMP/dockerd.log" 2>&1 &
  echo $! >>"$BENCH_TMP/pids"
  local i
  for ((i = 0; i < 300; i++)); do
    [[ -S $sock ]] && docker -H "unix://$sock" version >/dev/null 2>&1 && { DOCKERD_SOCK=$sock; return 0; }
    sleep 0.1
  done
  bench_log "dockerd did not come up"; tail "$BENCH_TMP/dockerd.log" >&2; return 1
}

declare -A RESULT
run_engine() {
  local e=$1 build load r cold warm edit
  case $e in
    berth)
      bench_start_berthd
      load=(docker -H "unix://$BERTH_SOCK" load -i "$BUSYBOX")
      build=(env DOCKER_BUILDKIT=0 docker -H "unix://$BERTH_SOCK" build --network none -t bench:b "$CTX")
      nocache=(env DOCKER_BUILDKIT=0 docker -H "unix://$BERTH_SOCK" build --no-cache --network none -t bench:b "$CTX") ;;
    dockerd)
      start_dockerd
      load=(docker -H "unix://$DOCKERD_SOCK" load -i "$BUSYBOX")
      build=(env DOCKER_BUILDKIT=0 docker -H "unix://$DOCKERD_SOCK" build --network none -t bench:b "$CTX")
      nocache=(env DOCKER_BUILDKIT=0 docker -H "unix://$DOCKERD_SOCK" build --no-cache --network none -t bench:b "$CTX") ;;
    podman)
      command -v podman >/dev/null || { bench_log "podman not installed: skipped"; return 0; }
      local p=(podman --root "$BENCH_TMP/podman" --runroot "$BENCH_TMP/podman-run" --storage-driver overlay)
      load=("${p[@]}" load -i "$BUSYBOX")
      build=("${p[@]}" build --layers --network none -t bench:b "$CTX")
      nocache=("${p[@]}" build --layers --no-cache --network none -t bench:b "$CTX") ;;
  esac
  "${load[@]}" >/dev/null
  cold=$(timed "${build[@]}")
  local warms=() edits=() nocaches=()
  for ((r = 0; r < RUNS; r++)); do
    warms+=("$(timed "${build[@]}")")
    grep -q "Using cache" "$BENCH_TMP/last.out" || [[ $e == podman ]] || bench_log "warning: $e cached build printed no 'Using cache'"
    printf 'edit %d\n' "$r" >"$CTX/files/f1999.txt"
    edits+=("$(timed "${build[@]}")")
    nocaches+=("$(timed "${nocache[@]}")")
  done
  RESULT[$e]="$cold $(printf '%s\n' "${warms[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p") $(printf '%s\n' "${edits[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p") $(printf '%s\n' "${nocaches[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")"
  printf 'edit 0\n' >"$CTX/files/f1999.txt"
}

IFS=, read -ra LIST <<<"$ENGINES"
for e in "${LIST[@]}"; do run_engine "$e"; done
bench_stop_pids

printf '\nbuild of a 12-step Dockerfile with a 2000-file COPY (seconds; cached/edit/no-cache: median of %d)\n' "$RUNS"
printf '%-16s %8s %8s %8s %9s\n' engine cold cached edit no-cache
for e in "${LIST[@]}"; do
  [[ -n ${RESULT[$e]:-} ]] || continue
  read -r c w ed nc <<<"${RESULT[$e]}"
  printf '%-16s %8.2f %8.2f %8.2f %9.2f\n' "$e" "$c" "$w" "$ed" "$nc"
done
# Ratios: berth's time over the other engine's (below 1: berth is faster).
if [[ -n ${RESULT[berth]:-} ]]; then
  read -r bc bw be bn <<<"${RESULT[berth]}"
  for e in "${LIST[@]}"; do
    [[ $e != berth && -n ${RESULT[$e]:-} ]] || continue
    read -r c w ed nc <<<"${RESULT[$e]}"
    printf '%-16s %8.2f %8.2f %8.2f %9.2f\n' "berth/$e" "$(echo "$bc / $c" | bc -l)" "$(echo "$bw / $w" | bc -l)" "$(echo "$be / $ed" | bc -l)" "$(echo "$bn / $nc" | bc -l)"
  done
fi
printf 'machine: load average %s (%s CPUs); the figures are wall times of one shared machine: compare engines within a run\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
mkdir -p "$BENCH_DIR/results"
out=$BENCH_DIR/results/build-$(date -u +%Y-%m-%dT%H-%M-%S).txt
{ for e in "${LIST[@]}"; do [[ -n ${RESULT[$e]:-} ]] && echo "$e ${RESULT[$e]}"; done; } >"$out"
bench_log "results: $out"

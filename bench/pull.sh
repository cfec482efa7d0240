#!/usr/bin/env bash
# Pull benchmark: the ~212 MB, 7-layer bench image (.cache/fixtures/bench-big.tar, made by
# scripts/make-fixtures.ts) pulled from a loopback docker-registry (Debian's, distribution 2.8)
# by berthd, dockerd and podman, side by side.
#   bench/pull.sh [--runs N] [--engines berth,dockerd,podman] [--keep-tmp]
# Each run removes the image, then times one pull (wall clock, CLI start to exit). MB/s is the
# compressed bytes of the layers (what crosses the wire) over the median time. The `skopeo`
# row (when skopeo is installed) copies the image to a plain directory, with no decompression
# and no extraction: the wire floor of this machine in the same run.
# Everything lives under a private temp dir; cleanup stops only the processes started here (by PID).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=3
ENGINES=berth,dockerd,podman
command -v skopeo >/dev/null && ENGINES=$ENGINES,skopeo
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --keep-tmp) export BENCH_KEEP_TMP=1; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) bench_log "unknown option: $1"; exit 2 ;;
  esac
done
((EUID == 0)) || { bench_log "bench/pull.sh needs root (it starts dockerd, berthd and rootful podman)"; exit 1; }
command -v docker-registry >/dev/null || { bench_log "docker-registry missing: apt-get install -y docker-registry"; exit 1; }
FIXTURE=$REPO_ROOT/.cache/fixtures/bench-big.tar
[[ -f $FIXTURE ]] || { bench_log "missing $FIXTURE (node dist/scripts/make-fixtures.js)"; exit 1; }

bench_ensure_dist
bench_mktemp berth-bench-pull
bench_install_traps
bench_docker_env

# ---- the registry
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
mkdir -p "$BENCH_TMP/registry"
cat >"$BENCH_TMP/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $BENCH_TMP/registry
http:
  addr: 127.0.0.1:$PORT
EOF
docker-registry serve "$BENCH_TMP/registry.yml" </dev/null >"$BENCH_TMP/registry.log" 2>&1 &
echo $! >>"$BENCH_TMP/pids"
for ((i = 0; i < 100; i++)); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
REF=127.0.0.1:$PORT/bench/big:1

# ---- push the fixture once (through berthd)
bench_start_berthd
export DOCKER_HOST=unix://$BERTH_SOCK
loaded=$(docker load -i "$FIXTURE" | sed -n 's/^Loaded image: //p' | head -1)
[[ -n $loaded ]] || { bench_log "could not load $FIXTURE"; exit 1; }
docker tag "$loaded" "$REF"
docker push -q "$REF" >/dev/null
docker rmi "$REF" "$loaded" >/dev/null
WIRE_BYTES=$(curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://127.0.0.1:$PORT/v2/bench/big/manifests/1" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const m=JSON.parse(s);console.log(m.layers.reduce((n,l)=>n+l.size,0))})')
bench_log "bench image: $REF, $(node -e "console.log((${WIRE_BYTES}/1e6).toFixed(1))") MB of layers on the wire"

# ---- engines
start_dockerd() {
  local t=$BENCH_TMP
  echo '{}' >"$t/docker-daemon.json"
  dockerd -H "unix://$t/docker.sock" --data-root "$t/docker" --exec-root "$t/docker-exec" --pidfile "$t/docker.pid" \
    --config-file "$t/docker-daemon.json" --bridge=none --iptables=false --ip-masq=false --storage-driver=overlay2 \
    </dev/null >"$t/dockerd.log" 2>&1 &
  local pid=$!
  echo "$pid" >>"$t/pids"
  for ((i = 0; i < 300; i++)); do
    curl -sf --unix-socket "$t/docker.sock" http://d/_ping >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { bench_log "dockerd died: $(tail -5 "$t/dockerd.log")"; return 1; }
    sleep 0.1
  done
  local c
  for c in $(ps -o pid= --ppid "$pid"); do echo "$c" >>"$t/pids"; done
}

PODMAN_BASE=()
setup_podman() {
  local p=$BENCH_TMP/podman
  mkdir -p "$p/root" "$p/run" "$p/tmp"
  printf '[engine]\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n' >"$p/containers.conf"
  printf 'unqualified-search-registries = []\n' >"$p/registries.conf"
  [[ -f $DOCKER_CONFIG/config.json ]] || echo '{}' >"$DOCKER_CONFIG/config.json" # podman reads auth from it
  export CONTAINERS_CONF=$p/containers.conf CONTAINERS_REGISTRIES_CONF=$p/registries.conf
  PODMAN_BASE=(--root "$p/root" --runroot "$p/run" --tmpdir "$p/tmp" --storage-driver overlay --cgroup-manager cgroupfs --events-backend file)
}

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A RESULT
for engine in ${ENGINES//,/ }; do
  times=()
  case $engine in
    berth)
      export DOCKER_HOST=unix://$BERTH_SOCK ;;
    dockerd)
      command -v dockerd >/dev/null || { bench_log "dockerd: skipped (not installed)"; continue; }
      start_dockerd || continue
      export DOCKER_HOST=unix://$BENCH_TMP/docker.sock ;;
    podman)
      command -v podman >/dev/null || { bench_log "podman: skipped (not installed)"; continue; }
      setup_podman ;;
    skopeo)
      command -v skopeo >/dev/null || { bench_log "skopeo: skipped (not installed)"; continue; } ;;
  esac
  for ((r = 1; r <= RUNS; r++)); do
    if [[ $engine == skopeo ]]; then
      rm -rf "$BENCH_TMP/skopeo-dir"; mkdir -p "$BENCH_TMP/skopeo-dir"
      sync; sleep 1
      t0=$(now); skopeo copy -q --src-tls-verify=false "docker://$REF" "dir:$BENCH_TMP/skopeo-dir" >/dev/null; t1=$(now)
    elif [[ $engine == podman ]]; then
      podman "${PODMAN_BASE[@]}" rmi -f "$REF" >/dev/null 2>&1 || true
      sync; sleep 1
      t0=$(now); podman "${PODMAN_BASE[@]}" pull -q --tls-verify=false "$REF" >/dev/null; t1=$(now)
    else
      docker rmi -f "$REF" >/dev/null 2>&1 || true
      sync; sleep 2 # berthd deletes layers in the background: let it finish before timing
      t0=$(now); docker pull -q "$REF" >/dev/null; t1=$(now)
    fi
    times+=("$(echo "$t1 - $t0" | bc -l)")
    bench_log "$engine run $r: ${times[-1]} s"
  done
  RESULT[$engine]=$(printf '%s\n' "${times[@]}" | median)
done

printf '\npull of %s (%.1f MB compressed, 7 layers), median of %d runs\n' "$REF" "$(echo "$WIRE_BYTES / 1000000" | bc -l)" "$RUNS"
printf '%-8s %10s %10s %12s\n' engine seconds MB/s berth/this
for engine in ${ENGINES//,/ }; do
  [[ -n ${RESULT[$engine]:-} ]] || continue
  ratio=-
  [[ -n ${RESULT[berth]:-} ]] && ratio=$(printf '%.2f' "$(echo "${RESULT[berth]} / ${RESULT[$engine]}" | bc -l)")
  printf '%-8s %10.2f %10.1f %12s\n' "$engine" "${RESULT[$engine]}" "$(echo "$WIRE_BYTES / 1000000 / ${RESULT[$engine]}" | bc -l)" "$ratio"
done
[[ -n ${RESULT[skopeo]:-} ]] && echo "skopeo: copy to a directory (no decompression, no extraction): the wire floor"
if [[ -n ${BERTH_SOCK:-} && -f $BENCH_TMP/berthd.log ]]; then
  # Where berthd's time went, per layer (its log): streaming (download, digest, decompress) and
  # the part of it spent waiting for tar to take the bytes (extraction).
  grep -o 'pull [0-9a-f]\{12\}: .*' "$BENCH_TMP/berthd.log" | tail -7 | sed 's/"$//; s/^/  berthd: /' || true
fi

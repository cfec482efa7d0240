#!/usr/bin/env bash
# Compose benchmark: a generated 20-service project (three dependency levels gated by
# service_healthy, two networks, five named volumes, busybox present): `up -d --wait` until
# every container is healthy, a no-change `up -d`, and `down`; berth compose vs Debian's
# docker-compose 1.29, each against a private berthd and a private Debian dockerd (when
# installed), side by side in one run.
#   bench/compose.sh [--runs N] [--engines berth,dockerd] [--tools berth,dc1] [--keep-tmp]
# docker-compose 1.29 has no --wait and no start_interval: it runs `up -d` and the script polls
# until all are healthy, on a file whose healthcheck interval equals berth's start_interval.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=3
ENGINES=berth,dockerd
TOOLS=berth,dc1
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --tools) TOOLS=$2; shift 2 ;;
    --keep-tmp) export BENCH_KEEP_TMP=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) bench_log "unknown option $1"; exit 1 ;;
  esac
done
((EUID == 0)) || { bench_log "bench/compose.sh needs root (it starts berthd and dockerd)"; exit 1; }
BUSYBOX=$REPO_ROOT/.cache/fixtures/busybox.tar
[[ -f $BUSYBOX ]] || { bench_log "missing $BUSYBOX (node dist/scripts/make-fixtures.js)"; exit 1; }

bench_ensure_dist
bench_mktemp berth-cbench
bench_install_traps
bench_docker_env

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

# The project: level 1 (5 services, healthy first), level 2 (8, each gated on a level-1
# service), level 3 (7, gated on a level-2 service); front/back networks; five volumes.
gen_project() {
  local dir=$1 variant=$2 i hc
  mkdir -p "$dir"
  if [[ $variant == berth ]]; then
    hc='    healthcheck: {test: ["CMD", "test", "-e", "/tmp"], interval: 30s, start_period: 30s, start_interval: 100ms}'
  else
    hc='    healthcheck: {test: ["CMD", "test", "-e", "/tmp"], interval: 100ms, start_period: 30s}'
  fi
  {
    echo 'services:'
    for i in $(seq 1 20); do
      echo "  s$i:"
      echo '    image: busybox:latest'
      echo '    command: ["sleep", "3600"]'
      echo '    stop_signal: SIGKILL'
      echo "$hc"
      if ((i <= 5)); then echo '    networks: [front, back]'; else echo '    networks: [back]'; fi
      echo "    volumes: [\"v$(((i - 1) % 5 + 1)):/data\"]"
      if ((i > 5 && i <= 13)); then echo "    depends_on: {s$(((i - 6) % 5 + 1)): {condition: service_healthy}}"; fi
      if ((i > 13)); then echo "    depends_on: {s$(((i - 14) % 8 + 6)): {condition: service_healthy}}"; fi
    done
    echo 'networks: {front: {}, back: {}}'
    echo 'volumes: {v1: {}, v2: {}, v3: {}, v4: {}, v5: {}}'
  } >"$dir/compose.yaml"
}

all_healthy() {
  local host=$1 project=$2 n
  n=$(docker -H "$host" ps --filter "label=com.docker.compose.project=$project" --filter health=healthy -q | wc -l)
  [[ $n -eq 20 ]]
}

start_dockerd() {
  local sock=$BENCH_TMP/docker.sock
  command -v dockerd >/dev/null || { bench_log "dockerd not installed (apt-get install docker.io): skipping dockerd"; return 1; }
  dockerd -H "unix://$sock" --data-root "$BENCH_TMP/docker" --exec-root "$BENCH_TMP/docker-exec" \
    --pidfile "$BENCH_TMP/docker.pid" --bridge=none --iptables=false --ip-masq=false \
    </dev/null >"$BENCH_TMP/dockerd.log" 2>&1 &
  echo $! >>"$BENCH_TMP/pids"
  local i
  for ((i = 0; i < 300; i++)); do
    [[ -S $sock ]] && docker -H "unix://$sock" version >/dev/null 2>&1 && { DOCKERD_HOST=unix://$sock; return 0; }
    sleep 0.1
  done
  bench_log "dockerd did not come up:"; tail "$BENCH_TMP/dockerd.log" >&2; return 1
}

declare -A RESULT
# run_tool ENGINE HOST TOOL: RUNS rounds of up --wait / no-change up / down; the median of each.
run_tool() {
  local engine=$1 host=$2 tool=$3
  local dir=$BENCH_TMP/proj-$tool r t0 ups=() nochg=() downs=()
  # start_interval needs API 1.44 (Docker 25); an older engine (Debian's dockerd 20.10) ignores it,
  # so there both tools get the file whose interval is the start interval.
  local api variant=v1
  api=$(docker -H "$host" version --format '{{.Server.APIVersion}}' 2>/dev/null || echo 0)
  if [[ $tool == berth ]] && printf '%s\n1.44\n' "$api" | sort -V -C -r 2>/dev/null; then variant=berth; fi
  [[ $tool == berth && $variant == v1 ]] && bench_log "note: $engine speaks API $api (< 1.44, no start_interval): berth compose runs the interval: 100ms file too"
  gen_project "$dir" "$variant"
  local project=cbench$tool
  for ((r = 0; r < RUNS; r++)); do
    if [[ $tool == berth ]]; then
      t0=$(now)
      (cd "$dir" && DOCKER_HOST=$host "$REPO_ROOT/bin/berth" compose -p "$project" up -d --wait) >"$BENCH_TMP/out" 2>&1 || { cat "$BENCH_TMP/out" >&2; return 1; }
      ups+=("$(elapsed "$t0")")
      t0=$(now)
      (cd "$dir" && DOCKER_HOST=$host "$REPO_ROOT/bin/berth" compose -p "$project" up -d) >"$BENCH_TMP/out" 2>&1 || { cat "$BENCH_TMP/out" >&2; return 1; }
      nochg+=("$(elapsed "$t0")")
      grep -qE 'Creat|Recreat|Start' "$BENCH_TMP/out" && bench_log "warning: the no-change up of berth compose changed something"
      t0=$(now)
      (cd "$dir" && DOCKER_HOST=$host "$REPO_ROOT/bin/berth" compose -p "$project" down -v -t 0) >"$BENCH_TMP/out" 2>&1 || { cat "$BENCH_TMP/out" >&2; return 1; }
      downs+=("$(elapsed "$t0")")
    else
      t0=$(now)
      (cd "$dir" && DOCKER_HOST=$host docker-compose -p "$project" up -d) >"$BENCH_TMP/out" 2>&1 || { cat "$BENCH_TMP/out" >&2; return 1; }
      until all_healthy "$host" "$project"; do sleep 0.05; done
      ups+=("$(elapsed "$t0")")
      t0=$(now)
      (cd "$dir" && DOCKER_HOST=$host docker-compose -p "$project" up -d) >"$BENCH_TMP/out" 2>&1 || { cat "$BENCH_TMP/out" >&2; return 1; }
      nochg+=("$(elapsed "$t0")")
      t0=$(now)
      (cd "$dir" && DOCKER_HOST=$host docker-compose -p "$project" down -v -t 0) >"$BENCH_TMP/out" 2>&1 || { cat "$BENCH_TMP/out" >&2; return 1; }
      downs+=("$(elapsed "$t0")")
    fi
  done
  RESULT[$engine/$tool/up]=$(printf '%s\n' "${ups[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
  RESULT[$engine/$tool/nochange]=$(printf '%s\n' "${nochg[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
  RESULT[$engine/$tool/down]=$(printf '%s\n' "${downs[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
}

IFS=, read -ra engines <<<"$ENGINES"
IFS=, read -ra tools <<<"$TOOLS"
done_engines=()
for e in "${engines[@]}"; do
  case $e in
    berth) bench_start_berthd || exit 1; host=unix://$BERTH_SOCK ;;
    dockerd) start_dockerd || continue; host=$DOCKERD_HOST ;;
    *) bench_log "unknown engine $e"; exit 1 ;;
  esac
  docker -H "$host" load -i "$BUSYBOX" >/dev/null
  for t in "${tools[@]}"; do
    case $t in
      berth) ;;
      dc1) command -v docker-compose >/dev/null || { bench_log "docker-compose 1.29 not installed (apt-get install docker-compose): skipping"; continue; } ;;
      *) bench_log "unknown tool $t"; exit 1 ;;
    esac
    bench_log "== $t on $e ($RUNS runs)"
    run_tool "$e" "$host" "$t" || bench_log "error: $t on $e failed"
  done
  done_engines+=("$e")
done

printf '\n%-10s %-16s %14s %14s %10s\n' engine tool 'up -d --wait' 'no-change up' down
for e in "${done_engines[@]}"; do
  for t in "${tools[@]}"; do
    [[ -n ${RESULT[$e/$t/up]:-} ]] || continue
    name=$([[ $t == berth ]] && echo 'berth compose' || echo 'docker-compose 1.29')
    printf '%-10s %-16s %13.3fs %13.3fs %9.3fs\n' "$e" "$name" "${RESULT[$e/$t/up]}" "${RESULT[$e/$t/nochange]}" "${RESULT[$e/$t/down]}"
  done
  if [[ -n ${RESULT[$e/berth/up]:-} && -n ${RESULT[$e/dc1/up]:-} ]]; then
    printf '%-10s %-16s %13.1fx %13.1fx %9.1fx\n' "$e" 'speed-up' "$(echo "${RESULT[$e/dc1/up]} / ${RESULT[$e/berth/up]}" | bc -l)" "$(echo "${RESULT[$e/dc1/nochange]} / ${RESULT[$e/berth/nochange]}" | bc -l)" "$(echo "${RESULT[$e/dc1/down]} / ${RESULT[$e/berth/down]}" | bc -l)"
  fi
done

#!/usr/bin/env bash
# Swarm benchmark: three "hosts" = three network namespaces on a private bridge, one daemon each
# (berthd, or Debian's dockerd), driven by the docker CLI. Times `swarm init`, a worker join, a
# manager join, all nodes Ready, then with BENCH_SWARM_SERVICES=1 the service figures (see below),
# and the leaves. Everything lives under one temp dir; cleanup stops only
# the PIDs it started (daemons, then their etcd/containerd children) and deletes the netns/bridge.
#   [BENCH_SWARM_SERVICES=1] [BERTH_FIXTURES=dir] bench/swarm.sh [--runs N] [--engines berth,dockerd] [--keep-tmp]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=1
ENGINES=berth,dockerd
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --keep-tmp) export BENCH_KEEP_TMP=1; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) bench_log "unknown option $1"; exit 1 ;;
  esac
done
((EUID == 0)) || { bench_log "bench/swarm.sh needs root (network namespaces)"; exit 1; }

bench_ensure_dist
bench_mktemp bsw
bench_docker_env

TAG=$(printf '%04x' $((RANDOM)))
BR=bsb$TAG
X=''
for _ in $(seq 50); do
  c=$((1 + RANDOM % 250))
  if ! ip -4 route show table all | grep -q "10\.198\.$c\." && ! ip -4 addr | grep -q "10\.198\.$c\."; then X=$c; break; fi
done
[[ -n $X ]] || { bench_log "no free 10.198.x.0/24"; exit 1; }

lab_down() {
  local i
  for i in 1 2 3; do ip netns del "bsb$TAG-$i" 2>/dev/null || true; done
  # berthd's own namespaces (containers', overlays') are named after its tag: sha256 of its data root.
  local d t ns
  for d in "$BENCH_TMP"/berth-*/data; do
    [[ -d $d ]] || continue
    t=$(printf %s "$d" | sha256sum | cut -c1-6)
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^(ov|berth)-$t-"); do ip netns del "$ns" 2>/dev/null || true; done
  done
  iptables -D FORWARD -i "$BR" -o "$BR" -j ACCEPT 2>/dev/null || true
  ip link del "$BR" 2>/dev/null || true
}
# Children the daemons started detached (berthd's etcd members) join the PID list before cleanup.
collect_children() {
  local f
  for f in "$BENCH_TMP"/*/data/swarm/etcd/etcd.pid; do
    if [[ -f $f ]]; then cat "$f" >>"$BENCH_TMP/pids"; fi
  done
  # A daemon killed mid-run leaves its helpers (dockerd's containerd and shims, berthd's conmons):
  # every process whose command line names this run's temp dir is ours.
  pgrep -f -- "$BENCH_TMP/" >>"$BENCH_TMP/pids" || true
  return 0
}
on_exit() { set +e; collect_children; bench_stop_pids; lab_down; bench_cleanup; }
trap on_exit EXIT
trap 'on_exit; exit 130' INT
trap 'on_exit; exit 143' TERM

ip link add "$BR" type bridge
ip addr add "10.198.$X.254/24" dev "$BR"
ip link set "$BR" up
iptables -I FORWARD -i "$BR" -o "$BR" -j ACCEPT
for i in 1 2 3; do
  ns=bsb$TAG-$i
  ip netns add "$ns"
  ip link add "bsb${TAG}h$i" type veth peer name "bsb${TAG}n$i"
  ip link set "bsb${TAG}n$i" netns "$ns"
  ip link set "bsb${TAG}h$i" master "$BR" up
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "bsb${TAG}n$i" name eth0
  ip -n "$ns" addr add "10.198.$X.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
done
ip_of() { echo "10.198.$X.$1"; }

# start_host ENGINE I: a daemon in netns I with its own roots and hostname; sets SOCK[I].
declare -A SOCK PID
start_host() {
  local engine=$1 i=$2 root=$BENCH_TMP/$1-$2 ns=bsb$TAG-$2
  mkdir -p "$root"
  SOCK[$i]=$root/sock
  echo '{}' >"$root/daemon.json"
  case $engine in
    berth)
      nsenter --net="/run/netns/$ns" unshare --uts sh -c "hostname bench$i && exec \"\$0\" \"\$@\"" "$REPO_ROOT/bin/berthd" \
        --data-root "$root/data" --exec-root "$root/exec" -H "unix://${SOCK[$i]}" --config-file "$root/daemon.json" \
        </dev/null >"$root/log" 2>&1 & ;;
    dockerd)
      nsenter --net="/run/netns/$ns" unshare --uts sh -c "hostname bench$i && exec \"\$0\" \"\$@\"" dockerd \
        --data-root "$root/data" --exec-root "$root/exec" -H "unix://${SOCK[$i]}" --pidfile "$root/dockerd.pid" \
        --config-file "$root/daemon.json" </dev/null >"$root/log" 2>&1 & ;;
  esac
  PID[$i]=$!
  echo $! >>"$BENCH_TMP/pids"
  local n
  for ((n = 0; n < 600; n++)); do
    curl -sf --unix-socket "${SOCK[$i]}" http://d/_ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  bench_log "$engine on host $i did not come up:"; tail "$root/log" >&2; return 1
}
d() { local i=$1; shift; docker -H "unix://${SOCK[$i]}" "$@"; }
# wait_until WHAT CMD...: poll CMD every 0.1 s, at most 120 s.
wait_until() {
  local what=$1 n; shift
  for ((n = 0; n < 1200; n++)); do "$@" && return 0; sleep 0.1; done
  bench_log "timed out: $what"; return 1
}
all_ready() { [[ $(d 1 node ls --format '{{.Status}}' 2>/dev/null | grep -c Ready) == 3 ]]; }
# replicas_are HOST SERVICE N/M
replicas_are() { [[ $(d "$1" service ls --filter "name=$2" --format '{{.Replicas}}' 2>/dev/null) == "$3" ]]; }
# running_off HOST SERVICE NODE N: N tasks running, none on NODE
running_off() {
  local out
  out=$(d "$1" service ps "$2" --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' 2>/dev/null) || return 1
  [[ $(grep -c '^.* Running' <<<"$out") == "$4" ]] && ! grep -q "^$3 Running" <<<"$out"
}
managers_reachable() { [[ $(d 1 node ls --filter role=manager --format '{{.ManagerStatus}}' 2>/dev/null | grep -cE 'Leader|Reachable') == "$1" ]]; }
# create_after: one try of a service create on host 3 (5 s at most), quiet.
create_after() { timeout 5 docker -H "unix://${SOCK[3]}" service create -q --detach --no-resolve-image --replicas 2 --name benchafter busybox sleep 1d >/dev/null 2>&1 || timeout 5 docker -H "unix://${SOCK[3]}" service inspect benchafter >/dev/null 2>&1; }
no_containers() { [[ -z $(d "$1" ps -aq 2>/dev/null) ]]; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

run_engine() {
  local engine=$1 t
  for i in 1 2 3; do start_host "$engine" "$i"; done
  t=$(now); d 1 swarm init --advertise-addr "$(ip_of 1)" >/dev/null; printf '%s init %s\n' "$engine" "$(since "$t")"
  local wt mt
  wt=$(d 1 swarm join-token -q worker); mt=$(d 1 swarm join-token -q manager)
  t=$(now); d 2 swarm join --token "$wt" "$(ip_of 1):2377" >/dev/null; printf '%s join-worker %s\n' "$engine" "$(since "$t")"
  t=$(now); d 3 swarm join --token "$mt" "$(ip_of 1):2377" >/dev/null; printf '%s join-manager %s\n' "$engine" "$(since "$t")"
  t=$(now)
  wait_until 'all nodes ready' all_ready
  printf '%s all-ready %s\n' "$engine" "$(since "$t")"
  # Services (BENCH_SWARM_SERVICES=1): the busybox fixture on every host, then
  #   create-1-running: one replica from `service create` to 1/1 running;
  #   converge-30: a 30-replica service to 30/30;
  #   reschedule: SIGKILL host 2's daemon (a worker) until 30 tasks run on hosts 1 and 3;
  #   leader-loss-write: host 2 back and promoted (three managers), SIGKILL the leader (host 1)
  #     until a `service create` on host 3 succeeds; leader-loss-converge: that service 2/2.
  if [[ -n ${BENCH_SWARM_SERVICES:-} ]]; then
    for i in 1 2 3; do d "$i" load -q -i "${BERTH_FIXTURES:-$REPO_ROOT/.cache/fixtures}/busybox.tar" >/dev/null; done
    t=$(now)
    d 1 service create -q --detach --no-resolve-image --name benchone busybox sleep 1d >/dev/null
    wait_until 'service 1/1' replicas_are 1 benchone 1/1
    printf '%s create-1-running %s\n' "$engine" "$(since "$t")"
    d 1 service rm benchone >/dev/null
    t=$(now)
    d 1 service create -q --detach --no-resolve-image --replicas 30 --name benchweb busybox sleep 1d >/dev/null
    wait_until 'service 30/30' replicas_are 1 benchweb 30/30
    printf '%s converge-30 %s\n' "$engine" "$(since "$t")"
    t=$(now); kill -KILL "${PID[2]}"
    wait_until '30 tasks off host 2' running_off 1 benchweb bench2 30
    printf '%s reschedule %s\n' "$engine" "$(since "$t")"
    start_host "$engine" 2
    wait_until 'all nodes ready' all_ready
    d 1 node promote bench2 >/dev/null
    wait_until 'three reachable managers' managers_reachable 3
    t=$(now); kill -KILL "${PID[1]}"
    wait_until 'service create on host 3' create_after
    printf '%s leader-loss-write %s\n' "$engine" "$(since "$t")"
    wait_until 'benchafter 2/2' replicas_are 3 benchafter 2/2
    printf '%s leader-loss-converge %s\n' "$engine" "$(since "$t")"
    start_host "$engine" 1
    wait_until 'all nodes ready' all_ready
    for s in benchweb benchafter; do d 3 service rm "$s" >/dev/null; done
    for i in 1 2 3; do wait_until "no containers on host $i" no_containers "$i"; done
  fi
  t=$(now); d 2 swarm leave --force >/dev/null; d 3 swarm leave --force >/dev/null; d 1 swarm leave --force >/dev/null
  printf '%s leave-all %s\n' "$engine" "$(since "$t")"
  collect_children
  bench_stop_pids
  : >"$BENCH_TMP/pids"
}

IFS=, read -ra engines <<<"$ENGINES"
for ((r = 1; r <= RUNS; r++)); do
  for e in "${engines[@]}"; do
    case $e in
      berth) run_engine berth ;;
      dockerd) if command -v dockerd >/dev/null; then run_engine dockerd; else bench_log "dockerd not installed: skipped"; fi ;;
      *) bench_log "unknown engine $e"; exit 1 ;;
    esac
  done
done

#!/usr/bin/env bash
# Network benchmark (berthd): wall time of `docker run --rm busybox true` with --network none,
# the default bridge, the default bridge with -p, and a user-defined network; the difference to
# `none` is the cost of the network set-up and tear-down per container. Then the request latency
# of a published port (DNAT, no userland proxy) against the container's address directly.
#   bench/network.sh [RUNS]   (default 20)
# Starts its own berthd on private roots; everything it creates is removed at exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS=${1:-20}
((EUID == 0)) || { bench_log "bench/network.sh needs root"; exit 1; }
bench_mktemp berth-netbench
bench_install_traps
bench_ensure_dist
bench_start_berthd
bench_docker_env
export DOCKER_HOST=unix://$BERTH_SOCK
fixture=${BERTH_FIXTURES:-$REPO_ROOT/.cache/fixtures}/busybox.tar
docker load -i "$fixture" >/dev/null
docker network create benchnet >/dev/null
trap 'docker rm -f benchweb >/dev/null 2>&1 || true; docker network rm benchnet >/dev/null 2>&1 || true; bench_cleanup' EXIT

now_ms() { date +%s%3N; }
# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

measure() {
  local label=$1; shift
  local i t0 t1 times=()
  docker run --rm "$@" busybox true >/dev/null # warm-up
  for ((i = 0; i < RUNS; i++)); do
    t0=$(now_ms); docker run --rm "$@" busybox true >/dev/null; t1=$(now_ms)
    times+=($((t1 - t0)))
  done
  printf '%s\n' "${times[@]}" | median
}

none=$(measure none --network none)
bridge=$(measure bridge)
published=$(measure bridge-p -p 127.0.0.1::80 -p 0.0.0.0::81/udp)
user=$(measure user --network benchnet)
printf '%-34s %8s %12s\n' 'run --rm busybox true' 'median' 'vs none'
printf '%-34s %6s ms %10s\n' '--network none' "$none" '-'
printf '%-34s %6s ms %+8s ms\n' 'default bridge' "$bridge" "$(awk "BEGIN{print $bridge-$none}")"
printf '%-34s %6s ms %+8s ms\n' 'default bridge, 2 published ports' "$published" "$(awk "BEGIN{print $published-$none}")"
printf '%-34s %6s ms %+8s ms\n' 'user-defined network' "$user" "$(awk "BEGIN{print $user-$none}")"

# Request latency: 200 sequential HTTP GETs through 127.0.0.1:<published> vs the container's address.
docker run -d --name benchweb -p 127.0.0.1::80 busybox httpd -f -p 80 -h /etc >/dev/null
port=$(docker port benchweb 80/tcp | head -1 | sed 's/.*://')
cip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' benchweb)
sleep 0.3
node -e '
const http = require("node:http")
const agent = new http.Agent({ keepAlive: false })
const get = (host, port) => new Promise((res, rej) => http.get({ host, port, path: "/hostname", agent }, (r) => { r.resume(); r.on("end", res) }).on("error", rej))
async function bench(host, port) { for (let i = 0; i < 20; i++) await get(host, port); const t = process.hrtime.bigint(); for (let i = 0; i < 200; i++) await get(host, port); return Number(process.hrtime.bigint() - t) / 1e6 / 200 }
;(async () => {
  const direct = await bench(process.argv[2], 80), dnat = await bench("127.0.0.1", Number(process.argv[1]))
  console.log(`HTTP GET, new connection each: container address ${direct.toFixed(3)} ms, 127.0.0.1 published (DNAT) ${dnat.toFixed(3)} ms, +${(dnat - direct).toFixed(3)} ms`)
})()' "$port" "$cip"

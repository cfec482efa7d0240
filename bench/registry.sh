#!/usr/bin/env bash
# Registry benchmark: `berth registry serve` against Debian's docker-registry (distribution 2.8),
# side by side in one run, both on loopback with their storage on the same disk (one temp dir).
#   bench/registry.sh [--runs N] [--small N] [--clients N] [--requests N] [--keep-tmp]
# Rows (median of N runs, wall clock; the registries take turns run by run):
#   push/pull of the ~212 MB bench image (.cache/fixtures/bench-big.tar) with skopeo
#   push/pull of the same image with the docker CLI through a private berthd
#   push/pull of an image of 200 x 1 MiB layers with skopeo (the small-blob row)
#   the same 200 x 1 MiB blobs pushed (POST then PUT) and pulled over plain HTTP, 8 parallel clients
#   50 concurrent clients fetching one manifest by tag over keep-alive: p50/p99 latency and req/s
# berth registry runs with its users and token auth (skopeo logs in as a user; the manifest
# clients send a bearer token from /token); docker-registry runs without auth. Access logs are
# off on both. Everything lives under a private temp dir; cleanup stops only processes started here.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=3
SMALL=200
CLIENTS=50
REQUESTS=5000
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --small) SMALL=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    --keep-tmp) export BENCH_KEEP_TMP=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) bench_log "unknown option: $1"; exit 2 ;;
  esac
done
command -v docker-registry >/dev/null || { bench_log "docker-registry missing: apt-get install -y docker-registry"; exit 1; }
command -v skopeo >/dev/null || { bench_log "skopeo missing: apt-get install -y skopeo"; exit 1; }
FIXTURE=$REPO_ROOT/.cache/fixtures/bench-big.tar
[[ -f $FIXTURE ]] || { bench_log "missing $FIXTURE (node dist/scripts/make-fixtures.js --big)"; exit 1; }
[[ -f $REPO_ROOT/dist/src/registry/serve.js ]] || (cd "$REPO_ROOT" && npx tsc -b && node scripts/bundle.mjs) >&2

bench_mktemp berth-bench-registry
bench_install_traps
export HOME=$BENCH_TMP # skopeo keeps no auth file of the user's
freeport() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() { for ((i = 0; i < 150; i++)); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; bench_log "no answer from $1"; return 1; }

# ---- docker-registry
DR_PORT=$(freeport)
mkdir -p "$BENCH_TMP/dr"
cat >"$BENCH_TMP/dr.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $BENCH_TMP/dr
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$DR_PORT
EOF
docker-registry serve "$BENCH_TMP/dr.yml" </dev/null >"$BENCH_TMP/dr.log" 2>&1 &
echo $! >>"$BENCH_TMP/pids"
wait_http "http://127.0.0.1:$DR_PORT/v2/"

# ---- berth registry
BR_PORT=$(freeport)
BERTH="node $REPO_ROOT/bin/berth"
echo bench-pw | $BERTH registry user add bench --password-stdin --data-root "$BENCH_TMP/br"
cat >"$BENCH_TMP/br.yml" <<EOF
log:
  level: warn
  access: false
EOF
$BERTH registry serve --listen "127.0.0.1:$BR_PORT" --data-root "$BENCH_TMP/br" --config "$BENCH_TMP/br.yml" </dev/null >"$BENCH_TMP/br.log" 2>&1 &
echo $! >>"$BENCH_TMP/pids"
wait_http "http://127.0.0.1:$BR_PORT/health"

declare -A HOST=([berth]=127.0.0.1:$BR_PORT [docker-registry]=127.0.0.1:$DR_PORT)
declare -A DEST_CREDS=([berth]="--dest-creds=bench:bench-pw" [docker-registry]="--dest-no-creds")
declare -A SRC_CREDS=([berth]="--src-creds=bench:bench-pw" [docker-registry]="--src-no-creds")
REGS="berth docker-registry"

# ---- the small-blob image: an OCI layout of $SMALL layers of 1 MiB of random bytes
node - "$BENCH_TMP/small" "$SMALL" <<'NODE'
const fs = require('fs'), path = require('path'), crypto = require('crypto')
const [dir, n] = [process.argv[2], Number(process.argv[3])]
fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true })
const put = (b) => { const h = crypto.createHash('sha256').update(b).digest('hex'); fs.writeFileSync(path.join(dir, 'blobs', 'sha256', h), b); return { digest: `sha256:${h}`, size: b.length } }
const layers = []
for (let i = 0; i < n; i++) layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(crypto.randomBytes(1 << 20)) })
const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })))
const manifest = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers })))
fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'small' } }] }))
NODE

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A R

# time_copy ROW REG SRC DST push|pull RUN: one timed skopeo copy, appended to T[ROW-KIND-REG].
declare -A T
time_copy() {
  local row=$1 reg=$2 src=$3 dst=$4 kind=$5 r=$6 t0 t1
  if [[ $kind == push ]]; then
    # A fresh repository each run, so no blob is already there (skopeo would skip it).
    local d=${dst/REPO/bench/$row-$r}
    # skopeo remembers where it saw each blob (as root in /var/lib/containers/cache, a cache
    # only skopeo writes) and would mount from the previous run's repository instead of pushing.
    rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb /var/lib/containers/cache/blob-info-cache-v1.sqlite "$HOME"/.local/share/containers/cache/blob-info-cache-v1.*
    sync; t0=$(now)
    skopeo copy -q --dest-tls-verify=false ${DEST_CREDS[$reg]} "$src" "$d" >/dev/null
    t1=$(now)
  else
    rm -rf "$BENCH_TMP/out"
    local s=${src/REPO/bench/$row-1}
    sync; t0=$(now)
    skopeo copy -q --src-tls-verify=false ${SRC_CREDS[$reg]} "$s" "dir:$BENCH_TMP/out" >/dev/null
    t1=$(now)
  fi
  local secs
  secs=$(echo "$t1 - $t0" | bc -l)
  T[$row-$kind-$reg]+="$secs "
  bench_log "$reg $row $kind run $r: $secs s"
}

# The two registries take turns, run by run, so a change of load on the machine hits both alike.
for ((r = 1; r <= RUNS; r++)); do
  for reg in $REGS; do time_copy big "$reg" "docker-archive:$FIXTURE" "docker://${HOST[$reg]}/REPO:1" push "$r"; done
  for reg in $REGS; do time_copy big "$reg" "docker://${HOST[$reg]}/REPO:1" "" pull "$r"; done
  for reg in $REGS; do time_copy small "$reg" "oci:$BENCH_TMP/small:small" "docker://${HOST[$reg]}/REPO:1" push "$r"; done
  for reg in $REGS; do time_copy small "$reg" "docker://${HOST[$reg]}/REPO:1" "" pull "$r"; done
done

# ---- the docker CLI through a private berthd (the engine is the registry client): push of the
# bench image to a fresh repository, then pull with no layer of it left locally.
bench_start_berthd
bench_docker_env
DH=unix://$BERTH_SOCK
IMG=$(docker -H "$DH" load -i "$FIXTURE" | sed -n 's/^Loaded image: //p' | head -1)
[[ -n $IMG ]] || { bench_log "could not load $FIXTURE into berthd"; exit 1; }
echo bench-pw | docker -H "$DH" login -u bench --password-stdin "${HOST[berth]}" >/dev/null
# A first push compresses the layers (berthd keeps the compressed blobs): done once to a
# throwaway docker-registry, so neither timed registry pays it nor can mount from it.
WARM_PORT=$(freeport)
sed -e "s|addr: 127.0.0.1:$DR_PORT|addr: 127.0.0.1:$WARM_PORT|" -e "s|rootdirectory: $BENCH_TMP/dr|rootdirectory: $BENCH_TMP/warm|" "$BENCH_TMP/dr.yml" >"$BENCH_TMP/warm.yml"
docker-registry serve "$BENCH_TMP/warm.yml" </dev/null >"$BENCH_TMP/warm.log" 2>&1 &
WARM_PID=$!
echo $WARM_PID >>"$BENCH_TMP/pids"
wait_http "http://127.0.0.1:$WARM_PORT/v2/"
docker -H "$DH" tag "$IMG" "127.0.0.1:$WARM_PORT/warm/up:1"
docker -H "$DH" push -q "127.0.0.1:$WARM_PORT/warm/up:1" >/dev/null
docker -H "$DH" rmi "127.0.0.1:$WARM_PORT/warm/up:1" >/dev/null
kill "$WARM_PID"
time_docker() {
  local reg=$1 r=$2 ref="${HOST[$1]}/bench/docker-$2:1" t0 t1 secs
  docker -H "$DH" tag "$IMG" "$ref"
  sync; t0=$(now)
  docker -H "$DH" push -q "$ref" >/dev/null
  t1=$(now); secs=$(echo "$t1 - $t0" | bc -l); T[docker-push-$reg]+="$secs "; bench_log "$reg docker push run $r: $secs s"
  # Every tag of the image goes, so the pull fetches every layer; the pulled image is the next source.
  docker -H "$DH" rmi "$ref" "$IMG" >/dev/null
  sync; sleep 1; t0=$(now)
  docker -H "$DH" pull -q "$ref" >/dev/null
  t1=$(now); secs=$(echo "$t1 - $t0" | bc -l); T[docker-pull-$reg]+="$secs "; bench_log "$reg docker pull run $r: $secs s"
  docker -H "$DH" tag "$ref" "$IMG"
  docker -H "$DH" rmi "$ref" >/dev/null
}
for ((r = 1; r <= RUNS; r++)); do
  for reg in $REGS; do time_docker "$reg" "$r"; done
done
for k in "${!T[@]}"; do R[$k]=$(printf '%s\n' ${T[$k]} | median); done

# ---- the same small blobs over plain HTTP (8 parallel clients), without skopeo's per-blob cost
raw_blobs() {
  local reg=$1 repo=$2 auth=$3
  node - "http://${HOST[$reg]}" "$repo" "$SMALL" "$auth" <<'NODE'
const http = require('http'), crypto = require('crypto')
const [base, repo, n, auth] = [process.argv[2], process.argv[3], Number(process.argv[4]), process.argv[5]]
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
const call = (method, url, body, extra = {}) => new Promise((resolve, reject) => {
  const headers = { ...extra, ...(auth ? { authorization: auth } : {}), ...(body ? { 'content-length': body.length, 'content-type': 'application/octet-stream' } : { 'content-length': 0 }) }
  const req = http.request(new URL(url, base), { method, agent, headers }, (res) => {
    const chunks = []
    res.on('data', (c) => chunks.push(c)).on('end', () => res.statusCode < 300 ? resolve({ res, body: Buffer.concat(chunks) }) : reject(new Error(`${method} ${url}: ${res.statusCode}`)))
  })
  req.on('error', reject)
  req.end(body)
})
const blobs = Array.from({ length: n }, () => crypto.randomBytes(1 << 20))
const digests = blobs.map((b) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`)
const pool = async (f) => { let i = 0; await Promise.all(Array.from({ length: 8 }, async () => { while (i < n) await f(i++) })) }
;(async () => {
  let t0 = Date.now()
  await pool(async (i) => {
    const { res } = await call('POST', `/v2/${repo}/blobs/uploads/`)
    const loc = res.headers.location
    await call('PUT', `${loc}${loc.includes('?') ? '&' : '?'}digest=${digests[i]}`, blobs[i])
  })
  const push = (Date.now() - t0) / 1000
  t0 = Date.now()
  await pool(async (i) => { const { body } = await call('GET', `/v2/${repo}/blobs/${digests[i]}`); if (body.length !== 1 << 20) throw new Error('short blob') })
  console.log(`${push} ${(Date.now() - t0) / 1000}`)
  agent.destroy()
})().catch((e) => { console.error(e.message); process.exit(1) })
NODE
}
declare -A RP RQ
for ((r = 1; r <= RUNS; r++)); do
  for reg in $REGS; do
    auth=""
    if [[ $reg == berth ]]; then
      t=$(curl -sf -u bench:bench-pw "http://${HOST[berth]}/token?service=berth-registry&scope=repository:bench/raw-$r:pull,push" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))')
      auth="Bearer $t"
    fi
    sync
    read -r p q <<<"$(raw_blobs "$reg" "bench/raw-$r" "$auth")"
    bench_log "$reg raw small blobs run $r: push $p s, pull $q s"
    RP[$reg]+="$p " RQ[$reg]+="$q "
  done
done
for reg in $REGS; do
  R[raw-push-$reg]=$(printf '%s\n' ${RP[$reg]} | median)
  R[raw-pull-$reg]=$(printf '%s\n' ${RQ[$reg]} | median)
done

# ---- concurrent manifest fetches
manifest_load() {
  local reg=$1 auth=$2
  node - "http://${HOST[$reg]}/v2/bench/small-1/manifests/1" "$CLIENTS" "$REQUESTS" "$auth" <<'NODE'
const http = require('http')
const [url, clients, total, auth] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5]]
const agent = new http.Agent({ keepAlive: true, maxSockets: clients })
const headers = { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' }
if (auth) headers.authorization = auth
const one = () => new Promise((resolve, reject) => {
  const t0 = process.hrtime.bigint()
  http.get(url, { agent, headers }, (res) => {
    res.resume()
    res.on('end', () => res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`status ${res.statusCode}`)))
  }).on('error', reject)
})
;(async () => {
  for (let i = 0; i < clients; i++) await one() // warm the connections
  const lat = []
  let next = 0
  const t0 = Date.now()
  await Promise.all(Array.from({ length: clients }, async () => { while (next++ < total) lat.push(await one()) }))
  const secs = (Date.now() - t0) / 1000
  lat.sort((a, b) => a - b)
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]
  console.log(`${q(0.5).toFixed(2)} ${q(0.99).toFixed(2)} ${(lat.length / secs).toFixed(0)}`)
  agent.destroy()
})().catch((e) => { console.error(e.message); process.exit(1) })
NODE
}
TOKEN=$(curl -sf -u bench:bench-pw "http://${HOST[berth]}/token?service=berth-registry&scope=repository:bench/small-1:pull" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))')
declare -A BEST
for ((r = 1; r <= RUNS; r++)); do
  for reg in $REGS; do
    auth=""
    [[ $reg == berth ]] && auth="Bearer $TOKEN"
    out=$(manifest_load "$reg" "$auth")
    bench_log "$reg manifests run $r: p50/p99 ms, req/s: $out"
    # The run with the best p50 (least disturbed by other load on the machine).
    best=${BEST[$reg]:-}
    if [[ -z $best || $(echo "${out%% *} < ${best%% *}" | bc -l) == 1 ]]; then BEST[$reg]=$out; fi
  done
done
for reg in $REGS; do R[manifest-$reg]=${BEST[$reg]}; done

BIG_MB=$(node -e "console.log((require('fs').statSync('$FIXTURE').size/1e6).toFixed(0))")
printf '\nberth registry vs docker-registry %s, loopback, same disk; median of %d runs (seconds; lower is better)\n' "$(docker-registry --version 2>/dev/null | awk '{print $3}')" "$RUNS"
printf '%-44s %10s %16s %8s\n' row berth docker-registry ratio
row() { printf '%-44s %10.2f %16.2f %7.2fx\n' "$1" "$2" "$3" "$(echo "$3 / $2" | bc -l)"; }
row "skopeo push, bench image (~${BIG_MB} MB)" "${R[big-push-berth]}" "${R[big-push-docker-registry]}"
row "skopeo pull, bench image" "${R[big-pull-berth]}" "${R[big-pull-docker-registry]}"
row "docker push through berthd, bench image" "${R[docker-push-berth]}" "${R[docker-push-docker-registry]}"
row "docker pull through berthd, bench image" "${R[docker-pull-berth]}" "${R[docker-pull-docker-registry]}"
row "skopeo push, $SMALL x 1 MiB blobs" "${R[small-push-berth]}" "${R[small-push-docker-registry]}"
row "skopeo pull, $SMALL x 1 MiB blobs" "${R[small-pull-berth]}" "${R[small-pull-docker-registry]}"
row "HTTP push, $SMALL x 1 MiB blobs, 8 parallel" "${R[raw-push-berth]}" "${R[raw-push-docker-registry]}"
row "HTTP pull, $SMALL x 1 MiB blobs, 8 parallel" "${R[raw-pull-berth]}" "${R[raw-pull-docker-registry]}"
read -r b50 b99 brps <<<"${R[manifest-berth]}"
read -r d50 d99 drps <<<"${R[manifest-docker-registry]}"
row "manifest GET, $CLIENTS clients, p50 (ms)" "$b50" "$d50"
row "manifest GET, $CLIENTS clients, p99 (ms)" "$b99" "$d99"
printf '%-44s %10s %16s %7.2fx\n' "manifest GET, $CLIENTS clients, req/s" "$brps" "$drps" "$(echo "$brps / $drps" | bc -l)"

#!/usr/bin/env bash
# CLI start-up benchmark: `node -e 0` (the floor for any Node CLI), the Go docker CLI's
# `docker version` and `bin/berth version`, both against a private berthd.
#   bench/cli.sh [--runs N] [--warmup N] [--no-hyperfine]
# Uses hyperfine when installed (apt-get install -y hyperfine), else a loop and a median.
# Prints the ratio berth version / node -e 0 (target <= 1.3) and writes
# bench/results/cli-<date>.json. See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=20
WARMUP=3
USE_HYPERFINE=1
TARGET=1.3
while (($#)); do
  case $1 in
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --runs=*) RUNS=${1#*=}; shift ;;
    --warmup) WARMUP=${2:?--warmup needs a value}; shift 2 ;;
    --warmup=*) WARMUP=${1#*=}; shift ;;
    --no-hyperfine) USE_HYPERFINE=; shift ;;
    -h | --help) sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) bench_log "unknown option $1"; exit 2 ;;
  esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ && $WARMUP =~ ^[0-9]+$ ]] || { bench_log "--runs and --warmup need integers"; exit 2; }
((EUID == 0)) || { bench_log "bench/cli.sh needs root (it starts berthd)"; exit 1; }
command -v docker >/dev/null || { bench_log "the docker CLI is not on PATH"; exit 1; }

bench_ensure_dist
bench_mktemp berth-cli-bench
bench_install_traps
bench_docker_env
bench_start_berthd
export DOCKER_HOST=unix://$BERTH_SOCK
bench_log "berthd pid $BERTHD_PID on $BERTH_SOCK"

# Which commands to time. `docker version` must reach the server, or the figure means nothing.
names=(node docker)
cmds=("node -e 0" "docker version")
docker version >/dev/null 2>"$BENCH_TMP/docker-version.err" || {
  bench_log "error: docker version against berthd failed: $(head -3 "$BENCH_TMP/docker-version.err")"
  exit 1
}
berth_status=
if [[ ! -e $REPO_ROOT/bin/berth ]]; then
  berth_status="skipped: bin/berth does not exist yet"
elif ! out=$(cd "$REPO_ROOT" && timeout 60 bin/berth version 2>&1); then
  berth_status="skipped: bin/berth version fails: $(printf '%s' "$out" | head -3 | tr '\n' ' ')"
else
  grep -q '^Server' <<<"$out" || bench_log "warning: bin/berth version printed no Server section: it may not have reached berthd"
  names+=(berth)
  cmds+=("$REPO_ROOT/bin/berth version")
fi
[[ -z $berth_status ]] || bench_log "berth CLI: $berth_status"

declare -A MED MEAN SD
tool=
if [[ -n $USE_HYPERFINE ]] && command -v hyperfine >/dev/null; then
  tool="hyperfine $(hyperfine --version | awk '{print $2}')"
  hf_args=(-N --warmup "$WARMUP" --runs "$RUNS" --export-json "$BENCH_TMP/hyperfine.json" --style basic)
  for i in "${!names[@]}"; do hf_args+=(-n "${names[$i]}" "${cmds[$i]}"); done
  (cd "$REPO_ROOT" && hyperfine "${hf_args[@]}") >&2
  while read -r name med mean sd; do
    MED[$name]=$med MEAN[$name]=$mean SD[$name]=$sd
  done < <(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results
    for (const x of r) console.log(x.command, (x.median * 1000).toFixed(2), (x.mean * 1000).toFixed(2), (x.stddev * 1000).toFixed(2))
  ' "$BENCH_TMP/hyperfine.json")
else
  tool="bash loop (hyperfine not installed)"
  for i in "${!names[@]}"; do
    read -r -a argv <<<"${cmds[$i]}"
    for ((w = 0; w < WARMUP; w++)); do (cd "$REPO_ROOT" && "${argv[@]}") >/dev/null 2>&1 || true; done
    samples=()
    for ((r = 0; r < RUNS; r++)); do
      t0=$(date +%s%N)
      (cd "$REPO_ROOT" && exec "${argv[@]}") >/dev/null 2>&1 || true
      t1=$(date +%s%N)
      samples+=("$(((t1 - t0) / 1000))")
    done
    read -r med mean sd < <(printf '%s\n' "${samples[@]}" | sort -n | awk '
      { v[NR] = $1 / 1000; s += v[NR]; ss += v[NR] * v[NR] }
      END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; mean = s / NR
            sd = NR > 1 ? sqrt((ss - NR * mean * mean) / (NR - 1)) : 0; printf "%.2f %.2f %.2f\n", m, mean, sd }')
    MED[${names[$i]}]=$med MEAN[${names[$i]}]=$mean SD[${names[$i]}]=$sd
  done
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
echo "CLI start-up against berthd, $RUNS runs each ($tool); median wall time"
printf '%-28s %10s %18s %12s\n' command median "mean ± sd" "/ node -e 0"
printf '%-28s %10s %18s %12s\n' ---------------------------- ---------- ------------------ ------------
declare -A labels=([node]="node -e 0" [docker]="docker version (Go CLI)" [berth]="bin/berth version")
for n in "${names[@]}"; do
  printf '%-28s %7s ms %11s ± %-4s %12s\n' "${labels[$n]}" "${MED[$n]}" "${MEAN[$n]}" "${SD[$n]}" "$(ratio "${MED[$n]}" "${MED[node]}")"
done
[[ -z $berth_status ]] || printf '%-28s %s\n' "bin/berth version" "$berth_status"
echo
verdict=
if [[ -z $berth_status ]]; then
  r=$(ratio "${MED[berth]}" "${MED[node]}")
  verdict=$(awk -v r="$r" -v t="$TARGET" 'BEGIN { print (r <= t) ? "PASS" : "FAIL" }')
  echo "berth version / node -e 0 = $r (target <= $TARGET): $verdict"
  echo "berth version / docker version = $(ratio "${MED[berth]}" "${MED[docker]}")"
else
  echo "berth version / node -e 0: not measured ($berth_status)"
fi

mkdir -p "$BENCH_DIR/results"
out=$BENCH_DIR/results/cli-$(date -u +%Y-%m-%dT%H-%M-%S).json
{
  printf '{\n  "benchmark": "cli",\n  "date": "%s",\n  "tool": "%s",\n  "runs": %s,\n  "target_berth_over_node": %s,\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$tool" "$RUNS" "$TARGET"
  printf '  "berth": %s,\n' "$(if [[ -z $berth_status ]]; then echo '"measured"'; else node -e 'console.log(JSON.stringify(process.argv[1]))' "$berth_status"; fi)"
  printf '  "median_ms": {'
  sep=
  for n in "${names[@]}"; do printf '%s"%s": %s' "$sep" "$n" "${MED[$n]}"; sep=', '; done
  printf '},\n  "mean_ms": {'
  sep=
  for n in "${names[@]}"; do printf '%s"%s": %s' "$sep" "$n" "${MEAN[$n]}"; sep=', '; done
  printf '},\n  "ratio_berth_over_node": %s,\n  "verdict": "%s"\n}\n' \
    "$(if [[ -z $berth_status ]]; then ratio "${MED[berth]}" "${MED[node]}"; else echo null; fi)" "${verdict:-not measured}"
} >"$out"
node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$out" || bench_log "warning: $out is not valid JSON"
echo "JSON: ${out#"$REPO_ROOT"/}"

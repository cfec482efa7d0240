#!/usr/bin/env bash
# One command sets Berth up on a fresh Debian 12 machine (as root):
#   installs the system packages the engine needs, npm dependencies, builds,
#   links berth/berthd into /usr/local/bin, starts berthd in the background,
#   makes the demo images and shows them.
# Options: --deps-only (install and build, start nothing), --no-demo (start berthd, no images).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
DEPS_ONLY=0
DEMO=1
for a in "$@"; do
  case "$a" in
    --deps-only) DEPS_ONLY=1 ;;
    --no-demo) DEMO=0 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then echo "setup.sh: run as root (berthd manages mounts, cgroups and namespaces)" >&2; exit 1; fi

# System packages: the OCI runtimes and monitor, GNU tar with helpers, networking (ip,
# iptables), the cluster store for swarm mode (etcd), and the tools tests use (a registry to push to
# and pull from, htpasswd for it, skopeo, docker-compose 1.29 to compare with, an SSH server for remote-engine hosts).
PKGS=(crun runc conmon catatonit tini busybox-static tar gzip pigz xz-utils bzip2 zstd attr iptables iproute2 uidmap jq openssl util-linux procps curl docker-registry apache2-utils docker-compose etcd-server etcd-client openssh-server openssh-client skopeo python3-docker)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages must not start services of their own (docker-registry would take port 5000).
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1; fi
  apt_ok=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null && apt_ok=1
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$apt_ok" = 1 ] || exit 1
  if command -v systemctl >/dev/null && systemctl is-enabled docker-registry >/dev/null 2>&1; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
  if command -v systemctl >/dev/null && systemctl is-enabled etcd >/dev/null 2>&1; then systemctl disable --now etcd >/dev/null 2>&1 || true; fi
fi
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "setup.sh: Node.js 20 or newer is required (apt-get install nodejs npm on Debian 13, or NodeSource for Debian 12)" >&2
  exit 1
fi

# npm dependencies (exactly the lock file) and the build.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "==> build"
npx tsc -b
node scripts/bundle.mjs
printf '{"gitCommit":"%s","buildTime":"%s"}\n' "$(git rev-parse --short HEAD 2>/dev/null || true)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > dist/build-info.json
ln -sf "$REPO/bin/berth" /usr/local/bin/berth
ln -sf "$REPO/bin/berthd" /usr/local/bin/berthd
# berth compose as the docker CLI's compose plugin: `docker compose up -d` runs Berth's compose.
# The docker CLI asks the plugin for `docker-cli-plugin-metadata`, then runs it as `docker-compose compose ARGS`.
mkdir -p /usr/local/lib/docker/cli-plugins
cat > /usr/local/lib/docker/cli-plugins/docker-compose <<PLUGIN
#!/bin/sh
# berth compose, installed by $REPO/scripts/setup.sh
if [ "\$1" = docker-cli-plugin-metadata ]; then exec "$REPO/bin/berth" compose docker-cli-plugin-metadata; fi
exec "$REPO/bin/berth" "\$@"
PLUGIN
chmod 755 /usr/local/lib/docker/cli-plugins/docker-compose
[ "$DEPS_ONLY" = 1 ] && exit 0

SOCK=/run/berth/berth.sock
if curl -sf --unix-socket "$SOCK" http://berth/_ping >/dev/null 2>&1; then
  echo "==> berthd is already running on $SOCK"
else
  echo "==> starting berthd (log: /var/log/berthd.log)"
  nohup "$REPO/bin/berthd" >>/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do
    curl -sf --unix-socket "$SOCK" http://berth/_ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf --unix-socket "$SOCK" http://berth/_ping >/dev/null || { echo "berthd did not start; see /var/log/berthd.log" >&2; tail -5 /var/log/berthd.log >&2; exit 1; }
fi
[ "$DEMO" = 1 ] || exit 0

echo "==> demo images"
for f in $(node dist/scripts/make-fixtures.js --print --quiet); do
  berth load -i "$f"
done
berth images
echo "==> berth run --rm hello-world"
berth run --rm hello-world

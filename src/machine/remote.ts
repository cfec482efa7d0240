/**
 * What `berth machine` installs on a host, and the shell it runs there. Everything lives in
 * a few known places so that `rm` (and a failed create's rollback) can take it all away:
 *
 *   /usr/local/lib/berth/                 the Berth install (dist, bin, node_modules)
 *   /usr/local/bin/{berth,berthd}         wrappers; /usr/local/bin/docker only when the host has
 *                                         no docker CLI (a shim to berth, marked as ours)
 *   /etc/berth/machine/                   ca.pem, server.pem, server-key.pem, berthd.sh,
 *                                         supervise.sh, created-data-root (a marker)
 *   /etc/systemd/system/berthd.service    under systemd
 *   /run/berth-machine/                   the supervisor's pid files (no systemd)
 *   /var/log/berthd.log                   the engine's log (no systemd)
 *   /var/lib/berth, /run/berth            the engine's data and exec roots
 */
import { shellQuote } from './ssh.js'

export const LIB = '/usr/local/lib/berth'
export const BIN = '/usr/local/bin'
export const ETC = '/etc/berth/machine'
export const STATE = '/run/berth-machine'
export const LOG = '/var/log/berthd.log'
export const DATA_ROOT = '/var/lib/berth'
export const EXEC_ROOT = '/run/berth'
export const LOCAL_SOCKET = 'unix:///run/berth/berth.sock'
export const DOCKER_SOCKET = '/var/run/docker.sock'
export const UNIT = '/etc/systemd/system/berthd.service'
export const SHIM_MARK = '# berth-machine docker shim'

/** Debian packages berthd needs on a host. */
export const PACKAGES = ['crun', 'conmon', 'iptables', 'iproute2', 'tar', 'gzip', 'util-linux', 'procps', 'catatonit']

export function wrapper(target: string): string {
  return `#!/bin/sh\nexec node ${LIB}/bin/${target} "$@"\n`
}

/** A docker command for hosts without one: berth speaks the docker CLI (dial-stdio included). */
export const DOCKER_SHIM = `#!/bin/sh\n${SHIM_MARK}: the docker CLI's commands, served by berth\nexec ${BIN}/berth "$@"\n`

export interface EngineArgs {
  port: number
  dockerSocket: boolean
  labels: string[]
  options: string[]
}

export function engineCommand(a: EngineArgs): string[] {
  const args = [
    `${BIN}/berthd`, '--tlsverify',
    `--tlscacert=${ETC}/ca.pem`, `--tlscert=${ETC}/server.pem`, `--tlskey=${ETC}/server-key.pem`,
    '-H', `tcp://0.0.0.0:${a.port}`, '-H', LOCAL_SOCKET,
  ]
  if (a.dockerSocket) args.push('-H', `unix://${DOCKER_SOCKET}`)
  for (const l of a.labels) args.push('--label', l)
  for (const o of a.options) {
    const eq = o.indexOf('=')
    args.push(eq > 0 ? `--${o.slice(0, eq)}=${o.slice(eq + 1)}` : `--${o}`)
  }
  return args
}

export function engineScript(a: EngineArgs): string {
  return `#!/bin/sh\n# berthd as berth machine configured it\nexec ${engineCommand(a).map(shellQuote).join(' ')} "$@"\n`
}

export const SUPERVISOR = `#!/bin/sh
# Keeps berthd running (hosts without systemd): restarts it when it exits, until stopped.
mkdir -p ${STATE}
echo $$ > ${STATE}/supervisor.pid
child=
stop() {
  touch ${STATE}/stopping
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
  rm -f ${STATE}/supervisor.pid ${STATE}/berthd.pid ${STATE}/stopping
  exit 0
}
trap stop TERM INT
while :; do
  ${ETC}/berthd.sh >> ${LOG} 2>&1 &
  child=$!
  echo "$child" > ${STATE}/berthd.pid
  wait "$child"
  [ -f ${STATE}/stopping ] && break
  echo "berthd exited with status $?; restarting in 1s" >> ${LOG}
  sleep 1
done
rm -f ${STATE}/supervisor.pid ${STATE}/berthd.pid ${STATE}/stopping
`

export function systemdUnit(): string {
  return `[Unit]
Description=Berth container engine (installed by berth machine)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${ETC}/berthd.sh
KillMode=process
Restart=always
RestartSec=1
Delegate=yes
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
`
}

/** Shell: does the host run systemd (sd_booted)? prints systemd or supervisor. */
export const DETECT_SERVICE_MANAGER = `if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then echo systemd; else echo supervisor; fi`

export function startScript(manager: 'systemd' | 'supervisor'): string {
  if (manager === 'systemd') return `systemctl daemon-reload && systemctl enable berthd.service >/dev/null 2>&1; systemctl start berthd.service`
  return `set -e
mkdir -p ${STATE}
if [ -f ${STATE}/supervisor.pid ] && kill -0 "$(cat ${STATE}/supervisor.pid)" 2>/dev/null; then exit 0; fi
rm -f ${STATE}/stopping
setsid -f ${ETC}/supervise.sh </dev/null >/dev/null 2>&1
for i in $(seq 1 50); do [ -f ${STATE}/supervisor.pid ] && exit 0; sleep 0.1; done
echo "the supervisor did not start" >&2; exit 1`
}

export function stopScript(manager: 'systemd' | 'supervisor'): string {
  if (manager === 'systemd') return `systemctl stop berthd.service`
  return `[ -f ${STATE}/supervisor.pid ] || exit 0
pid=$(cat ${STATE}/supervisor.pid)
if ! kill -0 "$pid" 2>/dev/null; then rm -f ${STATE}/supervisor.pid ${STATE}/berthd.pid; exit 0; fi
touch ${STATE}/stopping
kill -TERM "$pid"
for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
echo "berthd did not stop within 30s" >&2; exit 1`
}

/** Prints running or stopped. */
export function statusScript(manager: 'systemd' | 'supervisor'): string {
  if (manager === 'systemd') return `if systemctl is-active --quiet berthd.service; then echo running; else echo stopped; fi`
  return `if [ -f ${STATE}/berthd.pid ] && kill -0 "$(cat ${STATE}/berthd.pid)" 2>/dev/null; then echo running; else echo stopped; fi`
}

/** The engine's last log lines, for errors. */
export function logTailScript(manager: 'systemd' | 'supervisor'): string {
  if (manager === 'systemd') return `journalctl -u berthd.service -n 20 --no-pager 2>/dev/null || true`
  return `tail -n 20 ${LOG} 2>/dev/null || true`
}

/** Exit 0 when nothing answers on Docker's default socket (berthd may serve it). */
export const DOCKER_SOCKET_FREE = `node -e "const s=require('net').connect('${DOCKER_SOCKET}');s.on('connect',()=>process.exit(1));s.on('error',e=>process.exit(e.code==='ENOENT'||e.code==='ECONNREFUSED'?0:1))"`

/**
 * Remove everything berth machine put on the host: containers first (through the engine),
 * then the engine, its mounts, its files. Safe to run twice and after a half-done create.
 */
export function uninstallScript(): string {
  return `set +e
if [ -S ${EXEC_ROOT}/berth.sock ] && [ -x ${BIN}/berth ]; then
  # Out of any swarm first: a manager's orchestrator would start the tasks removed below again.
  ${BIN}/berth -H ${LOCAL_SOCKET} swarm leave --force >/dev/null 2>&1
  ids=$(${BIN}/berth -H ${LOCAL_SOCKET} ps -aq 2>/dev/null)
  [ -n "$ids" ] && ${BIN}/berth -H ${LOCAL_SOCKET} rm -f $ids >/dev/null 2>&1
fi
if [ -f ${UNIT} ]; then
  systemctl disable --now berthd.service >/dev/null 2>&1
  rm -f ${UNIT}
  systemctl daemon-reload >/dev/null 2>&1
fi
if [ -f ${STATE}/supervisor.pid ]; then
  pid=$(cat ${STATE}/supervisor.pid)
  touch ${STATE}/stopping
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
# A swarm manager's etcd member runs detached from berthd (its own process group): stop it by its
# PID file when its command line names this data root.
ep=${DATA_ROOT}/swarm/etcd/etcd.pid
if [ -f $ep ]; then
  pid=$(cat $ep)
  if tr '\\0' ' ' < /proc/$pid/cmdline 2>/dev/null | grep -q -- "--data-dir=${DATA_ROOT}/swarm/etcd/"; then
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  fi
fi
# The network namespaces the engine made (containers', overlays'), named after the sha256 of its
# data root, outlive it by design.
tag=$(printf %s ${DATA_ROOT} | sha256sum | cut -c1-6)
for ns in $(ls /run/netns 2>/dev/null); do
  case "$ns" in ov-$tag-*|berth-$tag-*) ip netns del "$ns" 2>/dev/null ;; esac
done
removeData=0
[ -f ${ETC}/created-data-root ] && removeData=1
for root in ${EXEC_ROOT} $([ $removeData = 1 ] && echo ${DATA_ROOT}); do
  # Only what the engine mounted beneath its roots (container rootfs, volumes); never a mount
  # at the root itself, which belongs to whoever set the host up.
  awk -v r="$root" 'index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
done
[ $removeData = 1 ] && { find ${DATA_ROOT} -xdev -mindepth 1 -delete 2>/dev/null; rmdir ${DATA_ROOT} 2>/dev/null; }
if [ -f ${ETC}/docker-socket ] && [ -S ${DOCKER_SOCKET} ]; then rm -f ${DOCKER_SOCKET}; fi
if [ -f ${BIN}/docker ] && grep -q '${SHIM_MARK}' ${BIN}/docker; then rm -f ${BIN}/docker; fi
find ${EXEC_ROOT} -xdev -mindepth 1 -delete 2>/dev/null; rmdir ${EXEC_ROOT} 2>/dev/null
rm -rf ${STATE} ${ETC} ${LIB} ${LIB}.new ${LIB}.old ${BIN}/berth ${BIN}/berthd ${LOG}
rmdir /etc/berth 2>/dev/null
exit 0`
}

/** Unpack an install tarball from stdin and swap it into place. */
export function installScript(): string {
  return `set -e
rm -rf ${LIB}.new ${LIB}.old
mkdir -p ${LIB}.new
tar -xzf - -C ${LIB}.new --no-same-owner
[ -d ${LIB} ] && mv ${LIB} ${LIB}.old
mv ${LIB}.new ${LIB}
rm -rf ${LIB}.old`
}

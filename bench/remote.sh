#!/usr/bin/env bash
# Remote engines, side by side: `berth machine create` to a working `docker version`, then
# `ps` through the TLS host and through ssh contexts, cold (first command) and warm (median of
# the next N), with the berth CLI and the docker CLI; and the docker CLI's own ssh context
# against Debian's dockerd on the same kind of host (a network + mount namespace running sshd,
# as the integration tests make them). Needs root, sshd and the docker CLI; run after a build.
#
#   bash bench/remote.sh [N]     (N warm runs, default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/remote.sh needs root (network and mount namespaces)" >&2; exit 1; }
[ -f dist/test/integration/machine-hosts.js ] || { echo "build first: npx tsc -b && node scripts/bundle.mjs" >&2; exit 1; }
N="${1:-7}" exec node --input-type=module - <<'EOF'
import { HostLab } from './dist/test/integration/machine-hosts.js'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync, chmodSync, copyFileSync } from 'node:fs'
import { join } from 'node:path'

const N = Number(process.env.N || 7)
const lab = new HostLab()
const rows = []
const ms = (t) => `${t.toFixed(0)} ms`
function run(cmd, args, env) {
  const t = process.hrtime.bigint()
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' })
  const dt = Number(process.hrtime.bigint() - t) / 1e6
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`)
  return { dt, out: r.stdout }
}
function coldWarm(label, cmd, args, env) {
  const cold = run(cmd, args, env).dt
  const warm = []
  for (let i = 0; i < N; i++) warm.push(run(cmd, args, env).dt)
  warm.sort((a, b) => a - b)
  rows.push([label, ms(cold), ms(warm[Math.floor(warm.length / 2)]), ms(warm[0])])
}
try {
  await lab.init()
  const h1 = await lab.addHost('h1')
  const h2 = await lab.addHost('h2')
  const d1 = await lab.addHost('d1')
  const home = join(lab.root, 'home')
  const ssh = await lab.writeSshConfig(join(home, '.ssh'))
  copyFileSync(lab.clientKey, join(home, '.ssh', 'id_ed25519'))
  chmodSync(join(home, '.ssh', 'id_ed25519'), 0o600)
  const bin = join(lab.root, 'bin')
  mkdirSync(bin, { recursive: true })
  writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${ssh.config} "$@"\n`)
  chmodSync(join(bin, 'ssh'), 0o755)
  const env = { ...process.env, HOME: home, PATH: `${bin}:${process.env.PATH}`, DOCKER_CONFIG: join(home, '.docker'), DOCKER_HOST: '', DOCKER_CONTEXT: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '', SSH_AUTH_SOCK: '' }
  const berth = (args) => ['node', ['bin/berth', ...args]]
  const create = (h) => run(...berth(['machine', 'create', '--driver', 'generic', '--generic-ip-address', h.ip, '--generic-ssh-key', lab.clientKey, h.name]), env)

  // 1. machine create to a working docker version (the first create also builds the install tarball).
  const c1 = create(h1).dt
  const tlsEnv = { ...env }
  for (const m of run(...berth(['machine', 'env', '--shell', 'bash', 'h1']), env).out.matchAll(/^export (\w+)="(.*)"$/gm)) tlsEnv[m[1]] = m[2]
  const v1 = run('docker', ['version'], tlsEnv).dt
  rows.push(['machine create h1 (cold: tarball made) + docker version', ms(c1 + v1), '', ''])
  const c2 = create(h2).dt
  const v2 = run('docker', ['-H', `tcp://${h2.ip}:2376`, '--tlsverify', 'version'], { ...tlsEnv, DOCKER_CERT_PATH: join(home, '.berth/machine/machines/h2') }).dt
  rows.push(['machine create h2 (packages present, tarball cached) + docker version', ms(c2 + v2), '', ''])

  // 2. ps over TLS.
  coldWarm('docker ps, TLS (eval $(berth machine env h1))', 'docker', ['ps'], tlsEnv)
  coldWarm('berth ps, TLS (same environment)', ...berth(['ps']), tlsEnv)

  // 3. ps over ssh contexts to h2.
  run('docker', ['context', 'create', 'h2', '--docker', 'host=ssh://root@h2'], env)
  coldWarm('berth --context h2 ps (ssh2, berth system dial-stdio)', ...berth(['--context', 'h2', 'ps']), env)
  coldWarm('docker --context h2 ps (system ssh, docker system dial-stdio -> berthd)', 'docker', ['--context', 'h2', 'ps'], env)

  // 4. The docker CLI's own ssh context against Debian's dockerd on d1.
  let dockerd = 'dockerd'
  const sshd1 = (cmd) => run('/usr/bin/ssh', ['-F', ssh.config, 'd1', cmd], env)
  try {
    sshd1('mkdir -p /tmp/docker-data && (setsid -f dockerd -H unix:///var/run/docker.sock --data-root /tmp/docker-data --exec-root /run/docker --pidfile /run/docker.pid --iptables=false --bridge=none > /tmp/dockerd.log 2>&1 < /dev/null)')
    let up = false
    for (let i = 0; i < 100 && !up; i++) {
      try { sshd1('docker -H unix:///var/run/docker.sock version >/dev/null 2>&1'); up = true } catch { await new Promise((r) => setTimeout(r, 200)) }
    }
    if (!up) throw new Error(sshd1('tail -5 /tmp/dockerd.log').out)
  } catch (err) {
    dockerd = `berthd (Debian's dockerd did not start in the host namespace: ${String(err.message).split('\n')[0]})`
    create(d1)
  }
  run('docker', ['context', 'create', 'd1', '--docker', 'host=ssh://root@d1'], env)
  coldWarm(`docker --context d1 ps (system ssh -> ${dockerd})`, 'docker', ['--context', 'd1', 'ps'], env)
  if (dockerd === 'dockerd') { try { sshd1('kill $(cat /run/docker.pid)') } catch { /* the lab kills it */ } }
  for (const m of ['h1', 'h2']) run(...berth(['machine', 'rm', '-y', m]), env)
} finally {
  await lab.down()
}
const w = [Math.max(...rows.map((r) => r[0].length)), 8, 8, 8]
console.log(`${'what'.padEnd(w[0])}  ${'cold'.padStart(w[1])}  ${'warm p50'.padStart(w[2])}  ${'warm min'.padStart(w[3])}`)
for (const r of rows) console.log(`${r[0].padEnd(w[0])}  ${r[1].padStart(w[1])}  ${r[2].padStart(w[2])}  ${r[3].padStart(w[3])}`)
console.log(`(warm: ${N} runs after the cold one; load average ${(await import('node:os')).loadavg()[0].toFixed(1)} on ${(await import('node:os')).cpus().length} CPUs)`)
EOF

#!/usr/bin/env node
/**
 * Container-lifecycle benchmark: berthd vs Debian's dockerd vs podman, side by side, in one run.
 * Run it through bench/containers.sh (which adds a shell-level cleanup trap); see bench/README.md.
 *
 *   node bench/containers.mjs [--runs N] [--warmup N] [--containers N] [--ps-berth N]
 *                             [--ps-others N] [--logs-mb N] [--logs-runs N] [--engines LIST]
 *                             [--skip LIST] [--fixture FILE] [--out FILE] [--tmp DIR] [--keep-tmp]
 *
 * Everything goes through the engines' CLIs: the docker CLI against a private berthd and a
 * private dockerd, podman's own CLI with private --root/--runroot. Measures: `run --rm busybox
 * true` (default network and --network none), create / start / exec / stop -t 0, N sequential
 * `run -d`, `ps` with them running, `ps -a` with many created containers, log write and read
 * throughput, the per-container supervisor RSS (conmon / containerd-shim) and the daemons' idle
 * RSS. Every container the benchmark creates is removed, every daemon it started is stopped by
 * PID, the network bridges it made are deleted; nothing else is ever signalled or touched.
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(BENCH_DIR, '..')
const ALL_ENGINES = ['berth', 'dockerd', 'podman']
const ALL_MEASURES = ['run', 'lifecycle', 'many', 'ps', 'logs']
const IMAGE = 'busybox:latest'
const MiB = 1 << 20

const USAGE = `usage: bench/containers.sh [options]
  --runs N          timed runs of each single-command measure, median reported (default 20)
  --warmup N        untimed runs before them (default 3)
  --containers N    sequential \`run -d busybox sleep 1000\` (then \`ps\`, supervisor RSS) (default 50)
  --ps-berth N      created (not running) containers for \`ps -a\` on berth (default 1000)
  --ps-others N     the same on dockerd and podman (default 200)
  --logs-mb N       MiB the log container writes to stdout, in 100-byte lines (default 100)
  --logs-runs N     log write/read rounds, median reported (default 3)
  --engines LIST    comma-separated subset of ${ALL_ENGINES.join(',')} (default: all)
  --skip LIST       leave out measures: ${ALL_MEASURES.join(',')}
  --fixture FILE    busybox docker-save archive (default .cache/fixtures/busybox.tar, built
                    by dist/scripts/make-fixtures.js when missing)
  --out FILE        text results (default bench/results/containers-<date>.txt; a .json beside it)
  --tmp DIR         use this (empty) directory for roots and sockets (default: mkdtemp)
  --keep-tmp        keep the temp dir (daemons are still stopped, containers still removed)
`

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const o = { runs: 20, warmup: 3, containers: 50, psBerth: 1000, psOthers: 200, logsMb: 100, logsRuns: 3, engines: ALL_ENGINES, skip: [], fixture: '', out: '', tmp: '', keepTmp: false }
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]
    let v
    const eq = a.indexOf('=')
    if (a.startsWith('--') && eq > 0) { v = a.slice(eq + 1); a = a.slice(0, eq) }
    const val = () => {
      if (v !== undefined) return v
      if (i + 1 >= argv.length) die(`${a} needs a value`)
      return argv[++i]
    }
    const int = (min) => {
      const n = Number(val())
      if (!Number.isInteger(n) || n < min) die(`${a} needs an integer >= ${min}`)
      return n
    }
    const list = (known) => {
      const l = val().split(',').map((s) => s.trim()).filter(Boolean)
      for (const x of l) if (!known.includes(x)) die(`${a}: unknown ${x} (known: ${known.join(', ')})`)
      return l
    }
    switch (a) {
      case '--runs': o.runs = int(1); break
      case '--warmup': o.warmup = int(0); break
      case '--containers': o.containers = int(1); break
      case '--ps-berth': o.psBerth = int(1); break
      case '--ps-others': o.psOthers = int(1); break
      case '--logs-mb': o.logsMb = int(1); break
      case '--logs-runs': o.logsRuns = int(1); break
      case '--engines': o.engines = list(ALL_ENGINES); break
      case '--skip': o.skip = list(ALL_MEASURES); break
      case '--fixture': o.fixture = path.resolve(val()); break
      case '--out': o.out = path.resolve(val()); break
      case '--tmp': o.tmp = path.resolve(val()); break
      case '--keep-tmp': o.keepTmp = true; break
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0); break
      default: die(`unknown option ${a}\n${USAGE}`)
    }
  }
  return o
}

function die(msg) {
  process.stderr.write(`containers.mjs: ${msg}\n`)
  process.exit(2)
}

const log = (msg) => process.stderr.write(`${msg}\n`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
const median = (xs) => {
  if (!xs || !xs.length) return null
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const round = (x, d = 1) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d)

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir || '.', cmd)
    try { fs.accessSync(p, fs.constants.X_OK); return p } catch { /* next */ }
  }
  return null
}

// ---------------------------------------------------------------- commands

/**
 * Run a command to completion; resolves with its wall time in ms (spawn to exit), status and
 * output. stdout: 'pipe' (collected) or a file descriptor (e.g. /dev/null, for `logs`).
 */
function run(cmd, args, { env, allowFail = false, timeoutMs = 10 * 60_000, stdout = 'pipe' } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', stdout, 'pipe'] })
    const out = []
    const err = []
    child.stdout?.on('data', (b) => out.push(b))
    child.stderr.on('data', (b) => err.push(b))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (e) => { clearTimeout(timer); reject(e) })
    child.on('close', (status, signal) => {
      clearTimeout(timer)
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      const r = { ms, status, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
      if (!allowFail && status !== 0) {
        const e = new Error(`${path.basename(cmd)} ${args.filter((x) => !x.startsWith('/')).slice(-8).join(' ')} failed (${signal ?? `exit ${status}`}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`)
        e.result = r
        reject(e)
      } else resolve(r)
    })
  })
}

function ping(sock, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: sock, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode === 200))
    })
    req.on('timeout', () => { req.destroy(); resolve(false) })
    req.on('error', () => resolve(false))
  })
}

// ---------------------------------------------------------------- process bookkeeping

const state = { tmp: '', ownTmp: false, keepTmp: false, pids: [], engines: [], bridges: [], cleaned: false }

function notePid(pid) {
  state.pids.push(pid)
  fs.appendFileSync(path.join(state.tmp, 'pids'), `${pid}\n`)
}

function cmdline(pid) {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') } catch { return '' }
}

/** Alive and started by us: its command line mentions our private temp dir. */
function owned(pid) {
  return cmdline(pid).includes(state.tmp)
}

/**
 * Processes that belong to this benchmark and nothing else: their command line mentions our
 * temp dir (daemons, conmon, containerd-shim) or their root directory is inside it (the
 * processes of our containers). Never this process or its parent.
 */
function ownedProcesses() {
  const out = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const pid = Number(name)
    if (pid === process.pid || pid === process.ppid) continue
    let root = ''
    try { root = fs.readlinkSync(`/proc/${pid}/root`) } catch { /* gone or kernel thread */ }
    const cl = cmdline(pid)
    if (cl.includes(state.tmp) || root === state.tmp || root.startsWith(`${state.tmp}/`)) out.push({ pid, comm: comm(pid), cmdline: cl })
  }
  return out
}

function comm(pid) {
  try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() } catch { return '' }
}

function stopPidSync(pid, graceMs = 20_000) {
  if (!owned(pid)) return
  try { process.kill(pid, 'SIGTERM') } catch { return }
  const deadline = Date.now() + graceMs
  while (owned(pid) && Date.now() < deadline) sleepSync(100)
  if (owned(pid)) {
    log(`pid ${pid} still running ${graceMs / 1000}s after SIGTERM; sending SIGKILL`)
    try { process.kill(pid, 'SIGKILL') } catch { /* gone */ }
    const d2 = Date.now() + 5000
    while (owned(pid) && Date.now() < d2) sleepSync(50)
  }
}

function mountsUnder(root) {
  let text = ''
  try { text = fs.readFileSync('/proc/self/mountinfo', 'utf8') } catch { return [] }
  return text.split('\n').map((l) => l.split(' ')[4]).filter(Boolean)
    .map((m) => m.replace(/\\040/g, ' '))
    .filter((m) => m === root || m.startsWith(`${root}/`))
    .sort().reverse()
}

function umountAllSync(root) {
  for (let pass = 0; pass < 3; pass++) {
    const mps = mountsUnder(root)
    if (!mps.length) return
    for (const mp of mps) {
      if (spawnSync('umount', [mp], { stdio: 'ignore' }).status !== 0) spawnSync('umount', ['-l', mp], { stdio: 'ignore' })
    }
  }
  const left = mountsUnder(root)
  if (left.length) log(`warning: still mounted under ${root}: ${left.join(' ')}`)
}

function deleteBridgesSync() {
  for (const b of state.bridges) {
    if (fs.existsSync(`/sys/class/net/${b}`)) spawnSync('ip', ['link', 'del', b], { stdio: 'ignore' })
  }
}

/**
 * Remove every container from every engine (each engine's store is private: only ours are in
 * it), stop our daemons by PID, kill what is left of ours (a shim or conmon whose daemon died),
 * unmount, delete the bridges we made, remove the temp dir.
 */
function cleanupSync() {
  if (state.cleaned || !state.tmp) return
  state.cleaned = true
  for (const e of state.engines) {
    try { e.removeAllSync() } catch (err) { log(`warning: removing ${e.label}'s containers: ${err.message ?? err}`) }
  }
  for (const pid of state.pids) stopPidSync(pid) // in start order: dockerd before its containerd
  const left = ownedProcesses()
  if (left.length) {
    log(`killing ${left.length} leftover process(es) of this benchmark: ${left.map((p) => `${p.pid} ${p.comm}`).join(', ')}`)
    for (const p of left) { try { process.kill(p.pid, 'SIGKILL') } catch { /* gone */ } }
    sleepSync(500)
  }
  umountAllSync(state.tmp)
  deleteBridgesSync()
  if (state.ownTmp && !state.keepTmp) spawnSync('rm', ['-rf', '--one-file-system', '--', state.tmp], { stdio: 'inherit' })
  else if (state.keepTmp) log(`kept ${state.tmp}`)
}

process.on('exit', cleanupSync)
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(sig, () => { log(`\n${sig}: removing containers, stopping daemons, cleaning up`); cleanupSync(); process.exit(code) })
}

function statFields(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return s.slice(s.lastIndexOf(')') + 2).split(' ')
  } catch {
    return null
  }
}

function cpuTicks(pids) {
  let t = 0
  for (const pid of pids) {
    const f = statFields(pid)
    if (f) t += Number(f[11]) + Number(f[12])
  }
  return t
}

function rssKb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

/** A free private /24 in 10.0.0.0/8 for a bridge (none of the host's addresses in it). */
function freeSubnet(taken) {
  const used = spawnSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }).stdout + spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout
  for (let i = 0; i < 200; i++) {
    const b = 200 + Math.floor(Math.random() * 50)
    const c = Math.floor(Math.random() * 250) + 1
    const net = `10.${b}.${c}`
    if (!used.includes(`${net}.`) && !taken.includes(net)) { taken.push(net); return net }
  }
  throw new Error('no free 10.x.y.0/24 subnet found for a bridge')
}

// ---------------------------------------------------------------- engines

class Engine {
  constructor(name, label) {
    this.name = name
    this.label = label
    this.daemonPids = [] // [{pid, name}] for idle detection and RSS
    this.version = ''
    this.image = IMAGE
    this.supervisor = /^conmon$/
    this.networkNote = ''
  }
  async waitIdle(maxMs = 30_000) {
    const pids = this.daemonPids.map((p) => p.pid)
    if (!pids.length) return
    const t0 = Date.now()
    let quiet = 0
    let last = cpuTicks(pids)
    while (Date.now() - t0 < maxMs && quiet < 2) {
      await sleep(250)
      const now = cpuTicks(pids)
      quiet = now - last <= 1 ? quiet + 1 : 0
      last = now
    }
  }
  rss() {
    const parts = this.daemonPids.map((p) => ({ name: p.name, pid: p.pid, rss_kb: rssKb(p.pid) }))
    return { total_kb: parts.reduce((a, p) => a + (p.rss_kb ?? 0), 0), parts }
  }
  /** The per-container supervisors of this engine (conmon, containerd-shim) and their RSS. */
  supervisors() {
    const mine = this.supervisorPath
    const procs = ownedProcesses().filter((p) => this.supervisor.test(p.comm) && p.cmdline.includes(mine))
    return procs.map((p) => ({ pid: p.pid, comm: p.comm, rss_kb: rssKb(p.pid) ?? 0 }))
  }
  /** docker and podman share these; podman differs where noted. */
  runArgs(args) { return ['run', ...args] }
  rmForce(ids) { return ['rm', '-f', ...ids] }
  async loadFixture(file) { await this.cli(['load', '-i', file]) }
  /** Remove every container in this engine's (private) store, synchronously; for cleanup. */
  removeAllSync() {
    const ls = this.cliSync(['ps', '-aq'])
    if (ls.status !== 0) return
    const ids = ls.stdout.split('\n').map((s) => s.trim()).filter(Boolean)
    for (let i = 0; i < ids.length; i += 100) this.cliSync(this.rmForce(ids.slice(i, i + 100)))
    if (ids.length) log(`   ${this.label}: removed ${ids.length} leftover container(s)`)
  }
}

/** berthd and dockerd: driven by the docker CLI through a private socket. */
class DockerApiEngine extends Engine {
  constructor(name, label, tmp) {
    super(name, label)
    this.tmp = tmp
    this.sock = path.join(tmp, `${name}.sock`)
    this.env = { ...process.env, DOCKER_HOST: `unix://${this.sock}`, DOCKER_CONFIG: path.join(tmp, 'docker-cli'), DOCKER_CLI_HINTS: 'false' }
    for (const k of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION']) delete this.env[k]
    fs.mkdirSync(this.env.DOCKER_CONFIG, { recursive: true })
  }
  cli(args, opts = {}) { return run('docker', args, { env: this.env, ...opts }) }
  cliSync(args) { return spawnSync('docker', args, { env: this.env, encoding: 'utf8', timeout: 180_000, stdio: ['ignore', 'pipe', 'pipe'] }) }
  spawnDaemon(cmd, args, logName) {
    const logFile = path.join(this.tmp, logName)
    const fd = fs.openSync(logFile, 'a')
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] })
    fs.closeSync(fd)
    notePid(child.pid)
    child.unref()
    return { child, logFile }
  }
  async waitReady(child, logFile) {
    let exited = null
    child.on('exit', (code, sig) => { exited = sig ?? code })
    const deadline = Date.now() + 90_000
    while (Date.now() < deadline) {
      if (exited !== null) break
      if (fs.existsSync(this.sock) && await ping(this.sock)) return
      await sleep(20)
    }
    const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n  ') : ''
    throw new Error(`${this.label} did not answer /_ping (${exited !== null ? `exited: ${exited}` : 'timeout'}); log tail:\n  ${tail}`)
  }
  async afterStart() {
    const v = await this.cli(['version', '--format', '{{.Server.Version}}'], { allowFail: true })
    this.version = v.stdout.trim() || `? (${v.stderr.trim().split('\n')[0]})`
  }
}

class Berth extends DockerApiEngine {
  constructor(tmp) {
    super('berth', 'berthd', tmp)
    this.supervisorPath = path.join(tmp, 'berth-exec')
    this.networkNote = "berth's default network is its own bridge (bb-<id>, a free 172.28.0.0/14 or 10.89.0.0/16 subnet) with NAT rules in chains of its own"
  }
  async start() {
    const dataRoot = path.join(this.tmp, 'berth')
    const execRoot = path.join(this.tmp, 'berth-exec')
    const cfg = path.join(this.tmp, 'daemon.json')
    fs.mkdirSync(dataRoot, { recursive: true })
    fs.mkdirSync(execRoot, { recursive: true })
    fs.writeFileSync(cfg, '{}\n')
    const { child, logFile } = this.spawnDaemon(path.join(REPO, 'bin', 'berthd'),
      ['--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${this.sock}`, '--config-file', cfg], 'berthd.log')
    this.daemonPids = [{ pid: child.pid, name: 'berthd' }]
    await this.waitReady(child, logFile)
    await this.afterStart()
  }
}

class Dockerd extends DockerApiEngine {
  constructor(tmp) {
    super('dockerd', 'dockerd', tmp)
    this.supervisor = /^containerd-shim/
    this.supervisorPath = path.join(tmp, 'docker-exec')
  }
  async start(subnets) {
    const t = this.tmp
    // A bridge of our own (dockerd's default network, without touching docker0 or iptables):
    // `run` then does what it does on a stock install (netns, veth pair, IPAM), minus NAT rules.
    this.bridge = `bbd${randomBytes(3).toString('hex')}`
    const net = freeSubnet(subnets)
    state.bridges.push(this.bridge)
    fs.appendFileSync(path.join(t, 'bridges'), `${this.bridge}\n`)
    for (const args of [['link', 'add', 'name', this.bridge, 'type', 'bridge'], ['addr', 'add', `${net}.1/24`, 'dev', this.bridge], ['link', 'set', this.bridge, 'up']]) {
      const r = spawnSync('ip', args, { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`)
    }
    this.networkNote = `dockerd's default network is a bridge (${this.bridge}, ${net}.0/24, created by this script; --iptables=false --ip-forward=false, so no NAT rules)`
    const cfg = path.join(t, 'docker-daemon.json')
    fs.writeFileSync(cfg, '{}\n')
    const { child, logFile } = this.spawnDaemon('dockerd', ['-H', `unix://${this.sock}`, '--data-root', path.join(t, 'docker'),
      '--exec-root', path.join(t, 'docker-exec'), '--pidfile', path.join(t, 'docker.pid'), '--config-file', cfg,
      `--bridge=${this.bridge}`, '--iptables=false', '--ip-masq=false', '--ip-forward=false', '--storage-driver=overlay2'], 'dockerd.log')
    this.daemonPids = [{ pid: child.pid, name: 'dockerd' }]
    try {
      await this.waitReady(child, logFile)
    } finally {
      const r = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(child.pid)], { encoding: 'utf8' })
      for (const line of r.stdout.trim().split('\n')) {
        const [pid, c] = line.trim().split(/\s+/)
        if (c === 'containerd' && owned(Number(pid))) { notePid(Number(pid)); this.daemonPids.push({ pid: Number(pid), name: 'containerd' }) }
      }
      if (this.daemonPids.length < 2) log('note: no containerd child of dockerd found; daemon RSS counts dockerd only')
    }
    await this.afterStart()
  }
}

class Podman extends Engine {
  constructor(tmp) {
    super('podman', 'podman')
    const p = path.join(tmp, 'podman')
    this.p = p
    this.supervisorPath = p
    this.dirs = { root: path.join(p, 'root'), runroot: path.join(p, 'run'), tmpdir: path.join(p, 'libpod-tmp'), copy: path.join(p, 'copy-tmp'), net: path.join(p, 'net'), ipam: path.join(p, 'ipam') }
    for (const d of Object.values(this.dirs)) fs.mkdirSync(d, { recursive: true })
    this.containersConf = path.join(p, 'containers.conf')
    const storageConf = path.join(p, 'storage.conf')
    fs.writeFileSync(storageConf, `[storage]\ndriver = "overlay"\ngraphroot = "${this.dirs.root}"\nrunroot = "${this.dirs.runroot}"\n`)
    const registriesConf = path.join(p, 'registries.conf')
    fs.writeFileSync(registriesConf, 'unqualified-search-registries = []\n')
    this.base = ['--root', this.dirs.root, '--runroot', this.dirs.runroot, '--tmpdir', this.dirs.tmpdir, '--storage-driver', 'overlay',
      '--cgroup-manager', 'cgroupfs', '--events-backend', 'file']
    this.env = { ...process.env, CONTAINERS_CONF: this.containersConf, CONTAINERS_STORAGE_CONF: storageConf, CONTAINERS_REGISTRIES_CONF: registriesConf, TMPDIR: this.dirs.copy }
  }
  cli(args, opts = {}) { return run('podman', [...this.base, ...args], { env: this.env, ...opts }) }
  cliSync(args) { return spawnSync('podman', [...this.base, ...args], { env: this.env, encoding: 'utf8', timeout: 180_000, stdio: ['ignore', 'pipe', 'pipe'] }) }
  rmForce(ids) { return ['rm', '-f', '-t', '0', ...ids] } // podman's rm -f stops with the 10 s timeout otherwise
  async start(subnets) {
    // podman's default network, but private: a CNI bridge network of our own (bridge +
    // host-local IPAM with its state under the temp dir; no firewall/portmap plugins, so no
    // iptables rules), made the default in a private containers.conf.
    const netName = `berth-bench-${randomBytes(3).toString('hex')}`
    this.bridge = `bbp${randomBytes(3).toString('hex')}`
    const net = freeSubnet(subnets)
    state.bridges.push(this.bridge)
    fs.appendFileSync(path.join(this.p, '..', 'bridges'), `${this.bridge}\n`)
    fs.writeFileSync(path.join(this.dirs.net, `${netName}.conflist`), JSON.stringify({
      cniVersion: '0.4.0', name: netName,
      plugins: [{ type: 'bridge', bridge: this.bridge, isGateway: true, ipMasq: false, hairpinMode: true,
        ipam: { type: 'host-local', dataDir: this.dirs.ipam, routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: `${net}.0/24`, gateway: `${net}.1` }]] } }],
    }, null, 2))
    // Rootful podman raises RLIMIT_NOFILE/NPROC of a container to its own fixed defaults, which
    // needs CAP_SYS_RESOURCE; where that is missing (a container or a restricted VM) crun fails.
    // Give containers the limits this process has, as dockerd and berthd do.
    const limits = fs.readFileSync('/proc/self/limits', 'utf8')
    // (podman 4.3 runs conmon with RLIMIT_NPROC lowered to 32768, so no more than that.)
    const ul = (k, label, cap = Infinity) => {
      const m = new RegExp(`^${label}\\s+(\\d+)\\s+(\\d+)`, 'm').exec(limits)
      return m ? [`"${k}=${Math.min(Number(m[1]), cap)}:${Math.min(Number(m[2]), cap)}"`] : []
    }
    const ulimits = [...ul('nofile', 'Max open files'), ...ul('nproc', 'Max processes', 32768)]
    fs.writeFileSync(this.containersConf, `[containers]\nlog_driver = "k8s-file"\ndefault_ulimits = [${ulimits.join(', ')}]\n\n[engine]\nimage_copy_tmp_dir = "${this.dirs.copy}"\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n\n` +
      `[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "${this.dirs.net}"\ndefault_network = "${netName}"\n`)
    this.networkNote = `podman's default network is a CNI bridge (${this.bridge}, ${net}.0/24, created by this script, no firewall/portmap plugins)`
    const v = await this.cli(['version', '--format', '{{.Client.Version}}'], { allowFail: true })
    this.version = v.stdout.trim() || `? (${v.stderr.trim().split('\n')[0]})`
  }
}

// ---------------------------------------------------------------- fixture

function ensureFixture(file) {
  if (file) {
    if (!fs.existsSync(file)) die(`${file} not found`)
    return file
  }
  const script = path.join(REPO, 'dist', 'scripts', 'make-fixtures.js')
  if (!fs.existsSync(script)) die(`${script} missing: build first (cd ${REPO} && npx tsc -b)`)
  const r = spawnSync(process.execPath, [script, '--print', '--quiet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (r.status !== 0) die('make-fixtures failed')
  const f = r.stdout.split('\n').map((s) => s.trim()).find((p) => path.basename(p) === 'busybox.tar')
  if (!f) die(`make-fixtures printed no busybox.tar:\n${r.stdout}`)
  return f
}

// ---------------------------------------------------------------- the benchmark

/** Engines take turns, starting with a different one each round, so drift hits all alike. */
function rotate(list, i) {
  const k = i % list.length
  return [...list.slice(k), ...list.slice(0, k)]
}

const countRows = (stdout) => stdout.split('\n').filter((l) => l.trim() !== '').length - 1 // minus the header

/** The 100-byte line: 99 characters and a newline. */
const LINE = '0123456789'.repeat(10).slice(0, 99)

async function benchAll(engines, o, fixture) {
  const R = {} // R[engine][measure] = samples / values
  const errors = {} // errors[engine][measure] = message
  const live = []
  const fail = (e, what, err) => {
    const msg = String(err.message ?? err).split('\n').slice(0, 3).join(' | ')
    ;(errors[e.name] ??= {})[what] = msg
    log(`   ${e.label} FAILED during ${what}: ${msg}`)
  }
  /** Run fn for an engine; a failure marks only this measure of this engine. */
  const guard = async (e, what, fn) => {
    if (errors[e.name]?.[what]) return false
    try { await fn(); return true } catch (err) { fail(e, what, err); return false }
  }
  const push = (e, k, v) => ((R[e.name][k] ??= []).push(v))

  log('\n== starting engines, loading busybox, checking `run --rm busybox echo ok`')
  const subnets = []
  for (const e of engines) {
    try {
      await e.start(subnets)
      state.engines.push(e)
      await e.loadFixture(fixture)
      const ok = await e.cli(e.runArgs(['--rm', e.image, 'echo', 'ok']))
      if (ok.stdout.trim() !== 'ok') throw new Error(`run --rm busybox echo ok printed ${JSON.stringify(ok.stdout.slice(0, 80))}`)
      live.push(e)
      R[e.name] = { version: e.version }
      log(`   ${e.label} ${e.version}: ok`)
    } catch (err) {
      ;(errors[e.name] ??= {}).start = String(err.message ?? err)
      log(`   ${e.label} FAILED to start: ${err.message ?? err}`)
    }
  }
  if (!live.length) return { R, errors, live }
  const has = (m) => !o.skip.includes(m)

  // 1. run --rm, default network and --network none, engines in turn.
  if (has('run')) {
    for (const [key, extra] of [['run_rm', []], ['run_rm_none', ['--network', 'none']]]) {
      log(`\n== run --rm ${extra.join(' ')}${extra.length ? ' ' : ''}busybox true: ${o.warmup} warm-up + ${o.runs} timed runs each`)
      for (let i = 0; i < o.warmup + o.runs; i++) {
        for (const e of rotate(live, i)) {
          await guard(e, key, async () => {
            const r = await e.cli(e.runArgs(['--rm', ...extra, e.image, 'true']))
            if (i >= o.warmup) push(e, key, r.ms)
          })
        }
      }
      for (const e of live) if (R[e.name][key]) log(`   ${e.label}: median ${median(R[e.name][key]).toFixed(1)} ms`)
    }
  }

  // 2. create / start / exec / stop -t 0, one container per round, then rm -f (untimed).
  if (has('lifecycle')) {
    log(`\n== create, start, exec true, stop -t 0 (of a busybox sleep 1000): ${o.warmup} warm-up + ${o.runs} timed rounds each`)
    for (let i = 0; i < o.warmup + o.runs; i++) {
      for (const e of rotate(live, i)) {
        const name = `bench-life-${i}`
        await guard(e, 'lifecycle', async () => {
          try {
            const c = await e.cli(['create', '--name', name, e.image, 'sleep', '1000'])
            const s = await e.cli(['start', name])
            const x = await e.cli(['exec', name, 'true'])
            const t = await e.cli(['stop', '-t', '0', name])
            if (i >= o.warmup) { push(e, 'create', c.ms); push(e, 'start', s.ms); push(e, 'exec', x.ms); push(e, 'stop', t.ms) }
          } finally {
            await e.cli(e.rmForce([name]), { allowFail: true })
          }
        })
      }
    }
    for (const e of live) {
      const r = R[e.name]
      if (r.create) log(`   ${e.label}: create ${median(r.create).toFixed(1)}, start ${median(r.start).toFixed(1)}, exec ${median(r.exec).toFixed(1)}, stop ${median(r.stop).toFixed(1)} ms`)
    }
  }

  // 3. N sequential run -d, ps with them running, supervisor RSS, rm -f. One engine at a time.
  if (has('many')) {
    log(`\n== ${o.containers} sequential run -d busybox sleep 1000, then ps (${o.runs} timed), supervisor RSS, rm -f`)
    for (const e of live) {
      const ids = []
      await guard(e, 'many', async () => {
        try {
          const t0 = process.hrtime.bigint()
          for (let i = 0; i < o.containers; i++) {
            const r = await e.cli(e.runArgs(['-d', '--name', `bench-many-${i}`, e.image, 'sleep', '1000']))
            ids.push(r.stdout.trim())
          }
          R[e.name].many_run_s = Number(process.hrtime.bigint() - t0) / 1e9
          await e.waitIdle(10_000)
          for (let i = 0; i < 2 + o.runs; i++) {
            const r = await e.cli(['ps'])
            if (i >= 2) push(e, 'ps_running', r.ms)
            R[e.name].ps_running_rows = countRows(r.stdout)
          }
          const sup = e.supervisors()
          R[e.name].supervisors = { count: sup.length, total_kb: sup.reduce((a, p) => a + p.rss_kb, 0), comm: [...new Set(sup.map((p) => p.comm))].join('+') }
          if (e.daemonPids.length) R[e.name].rss_busy = e.rss()
          log(`   ${e.label}: ${o.containers} run -d in ${R[e.name].many_run_s.toFixed(2)} s; ps ${median(R[e.name].ps_running).toFixed(1)} ms (${R[e.name].ps_running_rows} rows); ` +
            `${sup.length} ${R[e.name].supervisors.comm || 'supervisor'} processes, ${(R[e.name].supervisors.total_kb / 1024).toFixed(1)} MB RSS`)
          if (R[e.name].ps_running_rows !== o.containers) log(`   warning: ${e.label} ps listed ${R[e.name].ps_running_rows} rows, expected ${o.containers}`)
          if (sup.length !== o.containers) log(`   note: ${e.label}: ${sup.length} supervisor processes for ${o.containers} containers`)
        } finally {
          const t1 = process.hrtime.bigint()
          for (let i = 0; i < ids.length; i += 100) await e.cli(e.rmForce(ids.slice(i, i + 100)), { allowFail: true })
          R[e.name].many_rm_s = Number(process.hrtime.bigint() - t1) / 1e9
          log(`   ${e.label}: rm -f of ${ids.length} running containers took ${R[e.name].many_rm_s.toFixed(2)} s`)
        }
      })
    }
  }

  // 4. ps -a with K created (not running) containers; engines populated first, then timed in turn.
  if (has('ps')) {
    const count = (e) => (e.name === 'berth' ? o.psBerth : o.psOthers)
    log(`\n== ps -a with created containers (berth ${o.psBerth}, others ${o.psOthers}): ${o.runs} timed runs each`)
    const created = new Map(live.map((e) => [e, []]))
    try {
      for (const e of live) {
        await guard(e, 'ps_many', async () => {
          const t0 = Date.now()
          const ids = created.get(e)
          let next = 0
          const worker = async () => {
            while (next < count(e)) {
              const i = next++
              const r = await e.cli(['create', '--name', `bench-ps-${i}`, e.image, 'sleep', '1000'])
              ids.push(r.stdout.trim())
            }
          }
          await Promise.all([worker(), worker(), worker(), worker()])
          R[e.name].ps_many_count = count(e)
          R[e.name].ps_many_create_s = (Date.now() - t0) / 1000
          log(`   ${e.label}: ${ids.length} containers created in ${R[e.name].ps_many_create_s.toFixed(1)} s (4 create calls at a time)`)
        })
      }
      for (const e of live) await e.waitIdle(20_000)
      for (let i = 0; i < 2 + o.runs; i++) {
        for (const e of rotate(live, i)) {
          await guard(e, 'ps_many', async () => {
            const r = await e.cli(['ps', '-a'])
            if (i >= 2) push(e, 'ps_many', r.ms)
            R[e.name].ps_many_rows = countRows(r.stdout)
            // The issue's target is through berth's own CLI: time it beside the docker CLI.
            if (e.name === 'berth') {
              const b = await run(process.execPath, [path.join(REPO, 'bin/berth'), 'ps', '-a'], { env: e.env })
              if (i >= 2) push(e, 'ps_many_berth_cli', b.ms)
              R[e.name].ps_many_berth_cli_rows = countRows(b.stdout)
            }
          })
        }
      }
      for (const e of live) {
        const r = R[e.name]
        if (!r.ps_many) continue
        log(`   ${e.label}: ps -a ${median(r.ps_many).toFixed(1)} ms (${r.ps_many_rows} rows)`)
        if (r.ps_many_rows !== r.ps_many_count) log(`   warning: ${e.label} ps -a listed ${r.ps_many_rows} rows, expected ${r.ps_many_count}`)
      }
    } finally {
      for (const e of live) {
        const ids = created.get(e)
        const t0 = Date.now()
        for (let i = 0; i < ids.length; i += 100) await e.cli(e.rmForce(ids.slice(i, i + 100)), { allowFail: true })
        if (ids.length) log(`   ${e.label}: rm -f of ${ids.length} created containers took ${((Date.now() - t0) / 1000).toFixed(1)} s`)
      }
    }
  }

  // 5. Logs: a container writes logsMb MiB in 100-byte lines; start..exit, then `logs > /dev/null`.
  if (has('logs')) {
    const bytes = o.logsMb * MiB
    const script = `yes ${LINE} | head -c ${bytes}`
    log(`\n== logs: ${o.logsMb} MiB to stdout in 100-byte lines (start to exit), then logs > /dev/null: ${o.logsRuns} rounds each`)
    const devnull = fs.openSync('/dev/null', 'w')
    for (let i = 0; i < o.logsRuns; i++) {
      for (const e of rotate(live, i)) {
        const name = `bench-logs-${i}`
        await guard(e, 'logs', async () => {
          try {
            await e.cli(['create', '--name', name, e.image, 'sh', '-c', script])
            spawnSync('sync')
            await e.waitIdle(10_000)
            const t0 = process.hrtime.bigint()
            await e.cli(['start', name])
            const w = await e.cli(['wait', name])
            const writeMs = Number(process.hrtime.bigint() - t0) / 1e6
            if (w.stdout.trim() !== '0') throw new Error(`the log writer exited with ${w.stdout.trim()}`)
            await e.waitIdle(10_000) // a daemon still copying output must not slow down the read
            const rd = await e.cli(['logs', name], { stdout: devnull })
            // Correctness, untimed: how many bytes the engine gives back (an engine that rotates
            // its logs by default keeps less than was written); the read rate is over those.
            const cmd = e instanceof Podman ? ['podman', ...e.base] : ['docker']
            const wc = spawnSync('sh', ['-c', `"$@" logs ${name} 2>/dev/null | wc -c`, 'sh', ...cmd], { env: e.env, encoding: 'utf8' })
            const back = Number(wc.stdout.trim())
            if (!(back > 0)) throw new Error(`logs ${name} | wc -c gave ${JSON.stringify(wc.stdout.trim())}`)
            push(e, 'logs_write', writeMs)
            push(e, 'logs_read', rd.ms)
            push(e, 'logs_bytes_back', back)
            // Time to read logsMb MiB at the rate measured: comparable whatever was kept.
            push(e, 'logs_read_norm', rd.ms * bytes / back)
            if (back !== bytes) log(`   warning: ${e.label} logs returned ${back} bytes, ${bytes} were written`)
            log(`   round ${i + 1} ${e.label.padEnd(7)}: write ${(writeMs / 1000).toFixed(2)} s (${(o.logsMb / (writeMs / 1000)).toFixed(0)} MiB/s), ` +
              `read ${(back / MiB).toFixed(1)} MiB in ${(rd.ms / 1000).toFixed(2)} s (${(back / MiB / (rd.ms / 1000)).toFixed(0)} MiB/s)`)
          } finally {
            await e.cli(e.rmForce([name]), { allowFail: true })
          }
        })
      }
    }
    fs.closeSync(devnull)
  }

  // 6. Idle RSS of the daemons, with every container gone.
  log('\n== idle RSS (5 s after the last command, no containers left)')
  for (const e of live) e.removeAllSync()
  for (const e of live) await e.waitIdle()
  await sleep(5000)
  for (const e of live) {
    if (!e.daemonPids.length) continue
    R[e.name].rss_idle = e.rss()
    log(`   ${e.label}: ${R[e.name].rss_idle.parts.map((p) => `${p.name} ${(p.rss_kb / 1024).toFixed(1)} MB`).join(' + ')}`)
  }
  return { R, errors, live }
}

// ---------------------------------------------------------------- report

const fmtMs = (x) => (x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`)
const fmtMb = (kb) => `${(kb / 1024).toFixed(1)} MB`

function report(o, R, errors, skipped, engines, contention, notes) {
  const rows = []
  const mb = o.logsMb
  const cellFor = (e, value, fmt, what) => {
    if (skipped[e]) return skipped[e]
    if (errors[e]?.start) return 'failed to start'
    if (what && errors[e]?.[what]) return 'failed'
    if (value == null) return 'n/a'
    return fmt(value)
  }
  /** get(r) -> number (lower is better), fmt(x, r) -> cell; target(berthValue, ratios) -> text */
  const addRow = (op, what, get, fmt, target) => {
    const v = Object.fromEntries(engines.map((e) => [e, R[e] && !errors[e]?.[what] ? get(R[e]) ?? null : null]))
    const ratio = (x) => (v.berth != null && v[x] && (what !== 'ps_many' || R.berth.ps_many_count === R[x].ps_many_count) ? v.berth / v[x] : null)
    const ratios = { dockerd: ratio('dockerd'), podman: ratio('podman') }
    const cells = Object.fromEntries(engines.map((e) => [e, cellFor(e, v[e], (x) => fmt(x, R[e]), what)]))
    rows.push({ op, cells, values: v, ratios, target: target ? target(v.berth, ratios) : '' })
  }
  const verdict = (ok) => (ok == null ? '' : ok ? ' (met)' : ' (missed)')
  addRow('run --rm busybox true', 'run_rm', (r) => median(r.run_rm), fmtMs,
    (b) => `<= 80 ms${verdict(b == null ? null : b <= 80)}`)
  addRow('run --rm --network none busybox true', 'run_rm_none', (r) => median(r.run_rm_none), fmtMs)
  addRow('create', 'lifecycle', (r) => median(r.create), fmtMs)
  addRow('start (created sleep 1000)', 'lifecycle', (r) => median(r.start), fmtMs)
  addRow('exec <c> true', 'lifecycle', (r) => median(r.exec), fmtMs, (b) => `<= 40 ms${verdict(b == null ? null : b <= 40)}`)
  addRow('stop -t 0', 'lifecycle', (r) => median(r.stop), fmtMs,
    (b, r) => `<= 0.5x dockerd${r.dockerd == null ? '' : verdict(r.dockerd <= 0.5)}`)
  addRow(`${o.containers} sequential run -d (total)`, 'many', (r) => r.many_run_s, (x) => `${x.toFixed(2)} s`,
    (b) => (o.containers === 50 ? `< 3 s${verdict(b == null ? null : b < 3)}` : '< 3 s for 50'))
  addRow(`rm -f of the ${o.containers} running (one command)`, 'many', (r) => r.many_rm_s, (x) => `${x.toFixed(2)} s`,
    (b, r) => `<= 0.3x dockerd${r.dockerd == null ? '' : verdict(r.dockerd <= 0.3)}`)
  addRow(`ps (${o.containers} running)`, 'many', (r) => median(r.ps_running), fmtMs)
  addRow('ps -a (N created containers)', 'ps_many', (r) => median(r.ps_many), (x, r) => `${fmtMs(x)} (${r.ps_many_count})`,
    (b) => (o.psBerth === 1000 ? `< 50 ms${verdict(b == null ? null : b < 50)}` : '< 50 ms at 1000'))
  addRow('berth ps -a (berth CLI, N created)', 'ps_many', (r) => median(r.ps_many_berth_cli), (x, r) => `${fmtMs(x)} (${r.ps_many_count})`,
    (b) => (o.psBerth === 1000 ? `<= 50 ms${verdict(b == null ? null : b <= 50)}` : '<= 50 ms at 1000'))
  addRow(`logs write ${mb} MiB (start to exit)`, 'logs', (r) => median(r.logs_write), (x) => `${(x / 1000).toFixed(2)} s (${(mb / (x / 1000)).toFixed(0)} MiB/s)`,
    (b) => `>= 150 MB/s${verdict(b == null ? null : mb / (b / 1000) >= 150)}`)
  addRow('logs read (logs > /dev/null)', 'logs', (r) => median(r.logs_read_norm), (x, r) => {
    const kept = Math.min(...r.logs_bytes_back) / MiB
    return `${(mb / (x / 1000)).toFixed(0)} MiB/s${kept < mb ? ` (only ${kept.toFixed(0)} MiB kept)` : ''}`
  },
    (b) => `>= 200 MB/s${verdict(b == null ? null : mb / (b / 1000) >= 200)}`)
  addRow('supervisor RSS per running container', 'many', (r) => (r.supervisors?.count ? r.supervisors.total_kb / o.containers : null),
    (x, r) => `${fmtMb(x)} (${r.supervisors.comm})`)
  addRow('daemon idle RSS after the runs', 'idle', (r) => r.rss_idle?.total_kb ?? null, fmtMb, (b) => `< 60 MB${verdict(b == null ? null : b / 1024 < 60)}`)

  const heads = ['measure', ...engines, 'berth/dockerd', 'berth/podman', 'berth target']
  const table = rows.map((r) => [r.op, ...engines.map((e) => r.cells[e]), r.ratios.dockerd == null ? '-' : r.ratios.dockerd.toFixed(2), r.ratios.podman == null ? '-' : r.ratios.podman.toFixed(2), r.target])
  const widths = heads.map((h, i) => Math.max(h.length, ...table.map((t) => String(t[i]).length)))
  const line = (cols) => cols.map((c, i) => (i === 0 || i === cols.length - 1 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ').trimEnd()
  const out = []
  out.push(`Container operations through each engine's CLI (docker CLI for berthd and dockerd, podman CLI); median of ${o.runs} runs after ${o.warmup} warm-ups unless stated;`)
  out.push(`lower is better; ratio = berth / other engine (times; for throughput rows the time for the same bytes), < 1 means berth is faster/smaller. MiB = 2^20 bytes.`)
  out.push(line(heads))
  out.push(line(widths.map((w) => '-'.repeat(w))))
  for (const t of table) out.push(line(t))
  out.push('')
  for (const n of notes) out.push(`  ${n}`)
  for (const e of engines) {
    const r = R[e]
    if (!r) { out.push(`  ${e}: ${skipped[e] ?? `failed to start: ${errors[e]?.start ?? '?'}`}`); continue }
    const parts = [`${e} ${r.version}`]
    if (r.many_run_s != null) parts.push(`rm -f of the ${o.containers} running took ${r.many_rm_s?.toFixed(2)} s`)
    if (r.supervisors) parts.push(`${r.supervisors.count} ${r.supervisors.comm || 'supervisor'} processes, ${fmtMb(r.supervisors.total_kb)} RSS in all`)
    if (r.rss_busy) parts.push(`daemon RSS with ${o.containers} running ${r.rss_busy.parts.map((p) => `${p.name} ${fmtMb(p.rss_kb)}`).join(' + ')}`)
    if (r.rss_idle) parts.push(`idle ${r.rss_idle.parts.map((p) => `${p.name} ${fmtMb(p.rss_kb)}`).join(' + ')}`)
    if (r.ps_many_create_s != null) parts.push(`${r.ps_many_count} created in ${r.ps_many_create_s.toFixed(1)} s, ps -a listed ${r.ps_many_rows} rows`)
    if (r.logs_bytes_back) parts.push(`logs gave back ${[...new Set(r.logs_bytes_back)].join('/')} of ${o.logsMb * MiB} bytes`)
    if (r.logs_write) parts.push(`logs write/read samples ${r.logs_write.map((x) => (x / 1000).toFixed(2)).join('/')} s / ${r.logs_read.map((x) => (x / 1000).toFixed(2)).join('/')} s`)
    out.push(`  ${parts.join('; ')}`)
    for (const [what, msg] of Object.entries(errors[e] ?? {})) out.push(`  ${e} failed during ${what}: ${msg}`)
  }
  if (contention.cpu != null) {
    out.push(`  pressure during the run (PSI "some", share of wall time some task stalled, ours or another's): CPU ${contention.cpu.toFixed(0)}%, I/O ${contention.io?.toFixed(0) ?? '?'}%`)
  }
  return { text: out.join('\n'), rows }
}

// ---------------------------------------------------------------- main

function pressure(kind) {
  try {
    const m = /some .*total=(\d+)/.exec(fs.readFileSync(`/proc/pressure/${kind}`, 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

function preflight() {
  const loadavg = os.loadavg().map((x) => round(x, 2))
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout.split('\n')
  const others = ps.filter((l) => /\b(berthd|dockerd|containerd|podman|conmon)\b/.test(l) && !l.includes(state.tmp)).map((l) => l.trim().slice(0, 160))
  const warn = []
  if (loadavg[0] > 0.5) warn.push(`load average ${loadavg[0]} at start`)
  if (others.length) warn.push(`${others.length} other engine process(es) running`)
  const warning = warn.length ? `warning: the machine was not idle: ${warn.join('; ')}; figures may be noisy` : ''
  if (warning) log(warning)
  return { loadavg, other_engine_processes: others.length, warning }
}

async function main() {
  const o = parseArgs(process.argv.slice(2))
  if (process.getuid?.() !== 0) die('needs root (dockerd, berthd and rootful podman)')
  if (!which('docker')) die('the docker CLI is not on PATH')
  if (o.tmp) {
    fs.mkdirSync(o.tmp, { recursive: true })
    state.tmp = fs.realpathSync(o.tmp)
  } else {
    state.tmp = fs.mkdtempSync('/tmp/berth-cbench-')
    state.ownTmp = true
  }
  state.keepTmp = o.keepTmp
  fs.appendFileSync(path.join(state.tmp, 'pids'), '')

  const pre = preflight()
  const fixture = ensureFixture(o.fixture)
  log(`busybox fixture: ${fixture}`)

  const available = {
    berth: fs.existsSync(path.join(REPO, 'bin', 'berthd')) && fs.existsSync(path.join(REPO, 'dist', 'src', 'daemon', 'main.js')) ? true : 'skipped: not installed (bin/berthd or dist/ missing)',
    dockerd: which('dockerd') && which('containerd') && which('containerd-shim-runc-v2') ? true : 'skipped: not installed',
    podman: which('podman') && which('conmon') ? true : 'skipped: not installed',
  }
  const skipped = {}
  const engines = []
  for (const name of o.engines) {
    if (available[name] !== true) { skipped[name] = available[name]; log(`== ${name}: ${available[name]}`); continue }
    engines.push(name === 'berth' ? new Berth(state.tmp) : name === 'dockerd' ? new Dockerd(state.tmp) : new Podman(state.tmp))
  }
  const psi0 = { cpu: pressure('cpu'), io: pressure('io') }
  const tBench = Date.now()
  const { R, errors, live } = await benchAll(engines, o, fixture)
  const pct = (k) => { const b = pressure(k); return psi0[k] != null && b != null ? (b - psi0[k]) / 1000 / (Date.now() - tBench) * 100 : null }
  const contention = { cpu: pct('cpu'), io: pct('io') }

  const notes = engines.map((e) => e.networkNote).filter(Boolean)
  notes.push(`ps -a: ${o.psBerth} created containers on berth, ${o.psOthers} on dockerd and podman; supervisor = conmon (berth, podman) or containerd-shim-runc-v2 (dockerd), summed RSS / ${o.containers} running containers`)
  if (o.psBerth !== o.psOthers) notes.push('ps -a ratios are left out (-) because the counts differ; run with --ps-others equal to --ps-berth to compare')
  notes.push('logs read: MiB/s over the bytes the engine gave back (berth rotates logs by default, max-size 20m x max-file 5, so it may keep less than was written); the ratio compares the time per MiB')
  notes.push('daemon idle RSS: berthd; dockerd + its containerd; podman has no daemon')
  if (pre.warning) notes.push(pre.warning)
  const { text, rows } = report(o, R, errors, skipped, o.engines, contention, notes)
  process.stdout.write(`\n${text}\n`)

  const stamp = new Date().toISOString().replace(/\..*/, '').replace(/:/g, '-')
  const outFile = o.out || path.join(BENCH_DIR, 'results', `containers-${stamp}.txt`)
  fs.mkdirSync(path.dirname(outFile), { recursive: true })
  const params = { runs: o.runs, warmup: o.warmup, containers: o.containers, ps_berth: o.psBerth, ps_others: o.psOthers, logs_mib: o.logsMb, logs_runs: o.logsRuns, skip: o.skip }
  fs.writeFileSync(outFile, `# bench/containers.sh ${new Date().toISOString()} on ${os.hostname()} (${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? '?'}, kernel ${os.release()})\n` +
    `# params ${JSON.stringify(params)}; load average at start ${pre.loadavg.join(' ')}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n${text}\n`)
  const jsonFile = outFile.replace(/\.txt$/, '') + '.json'
  fs.writeFileSync(jsonFile, `${JSON.stringify({
    benchmark: 'containers', date: new Date().toISOString(),
    host: { kernel: os.release(), cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? '', node: process.version },
    params,
    summary: rows.map((r) => ({ measure: r.op, ...Object.fromEntries(Object.entries(r.values).map(([k, v]) => [k, round(v, 2)])), 'berth/dockerd': round(r.ratios.dockerd, 3), 'berth/podman': round(r.ratios.podman, 3), target: r.target })),
    results: R, errors, skipped,
    machine: { before: pre, after: { loadavg: os.loadavg().map((x) => round(x, 2)) }, pressure_some_pct: { cpu: round(contention.cpu, 1), io: round(contention.io, 1) } },
  }, null, 2)}\n`)
  const rel = path.relative(process.cwd(), outFile)
  process.stdout.write(`\nresults: ${rel && !rel.startsWith('..') ? rel : outFile} (JSON: ${path.basename(jsonFile)})\n`)
  return live.length ? 0 : 1
}

main().then((code) => { process.exitCode = code }, (err) => { log(`containers.mjs: ${err.stack ?? err}`); process.exitCode = 1 })

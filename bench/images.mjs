#!/usr/bin/env node
/**
 * Image-operation benchmark: berthd vs Debian's dockerd vs podman, side by side, in one run.
 * Run it through bench/images.sh (which adds a shell-level cleanup trap); see bench/README.md.
 *
 *   node bench/images.mjs [--runs N] [--list-runs N] [--images N] [--settle SEC]
 *                         [--engines berth,dockerd,podman] [--populate load|import]
 *                         [--fixtures DIR] [--out FILE] [--tmp DIR] [--keep-tmp]
 *
 * Measures, per engine: daemon start (to the first /_ping), `load` of bench-big.tar on a store
 * without it, `rmi` of it, `images` and `images --format '{{.ID}}'` with --images distinct
 * images present, and the daemon's idle RSS after the runs. berthd and dockerd are driven by
 * the same `docker` CLI (DOCKER_HOST = each daemon's private socket); podman by its own CLI
 * with private --root/--runroot. Every daemon runs on roots under one private temp dir and is
 * stopped by PID at the end (also on SIGINT/SIGTERM); nothing else is ever signalled.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(BENCH_DIR, '..')
const ALL_ENGINES = ['berth', 'dockerd', 'podman']
const BIG_REF = 'berth-bench/big:latest'

const USAGE = `usage: bench/images.sh [options]
  --runs N            load/rmi runs per engine, median reported (default 3)
  --list-runs N       timed \`images\` calls per variant (default 20)
  --images N          distinct images present for the listing (default 500)
  --settle SEC        sleep after \`sync\` (and after the daemon went idle) between runs (default 1)
  --engines LIST      comma-separated subset of ${ALL_ENGINES.join(',')} (default: all)
  --populate HOW      load: one generated docker-save archive holding N images (default);
                      import: N \`import\` calls of tiny tarballs (slow, for cross-checking)
  --fixtures DIR      where bench-big.tar is (default: made by dist/scripts/make-fixtures.js --big)
  --out FILE          JSON results path (default bench/results/images-<date>.json)
  --tmp DIR           use this (empty) directory for roots and sockets (default: mkdtemp)
  --keep-tmp          keep the temp dir (daemons are still stopped)
`

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const o = { runs: 3, listRuns: 20, images: 500, settle: 1, engines: ALL_ENGINES, populate: 'load', fixtures: '', out: '', tmp: '', keepTmp: false }
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
    switch (a) {
      case '--runs': o.runs = int(1); break
      case '--list-runs': o.listRuns = int(1); break
      case '--images': o.images = int(1); break
      case '--settle': { const n = Number(val()); if (!(n >= 0)) die('--settle needs a number >= 0'); o.settle = n; break }
      case '--engines': {
        o.engines = val().split(',').map((s) => s.trim()).filter(Boolean)
        for (const e of o.engines) if (!ALL_ENGINES.includes(e)) die(`unknown engine ${e} (known: ${ALL_ENGINES.join(', ')})`)
        break
      }
      case '--populate': o.populate = val(); if (!['load', 'import'].includes(o.populate)) die('--populate is load or import'); break
      case '--fixtures': o.fixtures = path.resolve(val()); break
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
  process.stderr.write(`images.mjs: ${msg}\n`)
  process.exit(2)
}

const log = (msg) => process.stderr.write(`${msg}\n`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
const median = (xs) => {
  if (!xs.length) return null
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

const TICK_MS = 1000 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100)

/** `sh -c` that runs "$@" and then reports its own children's CPU (cutime, cstime) on fd 3. */
const CPU_WRAPPER = '"$@"; rc=$?; read -r s </proc/$$/stat; printf "%s\\n" "$s" >&3; exit $rc'

/**
 * Run a command to completion; resolves with its wall time in ms (from spawn to exit), exit
 * status and output. Async so that SIGINT is handled while a child runs. With cpu: true the
 * command runs under a tiny sh that reports the command's user+system CPU (cpuMs; the sh adds
 * ~1 ms of wall time, so only long operations use it).
 */
function run(cmd, args, { env, allowFail = false, timeoutMs = 30 * 60_000, cpu = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const child = cpu
      ? spawn('sh', ['-c', CPU_WRAPPER, 'sh', cmd, ...args], { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] })
      : spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    const out = []
    const err = []
    const stat = []
    child.stdout.on('data', (b) => out.push(b))
    child.stderr.on('data', (b) => err.push(b))
    if (cpu) child.stdio[3].on('data', (b) => stat.push(b))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (e) => { clearTimeout(timer); reject(e) })
    child.on('close', (status, signal) => {
      clearTimeout(timer)
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      const r = { ms, status, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), cpuMs: null }
      if (cpu) {
        const st = Buffer.concat(stat).toString()
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ')
        if (f.length > 15) r.cpuMs = (Number(f[13]) + Number(f[14])) * TICK_MS
      }
      if (!allowFail && status !== 0) {
        const e = new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${signal ?? `exit ${status}`}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`)
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

const state = { tmp: '', ownTmp: false, keepTmp: false, pids: [], cleaned: false }

function notePid(pid) {
  state.pids.push(pid)
  fs.appendFileSync(path.join(state.tmp, 'pids'), `${pid}\n`)
}

/** Alive and started by us: its command line mentions our private temp dir. */
function owned(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(state.tmp)
  } catch {
    return false
  }
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

function cleanupSync() {
  if (state.cleaned || !state.tmp) return
  state.cleaned = true
  for (const pid of state.pids) stopPidSync(pid) // in start order: dockerd before its containerd
  umountAllSync(state.tmp)
  if (state.ownTmp && !state.keepTmp) spawnSync('rm', ['-rf', '--one-file-system', '--', state.tmp], { stdio: 'inherit' })
  else if (state.keepTmp) log(`kept ${state.tmp}`)
}

process.on('exit', cleanupSync)
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(sig, () => { log(`\n${sig}: stopping daemons and cleaning up`); cleanupSync(); process.exit(code) })
}

function statFields(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return s.slice(s.lastIndexOf(')') + 2).split(' ') // f[0] = state (field 3)
  } catch {
    return null
  }
}

/** The given PIDs and all their live descendants. */
function withDescendants(pids) {
  const children = new Map()
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const f = statFields(name)
    if (!f) continue
    const ppid = Number(f[1])
    if (!children.has(ppid)) children.set(ppid, [])
    children.get(ppid).push(Number(name))
  }
  const seen = new Set()
  const stack = [...pids]
  while (stack.length) {
    const p = stack.pop()
    if (seen.has(p)) continue
    seen.add(p)
    stack.push(...(children.get(p) ?? []))
  }
  return [...seen]
}

/**
 * CPU ticks used by the given PIDs and their descendants: utime + stime + cutime + cstime, so
 * helpers a daemon runs (berthd's tar, dockerd's docker-untar, containerd) count, whether still
 * running or already reaped.
 */
function cpuTicks(pids) {
  if (!pids.length) return 0
  let t = 0
  for (const pid of withDescendants(pids)) {
    const f = statFields(pid)
    if (f) t += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])
  }
  return t
}

function rssKb(pid) {
  const r = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' })
  const n = parseInt(r.stdout.trim(), 10)
  return Number.isFinite(n) ? n : null
}

// ---------------------------------------------------------------- engines

class Engine {
  constructor(name, label) {
    this.name = name
    this.label = label
    this.daemonPids = [] // for idle detection and RSS: [{pid, name}]
    this.startMs = null
    this.version = ''
    this.bigRef = BIG_REF
  }
  async start() {}
  /** Wait until the daemon's CPU use stays flat (background work done), at most maxMs. */
  async waitIdle(maxMs = 60_000) {
    const pids = this.daemonPids.map((p) => p.pid)
    if (!pids.length) return 0
    const t0 = Date.now()
    let quiet = 0
    let last = cpuTicks(pids)
    while (Date.now() - t0 < maxMs) {
      await sleep(250)
      const now = cpuTicks(pids)
      quiet = now - last <= 1 ? quiet + 1 : 0
      last = now
      if (quiet >= 2) break
    }
    // Two quiet windows (500 ms) are the minimum; anything beyond that the daemon was busy.
    return Math.max(0, Date.now() - t0 - 500)
  }
  rss() {
    const parts = this.daemonPids.map((p) => ({ name: p.name, pid: p.pid, rss_kb: rssKb(p.pid) }))
    return { total_kb: parts.reduce((a, p) => a + (p.rss_kb ?? 0), 0), parts }
  }
}

/** berthd and dockerd: driven by the docker CLI through a private socket. */
class DockerApiEngine extends Engine {
  constructor(name, label, tmp) {
    super(name, label)
    this.sock = path.join(tmp, `${name}.sock`)
    this.env = { ...process.env, DOCKER_HOST: `unix://${this.sock}`, DOCKER_CONFIG: path.join(tmp, 'docker-cli'), DOCKER_CLI_HINTS: 'false' }
    for (const k of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION']) delete this.env[k]
    fs.mkdirSync(this.env.DOCKER_CONFIG, { recursive: true })
  }
  cli(args, opts = {}) { return run('docker', args, { env: this.env, ...opts }) }
  async waitReady(child, logFile, t0) {
    let exited = null
    child.on('exit', (code, sig) => { exited = sig ?? code })
    const deadline = Date.now() + 90_000
    while (Date.now() < deadline) {
      if (exited !== null) break
      if (fs.existsSync(this.sock) && await ping(this.sock)) {
        this.startMs = Number(process.hrtime.bigint() - t0) / 1e6
        return
      }
      await sleep(20)
    }
    const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n  ') : ''
    throw new Error(`${this.label} did not answer /_ping (${exited !== null ? `exited: ${exited}` : 'timeout'}); log tail:\n  ${tail}`)
  }
  async afterStart() {
    const v = await this.cli(['version', '--format', '{{.Server.Version}}'], { allowFail: true })
    this.version = v.stdout.trim() || `? (${v.stderr.trim().split('\n')[0]})`
  }
  load(file) { return this.cli(['load', '-i', file], { cpu: true }) }
  rmi(ref) { return this.cli(['rmi', ref], { cpu: true }) }
  async has(ref) { return (await this.cli(['image', 'inspect', '--format', '{{.Id}}', ref], { allowFail: true })).status === 0 }
  images(format) { return this.cli(format ? ['images', '--format', format] : ['images']) }
  import(file, ref) { return this.cli(['import', file, ref]) }
}

class Berth extends DockerApiEngine {
  constructor(tmp) { super('berth', 'berthd', tmp); this.tmp = tmp }
  async start() {
    const dataRoot = path.join(this.tmp, 'berth')
    const execRoot = path.join(this.tmp, 'berth-exec')
    const cfg = path.join(this.tmp, 'daemon.json')
    fs.mkdirSync(dataRoot, { recursive: true })
    fs.mkdirSync(execRoot, { recursive: true })
    fs.writeFileSync(cfg, '{}\n')
    const logFile = path.join(this.tmp, 'berthd.log')
    const fd = fs.openSync(logFile, 'a')
    const t0 = process.hrtime.bigint()
    const child = spawn(path.join(REPO, 'bin', 'berthd'), ['--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${this.sock}`, '--config-file', cfg],
      { detached: true, stdio: ['ignore', fd, fd] })
    fs.closeSync(fd)
    notePid(child.pid)
    this.daemonPids = [{ pid: child.pid, name: 'berthd' }]
    child.unref()
    await this.waitReady(child, logFile, t0)
    await this.afterStart()
  }
}

class Dockerd extends DockerApiEngine {
  constructor(tmp) { super('dockerd', 'dockerd', tmp); this.tmp = tmp }
  async start() {
    const t = this.tmp
    const cfg = path.join(t, 'docker-daemon.json')
    fs.writeFileSync(cfg, '{}\n')
    const logFile = path.join(t, 'dockerd.log')
    const fd = fs.openSync(logFile, 'a')
    const args = ['-H', `unix://${this.sock}`, '--data-root', path.join(t, 'docker'), '--exec-root', path.join(t, 'docker-exec'),
      '--pidfile', path.join(t, 'docker.pid'), '--config-file', cfg, '--bridge=none', '--iptables=false', '--ip-masq=false',
      '--storage-driver=overlay2']
    const t0 = process.hrtime.bigint()
    const child = spawn('dockerd', args, { detached: true, stdio: ['ignore', fd, fd] })
    fs.closeSync(fd)
    notePid(child.pid)
    this.daemonPids = [{ pid: child.pid, name: 'dockerd' }]
    child.unref()
    try {
      await this.waitReady(child, logFile, t0)
    } finally {
      this.#noteContainerd(child.pid)
    }
    await this.afterStart()
  }
  /** dockerd starts its own containerd (no system one is running): find it among its children. */
  #noteContainerd(ppid) {
    const r = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(ppid)], { encoding: 'utf8' })
    for (const line of r.stdout.trim().split('\n')) {
      const [pid, comm] = line.trim().split(/\s+/)
      if (comm === 'containerd' && owned(Number(pid))) {
        // Listed after dockerd, so cleanup stops it after dockerd in case dockerd leaves it.
        notePid(Number(pid))
        this.daemonPids.push({ pid: Number(pid), name: 'containerd' })
      }
    }
    if (this.daemonPids.length < 2) log('note: no containerd child of dockerd found (is a system containerd in use?); RSS counts dockerd only')
  }
}

class Podman extends Engine {
  constructor(tmp) {
    super('podman', 'podman')
    const p = path.join(tmp, 'podman')
    const dirs = { root: path.join(p, 'root'), runroot: path.join(p, 'run'), tmpdir: path.join(p, 'libpod-tmp'), copy: path.join(p, 'copy-tmp') }
    for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true })
    const containersConf = path.join(p, 'containers.conf')
    fs.writeFileSync(containersConf, `[engine]\nimage_copy_tmp_dir = "${dirs.copy}"\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n`)
    const storageConf = path.join(p, 'storage.conf')
    fs.writeFileSync(storageConf, `[storage]\ndriver = "overlay"\ngraphroot = "${dirs.root}"\nrunroot = "${dirs.runroot}"\n`)
    const registriesConf = path.join(p, 'registries.conf')
    fs.writeFileSync(registriesConf, 'unqualified-search-registries = []\n')
    this.base = ['--root', dirs.root, '--runroot', dirs.runroot, '--tmpdir', dirs.tmpdir, '--storage-driver', 'overlay',
      '--cgroup-manager', 'cgroupfs', '--events-backend', 'file']
    this.env = { ...process.env, CONTAINERS_CONF: containersConf, CONTAINERS_STORAGE_CONF: storageConf, CONTAINERS_REGISTRIES_CONF: registriesConf, TMPDIR: dirs.copy }
  }
  cli(args, opts = {}) { return run('podman', [...this.base, ...args], { env: this.env, ...opts }) }
  async start() {
    const v = await this.cli(['version', '--format', '{{.Client.Version}}'], { allowFail: true })
    this.version = v.stdout.trim() || `? (${v.stderr.trim().split('\n')[0]})`
  }
  load(file) { return this.cli(['load', '-i', file], { cpu: true }) }
  rmi(ref) { return this.cli(['rmi', ref], { cpu: true }) }
  async has(ref) { return (await this.cli(['image', 'exists', ref], { allowFail: true })).status === 0 }
  images(format) { return this.cli(format ? ['images', '--format', format] : ['images']) }
  import(file, ref) { return this.cli(['import', file, ref]) }
}

// ---------------------------------------------------------------- fixtures

function ensureFixtures(dir) {
  if (dir) {
    const big = path.join(dir, 'bench-big.tar')
    if (!fs.existsSync(big)) die(`${big} not found`)
    return big
  }
  const script = path.join(REPO, 'dist', 'scripts', 'make-fixtures.js')
  if (!fs.existsSync(script)) die(`${script} missing: build first (cd ${REPO} && npx tsc -b)`)
  log('fixtures: node dist/scripts/make-fixtures.js --big --print (cached by key)')
  const r = spawnSync(process.execPath, [script, '--big', '--print', '--quiet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (r.status !== 0) die('make-fixtures failed')
  const big = r.stdout.split('\n').map((s) => s.trim()).find((p) => path.basename(p) === 'bench-big.tar')
  if (!big) die(`make-fixtures printed no bench-big.tar:\n${r.stdout}`)
  return big
}

function archiveLayers(file) {
  const r = spawnSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8', maxBuffer: 64 << 20 })
  try { return JSON.parse(r.stdout)[0].Layers.length } catch { return null }
}

/** A minimal ustar writer: entries are {name, data} files or {name, dir: true}. */
function tar(entries) {
  const blocks = []
  for (const e of entries) {
    const data = e.dir ? Buffer.alloc(0) : Buffer.from(e.data)
    const h = Buffer.alloc(512)
    h.write(e.name, 0, 100, 'utf8')
    h.write(`${(e.dir ? 0o755 : 0o644).toString(8).padStart(7, '0')}\0`, 100)
    h.write('0000000\0', 108)
    h.write('0000000\0', 116)
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124)
    h.write(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136)
    h.write('        ', 148)
    h.write(e.dir ? '5' : '0', 156)
    h.write('ustar\0', 257)
    h.write('00', 263)
    h.write('root', 265)
    h.write('root', 297)
    let sum = 0
    for (const b of h) sum += b
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
    blocks.push(h, data)
    if (data.length % 512) blocks.push(Buffer.alloc(512 - (data.length % 512)))
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

const sha256hex = (b) => createHash('sha256').update(b).digest('hex')
const smallRef = (i) => `berth-bench/small-${String(i).padStart(3, '0')}:latest`

/** Tiny one-layer images, each with different content (so N distinct image IDs). */
function smallLayer(i) {
  return tar([{ name: 'bench/', dir: true }, { name: 'bench/id', data: `berth bench small image ${i}\n` }])
}

/** One docker-save archive (manifest.json format) holding n distinct single-tag images. */
function makeSmallArchive(file, n) {
  const entries = []
  const manifest = []
  for (let i = 0; i < n; i++) {
    const layer = smallLayer(i)
    const lhex = sha256hex(layer)
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z',
      config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${lhex}`] },
      history: [{ created: '2024-01-01T00:00:00Z', created_by: `berth bench small image ${i}` }],
    }))
    const chex = sha256hex(config)
    entries.push({ name: `${lhex}/`, dir: true }, { name: `${lhex}/layer.tar`, data: layer }, { name: `${chex}.json`, data: config })
    manifest.push({ Config: `${chex}.json`, RepoTags: [smallRef(i)], Layers: [`${lhex}/layer.tar`] })
  }
  entries.push({ name: 'manifest.json', data: JSON.stringify(manifest) })
  fs.writeFileSync(file, tar(entries))
}

function makeSmallTarballs(dir, n) {
  fs.mkdirSync(dir, { recursive: true })
  return Array.from({ length: n }, (_, i) => {
    const f = path.join(dir, `small-${i}.tar`)
    fs.writeFileSync(f, smallLayer(i))
    return f
  })
}

// ---------------------------------------------------------------- the benchmark

/** `sync`, wait until the daemon's CPU use is flat (deferred work done), then sleep. */
async function settle(engine, settleSec) {
  spawnSync('sync')
  const busyMs = await engine.waitIdle()
  if (settleSec > 0) await sleep(settleSec * 1000)
  return busyMs
}

function loadedRef(out, fallback) {
  const m = /Loaded image(?:\(s\))?: (\S+)/.exec(out)
  return m ? m[1].split(',')[0] : fallback
}

function countRows(stdout, header) {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '')
  return header ? lines.length - 1 : lines.length
}

/** Engines take turns, starting with a different one each round, so drift hits all alike. */
function rotate(list, i) {
  const k = i % list.length
  return [...list.slice(k), ...list.slice(0, k)]
}

function newResult(engine) {
  return {
    version: engine.version, start_ms: engine.startMs, daemonless: engine.daemonPids.length === 0,
    load_ms: [], load_cpu_ms: [], rmi_ms: [], rmi_cpu_ms: [], busy_after_load_ms: [], busy_after_rmi_ms: [],
    populate: {}, images_ms: [], images_format_ms: [], images_rows: null, images_format_rows: null,
    rss_start: null, rss_idle: null,
  }
}

/**
 * One load + rmi round on a settled store without the image. CPU = the CLI's own CPU plus the
 * daemon's (dockerd + containerd, berthd) from the start of the command until it is idle again,
 * so deferred work (berthd deletes in the background) is counted too.
 */
async function loadRmiRound(engine, r, big, o, i) {
  const daemon = engine.daemonPids.map((p) => p.pid)
  if (await engine.has(engine.bigRef)) { await engine.rmi(engine.bigRef); await settle(engine, o.settle) }
  let t0 = cpuTicks(daemon)
  const l = await engine.load(big.file)
  engine.bigRef = loadedRef(l.stdout, engine.bigRef)
  const busyLoad = await settle(engine, 0)
  r.load_ms.push(l.ms)
  r.load_cpu_ms.push((l.cpuMs ?? 0) + (cpuTicks(daemon) - t0) * TICK_MS)
  if (!r.daemonless) r.busy_after_load_ms.push(busyLoad)
  if (o.settle > 0) await sleep(o.settle * 1000)
  t0 = cpuTicks(daemon)
  const d = await engine.rmi(engine.bigRef)
  const busyRmi = await settle(engine, 0)
  r.rmi_ms.push(d.ms)
  r.rmi_cpu_ms.push((d.cpuMs ?? 0) + (cpuTicks(daemon) - t0) * TICK_MS)
  if (!r.daemonless) r.busy_after_rmi_ms.push(busyRmi)
  if (o.settle > 0) await sleep(o.settle * 1000)
  log(`   round ${i + 1}/${o.runs} ${engine.label.padEnd(7)}: load ${l.ms.toFixed(0)} ms (cpu ${r.load_cpu_ms.at(-1).toFixed(0)} ms), ` +
    `rmi ${d.ms.toFixed(0)} ms${busyRmi > 0 && !r.daemonless ? ` (+${busyRmi} ms busy after)` : ''}`)
}

async function populate(engine, r, o, small) {
  const t0 = Date.now()
  if (o.populate === 'load') {
    await engine.load(small.archive)
    r.populate = { how: `one load of a generated ${o.images}-image docker-save archive`, ms: Date.now() - t0 }
  } else {
    for (let i = 0; i < o.images; i++) await engine.import(small.tarballs[i], smallRef(i))
    r.populate = { how: `${o.images} import calls`, ms: Date.now() - t0 }
  }
  log(`   ${engine.label}: ${o.images} images created in ${Date.now() - t0} ms (${o.populate})`)
}

/** Runs every phase with the engines taking turns; returns {results, errors}. */
async function benchAll(engines, o, big, small) {
  const results = {}
  const errors = {}
  const live = []
  const guard = async (engine, what, fn) => {
    try {
      await fn()
    } catch (err) {
      errors[engine.name] = `${what}: ${err.message ?? err}`
      log(`   ${engine.label} FAILED during ${what}: ${err.message ?? err}`)
      for (const p of engine.daemonPids) stopPidSync(p.pid)
      live.splice(live.indexOf(engine), 1)
      delete results[engine.name]
    }
  }

  log('\n== starting engines')
  for (const e of engines) {
    try {
      await e.start()
      live.push(e)
      results[e.name] = newResult(e)
      log(`   ${e.label} ${e.version}${e.startMs != null ? `: answering /_ping after ${e.startMs.toFixed(0)} ms` : ' (daemonless)'}`)
    } catch (err) {
      errors[e.name] = `start: ${err.message ?? err}`
      log(`   ${e.label} FAILED to start: ${err.message ?? err}`)
      for (const p of e.daemonPids) stopPidSync(p.pid)
    }
  }
  for (const e of live) { await settle(e, 0); if (e.daemonPids.length) results[e.name].rss_start = e.rss() }

  log(`\n== load + rmi of bench-big, ${o.runs} round(s), engines in turn`)
  for (let i = 0; i < o.runs; i++) {
    for (const e of rotate([...live], i)) await guard(e, 'load/rmi', () => loadRmiRound(e, results[e.name], big, o, i))
  }

  log(`\n== images with ${o.images} images present`)
  for (const e of [...live]) await guard(e, 'populate', async () => { await populate(e, results[e.name], o, small); await settle(e, o.settle) })
  for (const e of [...live]) {
    await guard(e, 'images', async () => { for (let w = 0; w < 2; w++) { await e.images(); await e.images('{{.ID}}') } })
  }
  for (const [key, format, header] of [['images_ms', undefined, true], ['images_format_ms', '{{.ID}}', false]]) {
    for (let i = 0; i < o.listRuns; i++) {
      for (const e of rotate([...live], i)) {
        await guard(e, 'images', async () => {
          const x = await e.images(format)
          const r = results[e.name]
          r[key].push(x.ms)
          r[header ? 'images_rows' : 'images_format_rows'] = countRows(x.stdout, header)
        })
      }
    }
  }
  for (const e of live) {
    const r = results[e.name]
    log(`   ${e.label}: images ${r.images_rows} rows, median ${median(r.images_ms).toFixed(1)} ms; --format ${r.images_format_rows} rows, median ${median(r.images_format_ms).toFixed(1)} ms`)
    if (r.images_rows !== o.images) log(`   warning: ${e.label} listed ${r.images_rows} rows, expected ${o.images}`)
  }

  log('\n== idle RSS (5 s after the last command; the images are still present)')
  for (const e of live) await settle(e, 0)
  await sleep(5000)
  for (const e of live) {
    if (!e.daemonPids.length) continue
    const r = results[e.name]
    r.rss_idle = e.rss()
    log(`   ${e.label}: ${r.rss_idle.parts.map((p) => `${p.name} ${(p.rss_kb / 1024).toFixed(1)} MB`).join(' + ')}`)
  }
  for (const e of live) for (const p of e.daemonPids) stopPidSync(p.pid) // dockerd before its containerd
  for (const r of Object.values(results)) {
    for (const k of ['load_ms', 'load_cpu_ms', 'rmi_ms', 'rmi_cpu_ms', 'images_ms', 'images_format_ms']) r[k] = r[k].map((x) => round(x, 2))
    if (r.start_ms != null) r.start_ms = round(r.start_ms, 1)
  }
  return { results, errors }
}

// ---------------------------------------------------------------- report

function fmtMs(x) {
  if (x == null) return null
  return x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`
}

function report(o, big, results, skipped, contention) {
  const engines = o.engines
  const mb = big.size / 1e6
  const rows = []
  const val = (e, f) => (results[e] ? f(results[e]) : null)
  const ratios = (f) => ({
    dockerd: val('berth', f) != null && val('dockerd', f) ? val('berth', f) / val('dockerd', f) : null,
    podman: val('berth', f) != null && val('podman', f) ? val('berth', f) / val('podman', f) : null,
  })
  const addRow = (op, f, cell) => rows.push({ op, cells: Object.fromEntries(engines.map((e) => [e, results[e] ? (f(results[e]) == null ? 'n/a' : cell(f(results[e]))) : skipped[e]])), ratio: ratios(f), values: Object.fromEntries(engines.map((e) => [e, val(e, f)])) })

  addRow('daemon start (to first /_ping)', (r) => r.start_ms, fmtMs)
  addRow(`load bench-big (${mb.toFixed(1)} MB${big.layers ? `, ${big.layers} layers` : ''})`, (r) => median(r.load_ms), (x) => `${fmtMs(x)} (${(mb / (x / 1000)).toFixed(0)} MB/s)`)
  addRow('  load CPU time (CLI + daemon)', (r) => median(r.load_cpu_ms), fmtMs)
  addRow('rmi bench-big', (r) => median(r.rmi_ms), fmtMs)
  addRow('  rmi CPU time (incl. deferred work)', (r) => median(r.rmi_cpu_ms), fmtMs)
  addRow(`images (${o.images} images)`, (r) => median(r.images_ms), fmtMs)
  addRow("images --format '{{.ID}}'", (r) => median(r.images_format_ms), fmtMs)
  addRow('idle RSS after the runs', (r) => (r.rss_idle ? r.rss_idle.total_kb / 1024 : null), (x) => `${x.toFixed(1)} MB`)
  addRow('  RSS right after start', (r) => (r.rss_start ? r.rss_start.total_kb / 1024 : null), (x) => `${x.toFixed(1)} MB`)

  const heads = ['operation', ...engines.map((e) => (e === 'berth' ? 'berth' : e)), 'berth/dockerd', 'berth/podman']
  const table = rows.map((r) => [r.op, ...engines.map((e) => r.cells[e]), r.ratio.dockerd == null ? '-' : r.ratio.dockerd.toFixed(2), r.ratio.podman == null ? '-' : r.ratio.podman.toFixed(2)])
  const widths = heads.map((h, i) => Math.max(h.length, ...table.map((t) => String(t[i]).length)))
  const line = (cols) => cols.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')
  const out = []
  out.push('')
  out.push(`Image operations, median of ${o.runs} (load, rmi) / ${o.listRuns} (images) runs; lower is better; ratio < 1 means berth is faster/smaller`)
  out.push(line(heads))
  out.push(line(widths.map((w) => '-'.repeat(w))))
  for (const t of table) out.push(line(t))
  out.push('')
  for (const e of engines) {
    const r = results[e]
    if (!r) { out.push(`  ${e}: ${skipped[e]}`); continue }
    const rssParts = r.rss_idle ? r.rss_idle.parts.map((p) => `${p.name} ${(p.rss_kb / 1024).toFixed(1)} MB`).join(' + ') : 'n/a (daemonless)'
    const all = (xs) => xs.map((x) => x.toFixed(0)).join('/')
    out.push(`  ${e} ${r.version}: load ${all(r.load_ms)} ms; rmi ${all(r.rmi_ms)} ms` +
      (r.busy_after_rmi_ms.some((x) => x > 0) ? ` (daemon busy ${all(r.busy_after_rmi_ms)} ms after rmi returned)` : '') +
      `; images ${r.images_rows} rows (--format ${r.images_format_rows} rows); idle RSS ${rssParts}`)
  }
  out.push(`  listing: ${o.images} distinct images (different content, one tag each), created by ${o.populate === 'load' ? 'one load of a generated docker-save archive' : `${o.images} import calls`}`)
  if (contention.cpu != null) {
    out.push(`  pressure during the run (PSI "some", share of wall time some task stalled, ours or another's): ` +
      `CPU ${contention.cpu.toFixed(0)}%, I/O ${contention.io?.toFixed(0) ?? '?'}%`)
  }
  return { text: out.join('\n'), rows }
}

// ---------------------------------------------------------------- main

/** Total microseconds some task waited for a CPU (or for I/O) (Linux PSI), or null. */
function pressure(kind) {
  try {
    const m = /some .*total=(\d+)/.exec(fs.readFileSync(`/proc/pressure/${kind}`, 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

/** Other engines or a busy machine make the figures noisy: say so (in the output and JSON). */
function preflight() {
  const loadavg = os.loadavg().map((x) => round(x, 2))
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout.split('\n')
  const others = ps.filter((l) => /\b(berthd|dockerd|containerd|podman)\b/.test(l) && !l.includes(state.tmp)).map((l) => l.trim().slice(0, 160))
  const warn = []
  if (loadavg[0] > 0.5) warn.push(`load average ${loadavg[0]} at start`)
  if (others.length) warn.push(`${others.length} other engine process(es) running (pids ${others.map((l) => l.split(' ')[0]).join(', ')})`)
  const warning = warn.length ? `warning: the machine was not idle: ${warn.join('; ')}; figures may be noisy` : ''
  if (warning) log(warning)
  return { loadavg, other_engine_processes: others, warning }
}

async function main() {
  const o = parseArgs(process.argv.slice(2))
  if (process.getuid?.() !== 0) die('needs root (dockerd, berthd and rootful podman)')
  if (!which('docker')) die('the docker CLI is not on PATH')

  if (o.tmp) {
    fs.mkdirSync(o.tmp, { recursive: true })
    state.tmp = fs.realpathSync(o.tmp)
  } else {
    state.tmp = fs.mkdtempSync('/tmp/berth-bench-')
    state.ownTmp = true
  }
  state.keepTmp = o.keepTmp
  fs.appendFileSync(path.join(state.tmp, 'pids'), '')

  const pre = preflight()
  const bigFile = ensureFixtures(o.fixtures)
  const big = { file: bigFile, size: fs.statSync(bigFile).size, layers: archiveLayers(bigFile) }
  log(`bench-big: ${big.file} (${(big.size / 1e6).toFixed(1)} MB, ${big.layers ?? '?'} layers)`)
  spawnSync('cat', [bigFile], { stdio: ['ignore', 'ignore', 'ignore'] }) // same page-cache state for every engine

  const small = { archive: path.join(state.tmp, 'small-images.tar'), tarballs: [] }
  if (o.populate === 'load') makeSmallArchive(small.archive, o.images)
  else small.tarballs = makeSmallTarballs(path.join(state.tmp, 'small'), o.images)

  const available = {
    berth: fs.existsSync(path.join(REPO, 'bin', 'berthd')) && fs.existsSync(path.join(REPO, 'dist', 'src', 'daemon', 'main.js')) ? true : 'skipped: not installed (bin/berthd or dist/ missing; run npx tsc -b)',
    dockerd: which('dockerd') && which('containerd') ? true : 'skipped: not installed',
    podman: which('podman') ? true : 'skipped: not installed',
  }
  const skipped = {}
  const engines = []
  for (const name of o.engines) {
    if (available[name] !== true) { skipped[name] = available[name]; log(`== ${name}: ${available[name]}`); continue }
    engines.push(name === 'berth' ? new Berth(state.tmp) : name === 'dockerd' ? new Dockerd(state.tmp) : new Podman(state.tmp))
  }
  const psi0 = { cpu: pressure('cpu'), io: pressure('io') }
  const tBench = Date.now()
  const { results, errors } = await benchAll(engines, o, big, small)
  const pct = (k) => { const b = pressure(k); return psi0[k] != null && b != null ? (b - psi0[k]) / 1000 / (Date.now() - tBench) * 100 : null }
  const contention = { cpu: pct('cpu'), io: pct('io') }
  for (const name of Object.keys(errors)) skipped[name] = 'failed (see below)'

  const { text, rows } = report(o, big, results, skipped, contention)
  process.stdout.write(`${text}\n`)
  for (const [e, m] of Object.entries(errors)) process.stdout.write(`${e} failed: ${m}\n`)
  if (pre.warning) process.stdout.write(`${pre.warning}\n`)

  const stamp = new Date().toISOString().replace(/\..*/, '').replace(/:/g, '-')
  const outFile = o.out || path.join(BENCH_DIR, 'results', `images-${stamp}.json`)
  fs.mkdirSync(path.dirname(outFile), { recursive: true })
  const json = {
    benchmark: 'images',
    date: new Date().toISOString(),
    host: { kernel: os.release(), cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? '', mem_mb: Math.round(os.totalmem() / 1048576), node: process.version },
    params: { runs: o.runs, list_runs: o.listRuns, images: o.images, settle_s: o.settle, populate: o.populate },
    archive: { file: big.file, bytes: big.size, mb: round(big.size / 1e6, 1), layers: big.layers },
    docker_cli: spawnSync('docker', ['--version'], { encoding: 'utf8' }).stdout.trim(),
    summary: rows.map((r) => ({ operation: r.op.trim(), ...Object.fromEntries(Object.entries(r.values).map(([k, v]) => [k, round(v, 2)])), 'berth/dockerd': round(r.ratio.dockerd, 3), 'berth/podman': round(r.ratio.podman, 3) })),
    load_mb_s: Object.fromEntries(Object.entries(results).map(([e, r]) => [e, round(big.size / 1e6 / (median(r.load_ms) / 1000), 1)])),
    results,
    skipped,
    errors,
    machine: { before: pre, after: { loadavg: os.loadavg().map((x) => round(x, 2)) }, pressure_some_pct: { cpu: round(contention.cpu, 1), io: round(contention.io, 1) } },
  }
  fs.writeFileSync(outFile, `${JSON.stringify(json, null, 2)}\n`)
  process.stdout.write(`\nJSON: ${path.relative(process.cwd(), outFile) || outFile}\n`)
  return Object.keys(errors).length ? 1 : 0
}

main().then((code) => { process.exitCode = code }, (err) => { log(`images.mjs: ${err.stack ?? err}`); process.exitCode = 1 })

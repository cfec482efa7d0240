import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, readFile, access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'

/** The repository root (dist/test/integration/ → ../../..). */
export const REPO = resolve(fileURLToPath(new URL('../../../', import.meta.url)))
export const BERTHD = join(REPO, 'bin', 'berthd')
export const BERTH = join(REPO, 'bin', 'berth')
export const FIXTURES = process.env.BERTH_FIXTURES ?? join(REPO, '.cache', 'fixtures')

export interface DaemonHandle {
  root: string
  dataRoot: string
  execRoot: string
  socket: string
  host: string
  proc: ChildProcess
  /** Everything berthd wrote to stderr so far. */
  log(): string
  /** SIGTERM and wait. */
  stop(): Promise<void>
  /** SIGKILL and wait (crash). */
  kill(): Promise<void>
  /** Start it again on the same roots (stopping it first if it still runs). */
  restart(): Promise<void>
  /** Stop and remove every file it made. */
  cleanup(): Promise<void>
}

/** Start a private berthd on a temporary socket and data root. */
export async function startDaemon(extraArgs: string[] = []): Promise<DaemonHandle> {
  const root = await mkdtemp(join(tmpdir(), 'berth-it-'))
  const dataRoot = join(root, 'data')
  const execRoot = join(root, 'exec')
  const socket = join(root, 'berth.sock')
  let logText = ''
  const h: DaemonHandle = {
    root, dataRoot, execRoot, socket, host: `unix://${socket}`,
    proc: undefined as unknown as ChildProcess,
    log: () => logText,
    async stop() {
      if (h.proc.exitCode !== null || h.proc.signalCode !== null) return
      const done = new Promise((r) => h.proc.once('exit', r))
      h.proc.kill('SIGTERM')
      await done
    },
    async kill() {
      if (h.proc.exitCode !== null || h.proc.signalCode !== null) return
      const done = new Promise((r) => h.proc.once('exit', r))
      h.proc.kill('SIGKILL')
      await done
    },
    async restart() {
      // A daemon still running is stopped first: two on one data root would leave one orphaned.
      await h.stop()
      await launch()
    },
    async cleanup() {
      // Containers outlive the daemon by design: remove them first, then anything still mounted.
      if (h.proc.exitCode === null && h.proc.signalCode === null) {
        try {
          const list = await api(h, 'GET', '/containers/json?all=1')
          for (const c of list.json() as Array<{ Id: string }>) await api(h, 'DELETE', `/containers/${c.Id}?force=1`)
        } catch {
          // the daemon is not answering: the mounts are unmounted below
        }
      }
      await h.stop()
      const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(`${root}/`))
      for (const m of mounts.sort().reverse()) await runCmd('umount', ['-l', m])
      await rm(root, { recursive: true, force: true })
    },
  }
  const launch = async () => {
    const args = ['--data-root', dataRoot, '--exec-root', execRoot, '-H', h.host, '--config-file', join(root, 'daemon.json'), ...extraArgs]
    h.proc = spawn(process.execPath, [BERTHD, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    h.proc.stderr!.on('data', (b: Buffer) => (logText += b.toString()))
    await waitForPing(socket, h.proc, () => logText)
  }
  await writeEmptyConfig(join(root, 'daemon.json'))
  try {
    await launch()
  } catch (err) {
    // A daemon that did not come up leaves nothing behind either.
    await h.kill().catch(() => {})
    await rm(root, { recursive: true, force: true })
    throw err
  }
  return h
}

async function writeEmptyConfig(p: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises')
  await writeFile(p, '{}\n')
}

async function waitForPing(socket: string, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`berthd exited with ${proc.exitCode}: ${log()}`)
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ socketPath: socket, path: '/_ping', method: 'GET' }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
        req.on('error', reject)
        req.end()
      })
      if (status === 200) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`berthd did not answer /_ping in time: ${log()}`)
}

export interface RunResult { code: number; stdout: string; stderr: string }

/** Run a command with DOCKER_HOST pointing at the daemon. */
export function runCmd(cmd: string, args: string[], opts: { host?: string; input?: Buffer | string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(cmd, args, {
      env: { ...process.env, ...(opts.host ? { DOCKER_HOST: opts.host, BERTH_HOST: opts.host } : {}), DOCKER_CONFIG: process.env.DOCKER_CONFIG ?? join(tmpdir(), 'berth-it-docker-config'), ...opts.env },
      encoding: 'buffer',
      maxBuffer: 512 << 20,
      timeout: opts.timeoutMs ?? 120_000,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0
      if (err && code === -1 && !(err as { killed?: boolean }).killed) return reject(err)
      resolvePromise({ code, stdout: stdout.toString(), stderr: stderr.toString() })
    })
    if (opts.input !== undefined) child.stdin!.end(opts.input)
    else child.stdin!.end()
  })
}

export const docker = (h: DaemonHandle, ...args: string[]) => runCmd('docker', args, { host: h.host })
export const berth = (h: DaemonHandle, ...args: string[]) => runCmd(process.execPath, [BERTH, ...args], { host: h.host })

/** Raw API call over the daemon's socket. */
export function api(h: DaemonHandle, method: string, path: string, body?: Buffer | string | object, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; json: () => unknown }> {
  return new Promise((resolvePromise, reject) => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body)
    const req = request({ socketPath: h.socket, path, method, headers: { ...(payload !== undefined && !Buffer.isBuffer(body) && typeof body === 'object' ? { 'Content-Type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const buf = Buffer.concat(chunks)
        resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString()) })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/** Fixture tarballs (made by scripts/make-fixtures). */
export async function fixture(name: 'busybox' | 'hello-world' | 'bench-big'): Promise<string> {
  const p = join(FIXTURES, `${name}.tar`)
  await access(p)
  return p
}

export async function fixtureBytes(name: 'busybox' | 'hello-world'): Promise<Buffer> {
  return readFile(await fixture(name))
}

export const isRoot = process.getuid?.() === 0

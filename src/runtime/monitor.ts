import { stat } from 'node:fs/promises'
import { constants } from 'node:os'
import { join } from 'node:path'
import { internal } from '../lib/errors.js'
import { run } from '../platform/exec.js'
import { processAlive as alive, readStateFile, spawnConmon } from '../platform/monitor-process.js'
import { isNotFoundErrno } from '../lib/errors.js'

/** Where a runtime keeps its state and which binary it is. */
export interface RuntimeRef {
  name: string
  path: string
  /** `--root` for the runtime's state: berth's own, under the exec root. */
  root: string
}

export interface MonitorOptions {
  id: string
  bundle: string
  runtime: RuntimeRef
  exitDir: string
  /** conmon writes `exit` and `oom` here. */
  persistDir: string
  logPath: string
  logSizeMax?: number
  /** No log at all (`--log-driver none`): conmon's own `none` driver. */
  noLog?: boolean
  terminal: boolean
  stdin: boolean
  /** Keep the container's stdin open when an attached client goes (not for `run -i`, whose stdin is once). */
  leaveStdinOpen: boolean
  conmonPidFile: string
  containerPidFile: string
}

/**
 * Start a container's monitor: conmon double-forks (so it outlives berthd), runs
 * `<runtime> create`, then reports the container's PID on the sync pipe (fd 4). The container
 * is created, not started: call `startContainer` once attach streams are connected.
 */
export function createWithMonitor(o: MonitorOptions): Promise<{ pid: number }> {
  const args = [
    '--api-version', '1', '-c', o.id, '-u', o.id, '-n', o.id,
    '-r', o.runtime.path, '-b', o.bundle, '-p', o.containerPidFile, '-P', o.conmonPidFile,
    '--exit-dir', o.exitDir, '--persist-dir', o.persistDir,
    '-l', o.noLog ? 'none' : `k8s-file:${o.logPath}`, '--full-attach', '--socket-dir-path', o.bundle,
    '--runtime-arg', `--root=${o.runtime.root}`, '--log-level', 'error', '--no-sync-log',
  ]
  if (o.logSizeMax && o.logSizeMax > 0) args.push('--log-size-max', String(o.logSizeMax))
  if (o.terminal) args.push('-t')
  if (o.stdin) args.push('-i')
  if (o.stdin && o.leaveStdinOpen) args.push('--leave-stdin-open')
  return new Promise((resolve, reject) => {
    const child = spawnConmon(args, {
      // conmon also drops its `oom` marker in its working directory: keep that in the bundle.
      cwd: o.bundle,
      stdio: ['ignore', 'ignore', 'pipe', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '4' },
    })
    let stderr = ''
    let sync = ''
    let settled = false
    const done = (err: Error | undefined, pid?: number) => {
      if (settled) return
      settled = true
      if (err) reject(err)
      else resolve({ pid: pid! })
    }
    child.stderr!.on('data', (b: Buffer) => { stderr += b.toString() })
    child.on('error', (err) => done(internal('ERR_MONITOR', `cannot start conmon: ${err.message}`)))
    const syncPipe = child.stdio[4] as NodeJS.ReadableStream
    syncPipe.on('data', (b: Buffer) => {
      sync += b.toString()
      const nl = sync.indexOf('\n')
      const text = nl >= 0 ? sync.slice(0, nl) : sync
      let msg: { data?: number; pid?: number; message?: string }
      try {
        msg = JSON.parse(text) as typeof msg
      } catch {
        return // partial line
      }
      const pid = msg.data ?? msg.pid ?? -1
      ;(syncPipe as unknown as { destroy(): void }).destroy()
      if (pid > 0) done(undefined, pid)
      else done(internal('ERR_RUNTIME_CREATE', runtimeMessage(msg.message ?? stderr)))
    })
    syncPipe.on('end', () => done(internal('ERR_RUNTIME_CREATE', runtimeMessage(stderr || 'conmon exited before the container was created'))))
    child.unref()
  })
}

/** crun and runc print `error: ...` / JSON log lines: keep the message. */
function runtimeMessage(s: string): string {
  const lines = s.trim().split('\n').map((l) => {
    try {
      const j = JSON.parse(l) as { msg?: string }
      return j.msg ?? l
    } catch {
      return l
    }
  })
  return lines.filter(Boolean).join('; ').replace(/^\[conmon:e\]: /, '')
}

/** `SIGTERM` or `15` (also real-time signals by number) as a number; undefined when unknown. */
function signalNumberOf(signal: string): number | undefined {
  if (/^\d+$/.test(signal)) return Number(signal)
  return (constants.signals as Record<string, number | undefined>)[signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`]
}

async function runtimeCmd(rt: RuntimeRef, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(rt.path, [`--root=${rt.root}`, ...args])
}

export async function startContainer(rt: RuntimeRef, id: string): Promise<void> {
  const r = await runtimeCmd(rt, ['start', id])
  if (r.code !== 0) throw internal('ERR_RUNTIME_START', runtimeMessage(r.stderr) || `${rt.name} start failed`)
}

/**
 * Send a signal; `all` signals every process of the container. Returns false when it is gone.
 * With `pid` (the container's init, when signalling it alone reaches what was asked: one
 * process, or SIGKILL in a PID namespace of its own, whose end takes every process of the
 * namespace with it) the signal is sent directly, as `<runtime> kill` would send it, without
 * starting the runtime (a spawn of ~5-15 ms on the hot path of stop, kill and rm -f).
 */
export async function killContainer(rt: RuntimeRef, id: string, signal: string, all = false, pid?: number): Promise<boolean> {
  const num = signalNumberOf(signal)
  if (pid && pid > 0 && num !== undefined && (!all || num === constants.signals.SIGKILL)) {
    try {
      process.kill(pid, num)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
      // Anything else (EPERM): let the runtime say it in its words.
    }
  }
  const r = await runtimeCmd(rt, ['kill', ...(all ? ['--all'] : []), id, signal])
  if (r.code === 0) return true
  if (/does not exist|not running|no such|container .* is not running|process already finished/i.test(r.stderr)) return false
  throw internal('ERR_RUNTIME_KILL', runtimeMessage(r.stderr))
}

export async function deleteContainer(rt: RuntimeRef, id: string, force = false): Promise<void> {
  const r = await runtimeCmd(rt, ['delete', ...(force ? ['--force'] : []), id])
  if (r.code !== 0 && !/does not exist|no such|not found/i.test(r.stderr)) throw internal('ERR_RUNTIME_DELETE', runtimeMessage(r.stderr))
}

export async function pauseContainer(rt: RuntimeRef, id: string, pause: boolean): Promise<void> {
  const r = await runtimeCmd(rt, [pause ? 'pause' : 'resume', id])
  if (r.code !== 0) throw internal('ERR_RUNTIME_PAUSE', runtimeMessage(r.stderr))
}

/** Apply new cgroup limits to a running container (`<runtime> update --resources <file>`). */
export async function updateContainer(rt: RuntimeRef, id: string, resourcesFile: string): Promise<void> {
  const r = await runtimeCmd(rt, ['update', '--resources', resourcesFile, id])
  if (r.code !== 0) throw internal('ERR_RUNTIME_UPDATE', runtimeMessage(r.stderr) || `${rt.name} update failed`)
}

export function processAlive(pid: number): boolean {
  return alive(pid)
}

/** Whether the runtime keeps state for a container (its directory under the runtime's root). */
export async function hasRuntimeState(rt: RuntimeRef, id: string): Promise<boolean> {
  try {
    await stat(join(rt.root, id))
    return true
  } catch (err) {
    if (isNotFoundErrno(err)) return false
    throw err
  }
}

/** The seccomp filter crun compiled for a container (`seccomp.bpf` in its state dir), if any. */
export function compiledSeccomp(rt: RuntimeRef, id: string): Promise<Buffer | undefined> {
  return readStateFile(join(rt.root, id, 'seccomp.bpf'))
}

export interface ExecMonitorOptions {
  containerId: string
  sessionId: string
  runtime: RuntimeRef
  /** The session's own directory: conmon's bundle, attach socket, ctl FIFO and pid files. */
  dir: string
  processSpec: string
  terminal: boolean
  stdin: boolean
  /** Wait until the caller has connected to the attach socket before running the process. */
  attach: boolean
}

export interface ExecMonitor {
  /** Resolves once the attach socket exists (attach sessions). */
  attachReady: Promise<void>
  /** Let conmon run the process once the attach socket is connected (attach sessions). */
  proceed(): void
  /** The process's PID, or the runtime's error. */
  pid: Promise<number>
  /** The exit status, once the process has ended (128+signal for a signal). */
  exit: Promise<{ code: number; message?: string }>
}

/**
 * Run a process in a running container under its own conmon (`--exec`): conmon runs
 * `<runtime> exec --process <spec> -d`, becomes the process's reaper, holds its stdio on an
 * attach socket in `dir` and reports PID then exit status on the sync pipe (fd 4). With
 * `attach`, conmon first signals on the attach pipe (fd 6) that its socket is ready and waits on
 * the start pipe (fd 5) before running the process, so no output is lost.
 */
export function execWithMonitor(o: ExecMonitorOptions): ExecMonitor {
  const args = [
    '--api-version', '1', '-c', o.containerId, '-u', o.sessionId, '-n', o.containerId,
    '-r', o.runtime.path, '-b', o.dir, '-p', `${o.dir}/pid`, '-P', `${o.dir}/conmon.pid`,
    '-l', 'none', '--full-attach', '--socket-dir-path', o.dir, '--exec', '--exec-process-spec', o.processSpec,
    '--runtime-arg', `--root=${o.runtime.root}`, '--log-level', 'error',
  ]
  if (o.attach) args.push('--exec-attach')
  if (o.terminal) args.push('-t')
  if (o.stdin) args.push('-i')
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '4' }
  if (o.attach) Object.assign(env, { _OCI_STARTPIPE: '5', _OCI_ATTACHPIPE: '6' })
  const child = spawnConmon(args, {
    cwd: o.dir,
    stdio: ['ignore', 'ignore', 'pipe', 'ignore', 'pipe', ...(o.attach ? ['pipe', 'pipe'] as const : [])],
    env,
  })
  let stderr = ''
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString() })
  const fds = child.stdio as unknown as Array<NodeJS.ReadWriteStream | null>
  const messages = syncMessages(fds[4]!)
  const startPipe = o.attach ? fds[5]! : undefined
  // conmon reads the start pipe once before it forks (for cgroup placement) and once more,
  // with `--exec-attach`, before it runs the process.
  startPipe?.write('0')
  const spawnError = new Promise<never>((_, reject) => child.on('error', (err) => reject(internal('ERR_MONITOR', `cannot start conmon: ${err.message}`))))
  spawnError.catch(() => {})
  const attachReady = o.attach
    ? Promise.race([spawnError, new Promise<void>((resolve, reject) => {
      const p = fds[6]!
      p.once('data', () => { (p as unknown as { destroy(): void }).destroy(); resolve() })
      p.once('end', () => reject(internal('ERR_EXEC', runtimeMessage(stderr) || 'conmon exited before the exec session was ready')))
    })])
    : Promise.resolve()
  const pid = Promise.race([spawnError, messages.next().then((m) => {
    if (!m) throw internal('ERR_EXEC', runtimeMessage(stderr) || 'conmon exited before the process started')
    if (m.data > 0) return m.data
    throw internal('ERR_EXEC', runtimeMessage(m.message ?? stderr))
  })])
  const exit = pid.then(async () => {
    const m = await messages.next()
    if (!m) return { code: 255, message: 'the exec monitor exited without a status' }
    return { code: m.data, ...(m.message ? { message: m.message } : {}) }
  })
  attachReady.catch(() => {})
  exit.catch(() => {})
  child.unref()
  return {
    attachReady,
    proceed: () => { startPipe?.end('0') },
    pid,
    exit,
  }
}

/** conmon's sync pipe: one JSON object per line, `{"data": n, "message": "..."}`. */
function syncMessages(pipe: NodeJS.ReadableStream): { next(): Promise<{ data: number; message?: string } | undefined> } {
  const queue: Array<{ data: number; message?: string }> = []
  const waiting: Array<(m: { data: number; message?: string } | undefined) => void> = []
  let buf = ''
  let ended = false
  pipe.on('data', (b: Buffer) => {
    buf += b.toString()
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      if (!line.trim()) continue
      let m: { data?: number; pid?: number; message?: string }
      try { m = JSON.parse(line) as typeof m } catch { continue }
      const msg = { data: m.data ?? m.pid ?? -1, ...(m.message ? { message: m.message } : {}) }
      const w = waiting.shift()
      if (w) w(msg)
      else queue.push(msg)
    }
  })
  const end = () => {
    ended = true
    for (const w of waiting.splice(0)) w(undefined)
  }
  pipe.on('end', end)
  pipe.on('error', end)
  pipe.on('close', end)
  return {
    next: () => {
      const m = queue.shift()
      if (m || ended) return Promise.resolve(m)
      return new Promise((resolve) => waiting.push(resolve))
    },
  }
}

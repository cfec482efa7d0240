import { spawn } from 'node:child_process'
import { internal } from '../lib/errors.js'
import { run } from '../platform/exec.js'

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
    '-l', `k8s-file:${o.logPath}`, '--full-attach', '--socket-dir-path', o.bundle,
    '--runtime-arg', `--root=${o.runtime.root}`, '--log-level', 'error', '--no-sync-log',
  ]
  if (o.logSizeMax && o.logSizeMax > 0) args.push('--log-size-max', String(o.logSizeMax))
  if (o.terminal) args.push('-t')
  if (o.stdin) args.push('-i')
  if (o.stdin && o.leaveStdinOpen) args.push('--leave-stdin-open')
  return new Promise((resolve, reject) => {
    const child = spawn('conmon', args, {
      // conmon also drops its `oom` marker in its working directory: keep that in the bundle.
      cwd: o.bundle,
      stdio: ['ignore', 'ignore', 'pipe', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '4' },
      detached: true,
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

async function runtimeCmd(rt: RuntimeRef, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(rt.path, [`--root=${rt.root}`, ...args])
}

export async function startContainer(rt: RuntimeRef, id: string): Promise<void> {
  const r = await runtimeCmd(rt, ['start', id])
  if (r.code !== 0) throw internal('ERR_RUNTIME_START', runtimeMessage(r.stderr) || `${rt.name} start failed`)
}

/** Send a signal; `all` signals every process of the container. Returns false when it is gone. */
export async function killContainer(rt: RuntimeRef, id: string, signal: string, all = false): Promise<boolean> {
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

export function processAlive(pid: number): boolean {
  if (!(pid > 0)) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

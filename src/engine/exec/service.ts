import { SeqpacketSocket } from 'node-unix-socket'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { newId } from '../../lib/digest.js'
import { conflict, EngineError, internal, invalid, notFound } from '../../lib/errors.js'
import { connectSeqpacket } from '../../platform/seqpacket.js'
import { execWithMonitor } from '../../runtime/monitor.js'
import { hostInfo, serializeSpec, type OciProcess, type OciSpec } from '../../runtime/spec.js'
import type { ContainerService, LifecycleListener } from '../containers/service.js'
import type { ContainerRecord } from '../containers/types.js'
import { resolveUser } from '../containers/user.js'
import { traceMark } from '../containers/trace.js'

export interface ExecConfig {
  cmd: string[]
  env: string[]
  user: string
  workingDir: string
  privileged: boolean
  tty: boolean
  attachStdin: boolean
  attachStdout: boolean
  attachStderr: boolean
  detachKeys: string
  consoleSize?: { height: number; width: number }
}

export interface ExecSession {
  id: string
  containerId: string
  config: ExecConfig
  running: boolean
  /** null until the process has ended (or failed to start). */
  exitCode: number | null
  pid: number
  started: boolean
  endedAt?: number
}

/** How a started session is joined to a client: called once the attach socket exists. */
export interface ExecAttach {
  connect(socketPath: string): Promise<void>
}

/** Ended sessions are kept this long for `exec inspect`, as Docker keeps them until the container goes. */
const KEEP_ENDED_MS = 5 * 60_000

/**
 * Processes run in running containers (`docker exec`). Each runs under a conmon of its own
 * (`conmon --exec`), which holds its stdio on an attach socket and reports its exit status, so
 * no Node process is involved and a session's output is not lost when the client connects late.
 * Sessions live in memory, as Docker's do.
 */
export class ExecService implements LifecycleListener {
  readonly #sessions = new Map<string, ExecSession>()
  readonly #root: string

  constructor(readonly containers: ContainerService, execRoot: string, readonly log: (msg: string) => void) {
    this.#root = join(execRoot, 'exec')
  }

  async init(): Promise<void> {
    // Sessions do not outlive berthd's memory: what a previous run left is gone.
    await rm(this.#root, { recursive: true, force: true })
    await mkdir(this.#root, { recursive: true, mode: 0o700 })
  }

  running(_rec: ContainerRecord): void {}

  /** A container that stops takes its exec sessions with it. */
  stopped(rec: ContainerRecord): void {
    for (const s of this.#sessions.values()) if (s.containerId === rec.id && !s.running) this.#sessions.delete(s.id)
  }

  get(id: string): ExecSession {
    const s = this.#sessions.get(id)
    if (!s) throw notFound('ERR_EXEC_NOT_FOUND', `No such exec instance: ${id}`)
    return s
  }

  /** Exec sessions of a container (inspect's ExecIDs). */
  idsOf(containerId: string): string[] {
    return [...this.#sessions.values()].filter((s) => s.containerId === containerId).map((s) => s.id)
  }

  create(ref: string, config: ExecConfig): string {
    const rec = this.containers.resolve(ref)
    this.#checkRunning(rec)
    if (config.cmd.length === 0) throw invalid('ERR_EXEC_NO_CMD', 'No exec command specified')
    if (config.workingDir && !config.workingDir.startsWith('/')) throw invalid('ERR_EXEC_WORKDIR', `the working directory '${config.workingDir}' is invalid, it needs to be an absolute path`)
    this.#gc()
    const id = newId()
    this.#sessions.set(id, { id, containerId: rec.id, config, running: false, exitCode: null, pid: 0, started: false })
    this.containers.emit(rec, `exec_create: ${config.cmd.join(' ')}`, { execID: id })
    return id
  }

  #checkRunning(rec: ContainerRecord): void {
    if (rec.state.status === 'paused') throw conflict('ERR_CONTAINER_PAUSED', `Container ${rec.id} is paused, unpause the container before exec`)
    if (rec.state.status === 'restarting') throw conflict('ERR_CONTAINER_RESTARTING', `Container ${rec.id} is restarting, wait until the container is running`)
    if (rec.state.status !== 'running') throw conflict('ERR_NOT_RUNNING', `Container ${rec.id} is not running`)
  }

  /**
   * Start a session. With `attach`, the process runs only once the client is connected to its
   * socket. Resolves once the process runs (or failed to); `ended` resolves with its exit code.
   */
  async start(id: string, opts: { attach?: ExecAttach; consoleSize?: { height: number; width: number } } = {}): Promise<{ ended: Promise<number> }> {
    const s = this.get(id)
    if (s.exitCode !== null) throw conflict('ERR_EXEC_RAN', `Error: Exec command ${id} has already run`)
    if (s.running || s.started) throw conflict('ERR_EXEC_RUNNING', `Error: Exec command ${id} is already running`)
    const rec = this.containers.resolve(s.containerId)
    this.#checkRunning(rec)
    s.started = true
    traceMark(`exec start ${id.slice(0, 12)}`)
    const dir = join(this.#root, id)
    const cmdline = s.config.cmd.join(' ')
    this.containers.emit(rec, `exec_start: ${cmdline}`, { execID: id })
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 })
      const spec = join(dir, 'process.json')
      // A private file of this session, read once by the runtime: no need for an atomic, synced write.
      await writeFile(spec, await this.#processSpec(rec, s.config, opts.consoleSize ?? s.config.consoleSize), { mode: 0o600 })
      traceMark(`exec spec written ${id.slice(0, 12)}`)
      const mon = execWithMonitor({
        containerId: rec.id,
        sessionId: id,
        runtime: this.containers.runtimeOf(rec),
        dir,
        processSpec: spec,
        terminal: s.config.tty,
        stdin: s.config.attachStdin,
        attach: !!opts.attach,
      })
      if (opts.attach) {
        await mon.attachReady
        traceMark(`exec attach ready ${id.slice(0, 12)}`)
        await opts.attach.connect(join(dir, 'attach'))
        traceMark(`exec connected ${id.slice(0, 12)}`)
        mon.proceed()
      }
      s.pid = await mon.pid
      traceMark(`exec pid ${id.slice(0, 12)}`)
      s.running = true
      const ended = mon.exit.then(async ({ code }) => {
        traceMark(`exec exit ${id.slice(0, 12)}`)
        this.#ended(s, rec, code)
        await rm(dir, { recursive: true, force: true })
        return code
      })
      return { ended }
    } catch (err) {
      // As Docker: a process that could not start counts as ended with 126.
      this.#ended(s, rec, 126)
      await rm(dir, { recursive: true, force: true })
      throw execError(err)
    }
  }

  #ended(s: ExecSession, rec: ContainerRecord, code: number): void {
    s.running = false
    s.exitCode = code
    s.endedAt = Date.now()
    this.containers.emit(rec, 'exec_die', { execID: s.id, exitCode: String(code) })
  }

  /** Resize a session's terminal through its monitor's control FIFO. */
  controlPath(id: string): string {
    this.get(id)
    return join(this.#root, id, 'ctl')
  }

  /**
   * The process spec: the container's own (capabilities, rlimits, no-new-privileges, apparmor...)
   * with the exec's command, environment, user, working directory and terminal.
   */
  async #processSpec(rec: ContainerRecord, c: ExecConfig, consoleSize?: { height: number; width: number }): Promise<string> {
    const text = await this.containers.runtimeSpec(rec.id)
    const spec = JSON.parse(text) as OciSpec
    const proc: OciProcess = { ...spec.process }
    // Without a user of its own the process runs as the container's, already resolved in its spec.
    const user = c.user
      ? await resolveUser(this.containers.rootfsDir(rec.id), c.user)
      : { uid: proc.user.uid, gid: proc.user.gid, additionalGids: proc.user.additionalGids ?? [], home: '' }
    const env = new Map<string, string>()
    for (const e of [...proc.env, ...c.env]) env.set(e.split('=')[0]!, e)
    if (c.tty && !env.has('TERM')) env.set('TERM', 'TERM=xterm')
    if (c.user && !c.env.some((e) => e.startsWith('HOME='))) env.set('HOME', `HOME=${user.home || '/'}`)
    proc.args = c.cmd
    proc.env = [...env.values()]
    proc.cwd = c.workingDir || proc.cwd || '/'
    proc.terminal = c.tty
    if (c.tty && consoleSize && consoleSize.height > 0 && consoleSize.width > 0) proc.consoleSize = consoleSize
    else delete proc.consoleSize
    proc.user = { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) }
    const caps = c.privileged ? [...hostInfo().capabilities] : proc.capabilities.bounding ?? []
    proc.capabilities = user.uid === 0 ? { bounding: caps, effective: [...caps], permitted: [...caps] } : { bounding: caps }
    // Unlimited rlimits are 2^64-1, which JSON.parse rounded: write them back exact.
    if (proc.rlimits) proc.rlimits = proc.rlimits.map((r) => ({ ...r, hard: exactLimit(r.hard), soft: exactLimit(r.soft) }))
    return serializeSpec(proc as unknown as OciSpec)
  }

  /**
   * Run a command to its end, collecting up to `maxOutput` bytes of stdout and stderr
   * (healthchecks). After `timeoutMs` the process is killed and `timedOut` is set.
   */
  async run(containerId: string, cmd: string[], opts: { timeoutMs: number; maxOutput: number }): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    const id = this.create(containerId, { cmd, env: [], user: '', workingDir: '', privileged: false, tty: false, attachStdin: false, attachStdout: true, attachStderr: true, detachKeys: '' })
    const chunks: Buffer[] = []
    let size = 0
    let sock: SeqpacketSocket | undefined
    let started!: Promise<{ ended: Promise<number> }>
    const closed = new Promise<void>((resolve) => {
      const attach: ExecAttach = {
        connect: (path) => new Promise<void>((ok, fail) => {
          const s = new SeqpacketSocket()
          sock = s
          s.on('data', (b: Buffer) => {
            if (b.length < 2 || size >= opts.maxOutput) return
            const part = b.subarray(1, 1 + opts.maxOutput - size)
            chunks.push(part)
            size += part.length
          })
          s.on('end', () => resolve())
          s.on('close', () => resolve())
          s.on('error', (err: Error) => { fail(err); resolve() })
          try { connectSeqpacket(s, path, () => ok()) } catch (err) { fail(err as Error) }
        }),
      }
      started = this.start(id, { attach })
    })
    let timedOut = false
    let timer: NodeJS.Timeout | undefined
    try {
      const { ended } = await started
      const session = this.get(id)
      const timeout = new Promise<number>((resolve) => {
        timer = setTimeout(() => {
          timedOut = true
          try { process.kill(session.pid, 'SIGKILL') } catch { /* already gone */ }
          resolve(-1)
        }, opts.timeoutMs)
      })
      const exitCode = await Promise.race([ended, timeout])
      if (!timedOut) await Promise.race([closed, new Promise((r) => setTimeout(r, 200))])
      return { exitCode, output: Buffer.concat(chunks).toString('utf8'), timedOut }
    } finally {
      if (timer) clearTimeout(timer)
      sock?.destroy()
      this.#sessions.delete(id)
    }
  }

  #gc(): void {
    const now = Date.now()
    for (const s of this.#sessions.values()) if (s.endedAt && now - s.endedAt > KEEP_ENDED_MS) this.#sessions.delete(s.id)
  }
}

function exactLimit(v: number | bigint): number | bigint {
  return typeof v === 'number' && v > Number.MAX_SAFE_INTEGER ? 18446744073709551615n : v
}

/** The runtime's words, as Docker reports an exec that could not start. */
function execError(err: unknown): EngineError {
  if (err instanceof EngineError && err.kind !== 'Internal') return err
  const m = (err as Error).message ?? String(err)
  const notFoundExe = /executable file `([^`]*)` not found in \$PATH/.exec(m)
  const what = notFoundExe ? `exec: "${notFoundExe[1]}": executable file not found in $PATH` : m
  return internal('ERR_EXEC_START', `OCI runtime exec failed: exec failed: unable to start container process: ${what}: unknown`, err)
}

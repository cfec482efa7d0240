/**
 * An in-memory Platform for unit tests of engine logic: no root, no processes, no mounts.
 * Spawned commands are recorded and answered by scripts; the mount table and kernel files are
 * maps. It keeps the contracts of platform.ts (the suite in testsuite.ts runs against it).
 */
import { PassThrough } from 'node:stream'
import { internal } from '../lib/errors.js'
import { KernelCgroups } from './host.js'
import type { DeviceKind, FileTools, KernelFiles, MountEntry, Mounts, Platform, RunOptions, RunResult, Spawner, StartOptions, ToolExit, ToolProcess } from './platform.js'

/** One recorded command. */
export interface SpawnCall {
  via: 'run' | 'start' | 'runSync'
  cmd: string
  args: string[]
  /** What the tool read on stdin (for `start`, everything written before stdin ended). */
  input: Buffer
  env?: NodeJS.ProcessEnv
  cwd?: string
  extraFds?: number[]
}

/** A scripted tool's answer; code defaults to 0. */
export interface ScriptedAnswer {
  code?: number
  stdout?: string | Buffer
  stderr?: string
}

export type Script = (call: SpawnCall) => ScriptedAnswer | Promise<ScriptedAnswer>

/** Node's error for a tool missing from PATH. */
function enoent(cmd: string, args: string[]): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn ${cmd} ENOENT`), { code: 'ENOENT', errno: -2, syscall: `spawn ${cmd}`, path: cmd, spawnargs: args })
}

function abortError(): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' })
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }

/**
 * Records every command; answers with the most recently added script that matches, so a test
 * can override a default. An unscripted tool behaves as one missing from PATH (ENOENT).
 */
export class FakeSpawner implements Spawner {
  readonly calls: SpawnCall[] = []
  #scripts: Array<{ match: (c: SpawnCall) => boolean; script: Script }> = []

  /** Script a tool by name, or by a predicate over the call. */
  on(cmd: string | ((call: SpawnCall) => boolean), answer: ScriptedAnswer | Script): this {
    const match = typeof cmd === 'string' ? (c: SpawnCall) => c.cmd === cmd : cmd
    this.#scripts.push({ match, script: typeof answer === 'function' ? answer : () => answer })
    return this
  }

  /** Calls of one tool. */
  callsOf(cmd: string): SpawnCall[] {
    return this.calls.filter((c) => c.cmd === cmd)
  }

  #find(call: SpawnCall): Script | undefined {
    for (let i = this.#scripts.length - 1; i >= 0; i--) if (this.#scripts[i]!.match(call)) return this.#scripts[i]!.script
    return undefined
  }

  async run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const call: SpawnCall = { via: 'run', cmd, args: [...args], input: Buffer.from(opts.input ?? ''), ...(opts.env ? { env: opts.env } : {}), ...(opts.cwd ? { cwd: opts.cwd } : {}) }
    this.calls.push(call)
    if (opts.signal?.aborted) throw abortError()
    const script = this.#find(call)
    if (!script) throw enoent(cmd, args)
    const a = await script(call)
    if (opts.signal?.aborted) throw abortError()
    return { code: a.code ?? 0, stdout: a.stdout?.toString() ?? '', stderr: a.stderr ?? '' }
  }

  runSync(cmd: string, args: string[], opts: { stdin?: 'inherit' | 'ignore'; input?: string } = {}): RunResult {
    const call: SpawnCall = { via: 'runSync', cmd, args: [...args], input: Buffer.from(opts.input ?? '') }
    this.calls.push(call)
    const script = this.#find(call)
    if (!script) throw enoent(cmd, args)
    const a = script(call)
    if (a instanceof Promise) throw new Error(`fake: the script of ${cmd} is async; runSync needs a synchronous answer`)
    return { code: a.code ?? 0, stdout: a.stdout?.toString() ?? '', stderr: a.stderr ?? '' }
  }

  start(cmd: string, args: string[], opts: StartOptions = {}): ToolProcess {
    const call: SpawnCall = {
      via: 'start', cmd, args: [...args], input: Buffer.alloc(0),
      ...(opts.env ? { env: opts.env } : {}), ...(opts.cwd ? { cwd: opts.cwd } : {}), ...(opts.extraFds ? { extraFds: [...opts.extraFds] } : {}),
    }
    this.calls.push(call)
    const script = this.#find(call)
    const stdin = (opts.stdin ?? 'pipe') === 'pipe' ? new PassThrough() : null
    const stdout = (opts.stdout ?? 'pipe') === 'pipe' ? new PassThrough() : null
    let settle!: (e: ToolExit) => void
    const exit = new Promise<ToolExit>((resolve) => (settle = resolve))
    let exited = false
    const finish = (e: ToolExit) => {
      if (exited) return
      exited = true
      opts.signal?.removeEventListener('abort', onAbort)
      stdout?.end()
      if (stdin) { stdin.removeAllListeners('data'); stdin.resume() } // later writes are dropped
      settle(e)
    }
    const kill = (sig: NodeJS.Signals = 'SIGTERM') => finish({ code: 128 + (SIGNALS[sig] ?? 0), stderr: '' })
    const onAbort = () => kill('SIGKILL')
    if (!script) {
      queueMicrotask(() => finish({ code: -1, stderr: '', spawnError: enoent(cmd, args) }))
      return { stdin, stdout, exit, kill }
    }
    if (opts.signal?.aborted) queueMicrotask(onAbort)
    else opts.signal?.addEventListener('abort', onAbort, { once: true })
    const answer = async () => {
      if (exited) return
      const a = await script(call)
      if (exited) return
      if (a.stdout !== undefined && stdout) stdout.write(a.stdout)
      finish({ code: a.code ?? 0, stderr: a.stderr ?? '' })
    }
    if (stdin) {
      const chunks: Buffer[] = []
      stdin.on('data', (b: Buffer) => chunks.push(b))
      stdin.on('end', () => { call.input = Buffer.concat(chunks); void answer() })
    } else queueMicrotask(() => void answer())
    return { stdin, stdout, exit, kill }
  }
}

/** A mount table in memory. `failNext` makes the next call of a method reject as the host's would. */
export class FakeMounts implements Mounts {
  readonly table: MountEntry[] = []
  #failures = new Map<string, string>()

  failNext(method: 'mountOverlay' | 'bind' | 'mount' | 'unmount', message: string): void {
    this.#failures.set(method, message)
  }

  #fail(method: string): void {
    const msg = this.#failures.get(method)
    if (msg === undefined) return
    this.#failures.delete(method)
    throw internal(method === 'unmount' ? 'ERR_UNMOUNT' : 'ERR_MOUNT', msg)
  }

  async mountOverlay(lower: string[], upper: string, work: string, target: string): Promise<void> {
    this.#fail('mountOverlay')
    this.table.push({ target, source: 'overlay', fsType: 'overlay', options: ['rw', `lowerdir=${lower.join(':')}`, `upperdir=${upper}`, `workdir=${work}`] })
  }

  async bind(source: string, target: string, opts: { readonly?: boolean; recursive?: boolean } = {}): Promise<void> {
    this.#fail('bind')
    this.table.push({ target, source, fsType: 'bind', options: [opts.readonly ? 'ro' : 'rw', ...(opts.recursive ? ['rbind'] : [])] })
  }

  async mount(source: string, target: string, opts: { type?: string; options?: string }): Promise<void> {
    this.#fail('mount')
    this.table.push({ target, source, fsType: opts.type ?? 'none', options: (opts.options ?? 'rw').split(',') })
  }

  async unmount(target: string): Promise<void> {
    const i = this.table.map((m) => m.target).lastIndexOf(target)
    if (i < 0) return
    this.#fail('unmount')
    this.table.splice(i, 1)
  }

  async isMounted(target: string): Promise<boolean> {
    return this.table.some((m) => m.target === target)
  }

  async list(under?: string): Promise<MountEntry[]> {
    if (under === undefined) return this.table.map((m) => ({ ...m, options: [...m.options] }))
    const prefix = under.endsWith('/') ? under : `${under}/`
    return this.table.filter((m) => m.target.startsWith(prefix) && m.target !== prefix).map((m) => ({ ...m, options: [...m.options] }))
  }
}

/** Kernel files in a map; directories are implied by the paths below them. */
export class FakeKernelFiles implements KernelFiles {
  readonly files = new Map<string, string>()
  readonly links = new Map<string, string>()
  /** Every write, in order. */
  readonly writes: Array<{ path: string; value: string }> = []

  /** Create or replace a file. */
  set(path: string, text: string): this {
    this.files.set(path, text)
    return this
  }

  link(path: string, target: string): this {
    this.links.set(path, target)
    return this
  }

  /** Remove a file, a link, or everything under a directory (a process exits, a cgroup goes). */
  remove(path: string): void {
    for (const m of [this.files, this.links]) for (const k of [...m.keys()]) if (k === path || k.startsWith(`${path}/`)) m.delete(k)
  }

  async read(path: string): Promise<string | undefined> {
    return this.files.get(path)
  }

  async write(path: string, value: string): Promise<void> {
    if (!this.files.has(path)) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT', errno: -2, syscall: 'open', path })
    this.writes.push({ path, value })
    this.files.set(path, value)
  }

  async readlink(path: string): Promise<string | undefined> {
    return this.links.get(path)
  }

  async list(dir: string): Promise<string[] | undefined> {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`
    const names = new Set<string>()
    for (const k of [...this.files.keys(), ...this.links.keys()]) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]!)
    return names.size ? [...names].sort() : undefined
  }
}

/** FileTools that record what they were asked to do instead of touching the filesystem. */
export class FakeFileTools implements FileTools {
  readonly whiteouts = new Set<string>()
  readonly opaque = new Set<string>()
  readonly nodes = new Map<string, { mode: number; kind: DeviceKind }>()

  async makeWhiteouts(paths: string[]): Promise<void> {
    for (const p of paths) this.whiteouts.add(p)
  }

  async markOpaque(dirs: string[]): Promise<void> {
    for (const d of dirs) this.opaque.add(d)
  }

  async findOpaque(root: string): Promise<string[]> {
    return [...this.opaque].filter((d) => d === root || d.startsWith(`${root.replace(/\/+$/, '')}/`)).sort()
  }

  async mknod(path: string, mode: number, kind: DeviceKind): Promise<void> {
    this.nodes.set(path, { mode: mode & 0o7777, kind })
  }
}

export class FakePlatform implements Platform {
  readonly spawner = new FakeSpawner()
  readonly mounts = new FakeMounts()
  readonly files = new FakeKernelFiles()
  readonly cgroups = new KernelCgroups(this.files)
  readonly fileTools = new FakeFileTools()
}

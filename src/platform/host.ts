/** The real Platform: the host's tools, mount table and kernel files. */
import { spawn, spawnSync, type StdioOptions } from 'node:child_process'
import { readFile, readdir, readlink, writeFile } from 'node:fs/promises'
import { internal } from '../lib/errors.js'
import { CgroupStatsReader } from './cgroup-stats.js'
import { run } from './exec.js'
import { bindMount, isMountPoint, mountFs, mountOverlay, parseMountInfo, unmount } from './mount.js'
import type { Cgroups, DeviceKind, FileTools, KernelFiles, MountEntry, Mounts, Platform, RunOptions, RunResult, Spawner, StartOptions, ToolExit, ToolProcess } from './platform.js'

const STDERR_MAX = 64 * 1024

/** Errors that mean "the kernel object is not there (any more)". */
const GONE = new Set(['ENOENT', 'ESRCH', 'ENODEV', 'ENOTDIR'])
const gone = (err: unknown) => GONE.has((err as NodeJS.ErrnoException).code ?? '')

export class HostSpawner implements Spawner {
  run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const { input, env, cwd, signal } = opts
    return run(cmd, args, { ...(input !== undefined ? { input } : {}), ...(env ? { env } : {}), ...(cwd ? { cwd } : {}), ...(signal ? { signal } : {}) })
  }

  start(cmd: string, args: string[], opts: StartOptions = {}): ToolProcess {
    const stdio: StdioOptions = [opts.stdin ?? 'pipe', opts.stdout ?? 'pipe', 'pipe', ...(opts.extraFds ?? [])]
    const child = spawn(cmd, args, { stdio, ...(opts.env ? { env: opts.env } : {}), ...(opts.cwd ? { cwd: opts.cwd } : {}) })
    const stderr: Buffer[] = []
    let stderrLen = 0
    child.stderr!.on('data', (b: Buffer) => {
      if (stderrLen >= STDERR_MAX) return
      stderr.push(b)
      stderrLen += b.length
    })
    child.stdin?.on('error', () => {})
    const signal = opts.signal
    const onAbort = () => child.kill('SIGKILL')
    if (signal?.aborted) queueMicrotask(onAbort)
    else signal?.addEventListener('abort', onAbort, { once: true })
    const exit = new Promise<ToolExit>((resolve) => {
      let spawnError: Error | undefined
      child.once('error', (err) => {
        spawnError = err
        // A tool that never started emits no 'close' when it has no stdio to close.
        if (child.pid === undefined) queueMicrotask(() => done(-1))
      })
      let settled = false
      const done = (code: number) => {
        if (settled) return
        settled = true
        signal?.removeEventListener('abort', onAbort)
        const text = Buffer.concat(stderr).subarray(0, STDERR_MAX).toString()
        resolve({ code, stderr: text, ...(spawnError ? { spawnError } : {}) })
      }
      child.once('close', (code, sig) => done(spawnError && child.pid === undefined ? -1 : code ?? (sig ? 128 + signalNumber(sig) : -1)))
    })
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      exit,
      kill: (sig) => { if (child.exitCode === null && child.signalCode === null) child.kill(sig ?? 'SIGTERM') },
    }
  }

  runSync(cmd: string, args: string[], opts: { stdin?: 'inherit' | 'ignore'; input?: string } = {}): RunResult {
    const r = spawnSync(cmd, args, { stdio: [opts.input !== undefined ? 'pipe' : opts.stdin ?? 'ignore', 'pipe', 'pipe'], ...(opts.input !== undefined ? { input: opts.input } : {}) })
    if (r.error) throw r.error
    return { code: r.status ?? (r.signal ? 128 + signalNumber(r.signal) : -1), stdout: r.stdout.toString(), stderr: r.stderr.toString() }
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 }
function signalNumber(sig: string): number {
  return SIGNALS[sig] ?? 0
}

export class HostMounts implements Mounts {
  mountOverlay(lower: string[], upper: string, work: string, target: string): Promise<void> {
    return mountOverlay(lower, upper, work, target)
  }

  bind(source: string, target: string, opts: { readonly?: boolean; recursive?: boolean } = {}): Promise<void> {
    return bindMount(source, target, opts)
  }

  mount(source: string, target: string, opts: { type?: string; options?: string }): Promise<void> {
    return mountFs(source, target, opts)
  }

  unmount(target: string): Promise<void> {
    return unmount(target)
  }

  isMounted(target: string): Promise<boolean> {
    return isMountPoint(target)
  }

  async list(under?: string): Promise<MountEntry[]> {
    const all = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'))
    if (under === undefined) return all
    const prefix = under.endsWith('/') ? under : `${under}/`
    return all.filter((m) => m.target.startsWith(prefix) && m.target !== prefix)
  }
}

export class HostKernelFiles implements KernelFiles {
  async read(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8')
    } catch (err) {
      if (gone(err)) return undefined
      throw err
    }
  }

  write(path: string, value: string): Promise<void> {
    // No O_CREAT: kernel files exist or the write is wrong.
    return writeFile(path, value, { flag: 'r+' })
  }

  async readlink(path: string): Promise<string | undefined> {
    try {
      return await readlink(path)
    } catch (err) {
      if (gone(err)) return undefined
      throw err
    }
  }

  async list(dir: string): Promise<string[] | undefined> {
    try {
      return (await readdir(dir)).sort()
    } catch (err) {
      if (gone(err)) return undefined
      throw err
    }
  }
}

/** Cgroups over any KernelFiles (the fake builds its own on fake files). */
export class KernelCgroups implements Cgroups {
  constructor(readonly files: KernelFiles | undefined, readonly root = '/sys/fs/cgroup', readonly procRoot = '/proc') {}

  statsReader(): CgroupStatsReader {
    const files = this.files
    return files ? new CgroupStatsReader(this.root, this.procRoot, (p) => files.read(p)) : new CgroupStatsReader(this.root, this.procRoot)
  }

  async unlimitPids(cgroupsPath: string): Promise<void> {
    const files = this.files ?? new HostKernelFiles()
    for (const file of [`${this.root}/pids${cgroupsPath}/pids.max`, `${this.root}${cgroupsPath}/pids.max`]) {
      try {
        await files.write(file, 'max')
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
  }
}

/** Shell snippet: replace each argument by a 0/0 character device. */
const WHITEOUT_SH = 'for f in "$@"; do rm -rf -- "$f" && mknod -m 0 -- "$f" c 0 0 || exit 1; done'
const BATCH = 500

/** FileTools over a Spawner: sh+mknod, setfattr, getfattr. */
export class ToolFileTools implements FileTools {
  constructor(readonly spawner: Spawner) {}

  async #checked(cmd: string, args: string[]): Promise<string> {
    const r = await this.spawner.run(cmd, args)
    if (r.code !== 0) throw internal('ERR_COMMAND_FAILED', `${cmd} ${args[0] ?? ''}: ${r.stderr.trim() || `exit status ${r.code}`}`)
    return r.stdout
  }

  async makeWhiteouts(paths: string[]): Promise<void> {
    for (let i = 0; i < paths.length; i += BATCH) await this.#checked('sh', ['-c', WHITEOUT_SH, 'sh', ...paths.slice(i, i + BATCH)])
  }

  async markOpaque(dirs: string[]): Promise<void> {
    for (let i = 0; i < dirs.length; i += BATCH) await this.#checked('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', '--', ...dirs.slice(i, i + BATCH)])
  }

  async findOpaque(root: string): Promise<string[]> {
    // getfattr exits 1 when some file lacks the attribute: the listing is still complete.
    const r = await this.spawner.run('getfattr', ['-h', '-R', '--absolute-names', '-n', 'trusted.overlay.opaque', '--', root])
    return parseGetfattr(r.stdout, 'trusted.overlay.opaque', 'y')
  }

  async mknod(path: string, mode: number, kind: DeviceKind): Promise<void> {
    const spec = kind.type === 'p' ? ['p'] : [kind.type, String(kind.major), String(kind.minor)]
    await this.#checked('mknod', ['-m', (mode & 0o7777).toString(8), '--', path, ...spec])
  }
}

/** Files of a `getfattr -R --absolute-names -n NAME` listing whose NAME is `value`. */
export function parseGetfattr(text: string, name: string, value: string): string[] {
  const out: string[] = []
  let file: string | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) file = unescapeGetfattr(line.slice(8))
    else if (file !== undefined && line === `${name}="${value}"`) out.push(file)
  }
  return out
}

/** getfattr escapes control characters, `\` and `=` as \ooo octal, byte by byte. */
export function unescapeGetfattr(s: string): string {
  if (!s.includes('\\')) return s
  const bytes: number[] = []
  for (let i = 0; i < s.length; i++) {
    const m = /^\\([0-7]{3})/.exec(s.slice(i, i + 4))
    if (m) { bytes.push(parseInt(m[1]!, 8)); i += 3; continue }
    bytes.push(...Buffer.from(s[i]!))
  }
  return Buffer.from(bytes).toString()
}

export class HostPlatform implements Platform {
  readonly spawner = new HostSpawner()
  readonly mounts = new HostMounts()
  readonly files = new HostKernelFiles()
  readonly cgroups = new KernelCgroups(undefined)
  readonly fileTools = new ToolFileTools(this.spawner)
}

let real: HostPlatform | undefined

/** The host this process runs on (one shared instance). */
export function realPlatform(): Platform {
  return (real ??= new HostPlatform())
}

/**
 * The operating system as the engine sees it: system tools it runs, mounts it makes, kernel files
 * (/proc, /sys) it reads. Everything here is a small interface with its contract in its doc
 * comment; `realPlatform()` is the host, `FakePlatform` (fake.ts) an in-memory stand-in for unit
 * tests of engine logic (no root, no processes). Both pass the suite in testsuite.ts.
 */
import type { Readable, Writable } from 'node:stream'
import type { CgroupStatsReader } from './cgroup-stats.js'

/** What a tool run to completion left: its exit code (128+n when killed by signal n) and output. */
export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

export interface RunOptions {
  /** Bytes written to the tool's stdin, which is then closed (empty when absent). */
  input?: string | Buffer
  /** The tool's whole environment (the engine's own when absent). */
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Aborting kills the tool; `run` then rejects with an AbortError. */
  signal?: AbortSignal
}

export interface StartOptions {
  /** `pipe` (default) gives a Writable; `ignore` connects /dev/null; `inherit` the engine's own. */
  stdin?: 'pipe' | 'ignore' | 'inherit'
  /** `pipe` (default) gives a Readable. */
  stdout?: 'pipe' | 'ignore' | 'inherit'
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Open file descriptors handed to the tool as its fd 3, 4, ... (e.g. a directory for tar). */
  extraFds?: number[]
  /** Aborting kills the tool with SIGKILL. */
  signal?: AbortSignal
}

/** How a started tool ended. */
export interface ToolExit {
  /** Exit code; 128+n when killed by signal n; -1 when the tool could not be started. */
  code: number
  /** The start failure (ENOENT for a missing tool, an AbortError...) when code is -1. */
  spawnError?: Error
  /** Its stderr, the first 64 KiB. */
  stderr: string
}

/** A tool started with streaming stdio: bytes flow through without being buffered whole. */
export interface ToolProcess {
  /** Null unless StartOptions.stdin was `pipe`. Writes after the tool exited are dropped, never thrown. */
  readonly stdin: Writable | null
  /** Null unless StartOptions.stdout was `pipe`. Ends when the tool closes its stdout. */
  readonly stdout: Readable | null
  /** Settles (never rejects) once the tool exited and its stdio closed. */
  readonly exit: Promise<ToolExit>
  /** Send a signal (SIGTERM when absent); a tool that already exited ignores it. */
  kill(signal?: NodeJS.Signals): void
}

/**
 * Runs system tools (tar, mount, getfattr, stty, credential helpers...). A tool is looked up in
 * PATH. A non-zero exit is a result, not an error: only a tool that cannot be started (missing,
 * not executable) makes `run`/`runSync` reject/throw, with Node's errno error (code ENOENT...).
 */
export interface Spawner {
  /** Run to completion and capture stdout/stderr (for small outputs). */
  run(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>
  /** Start a tool whose stdin/stdout stream (tar, decompressors); see ToolProcess. */
  start(cmd: string, args: string[], opts?: StartOptions): ToolProcess
  /** Run to completion synchronously; `stdin: 'inherit'` gives it the engine's terminal (stty). */
  runSync(cmd: string, args: string[], opts?: { stdin?: 'inherit' | 'ignore'; input?: string }): RunResult
}

/** One line of /proc/self/mountinfo, unescaped. */
export interface MountEntry {
  /** The mount point. */
  target: string
  /** What is mounted (device, `overlay`, a bind source's root within its filesystem). */
  source: string
  fsType: string
  /** Per-mount and super-block options together (`ro`, `lowerdir=...`). */
  options: string[]
}

/**
 * The host's mount table. Paths are absolute. A mount that fails leaves nothing mounted and
 * rejects with an EngineError (kind Internal, code ERR_MOUNT / ERR_UNMOUNT) carrying the tool's
 * message.
 */
export interface Mounts {
  /** Mount an overlay of `lower` (topmost first) with `upper`/`work` at `target`. */
  mountOverlay(lower: string[], upper: string, work: string, target: string): Promise<void>
  /** Bind `source` at `target`; `readonly` remounts it read-only; `recursive` binds submounts too. */
  bind(source: string, target: string, opts?: { readonly?: boolean; recursive?: boolean }): Promise<void>
  /** `mount -t type [-o options] source target` (volumes with driver options). */
  mount(source: string, target: string, opts: { type?: string; options?: string }): Promise<void>
  /** Unmount `target` (lazily when busy). A target that is not a mount point is fine (no-op). */
  unmount(target: string): Promise<void>
  /** True when `target` is itself a mount point (not merely inside one). */
  isMounted(target: string): Promise<boolean>
  /** The mount table in mount order; with `under`, only mount points strictly below that directory. */
  list(under?: string): Promise<MountEntry[]>
}

/**
 * Kernel files: /proc and /sys (cgroup files, /proc/<pid>/..., mountinfo, sysctls). A file, link
 * or directory that does not exist, or vanished while being read (a process or cgroup gone:
 * ENOENT, ESRCH, ENODEV), reads as undefined; other failures reject.
 */
export interface KernelFiles {
  /** The whole file as text (latin1 is not assumed: UTF-8). */
  read(path: string): Promise<string | undefined>
  /** Write a value to an existing file (a cgroup limit, a sysctl); ENOENT rejects with code ENOENT. */
  write(path: string, value: string): Promise<void>
  /** Target of a symlink (/proc/<pid>/ns/net, /proc/self/fd/N). */
  readlink(path: string): Promise<string | undefined>
  /** Names in a directory (/proc/self/fd, /sys/fs/cgroup/...), sorted. */
  list(dir: string): Promise<string[] | undefined>
}

/**
 * Cgroup v1 figures of containers. A container's cgroup is named by its OCI cgroupsPath
 * (`/berth/<id>`).
 */
export interface Cgroups {
  /** A reader of container and host figures (one per stats stream: it reuses one buffer). */
  statsReader(): CgroupStatsReader
  /** Lift the PIDs limit of a cgroup (pids.max = max); a cgroup without a pids file is fine. */
  unlimitPids(cgroupsPath: string): Promise<void>
}

/** How a special file is made (`mknod`). */
export type DeviceKind = { type: 'c' | 'b'; major: number; minor: number } | { type: 'p' }

/**
 * Filesystem operations that need tools or privileges Node lacks: overlay whiteouts and opaque
 * directories (trusted.* xattrs need CAP_SYS_ADMIN), device nodes. Paths are absolute; a batch
 * either completes or rejects with an EngineError (Internal, ERR_COMMAND_FAILED).
 */
export interface FileTools {
  /** Replace each path (whatever is there, recursively) by a 0/0 character device: an overlay whiteout. */
  makeWhiteouts(paths: string[]): Promise<void>
  /** Mark directories opaque for overlay (trusted.overlay.opaque=y). */
  markOpaque(dirs: string[]): Promise<void>
  /** Directories at or under `root` marked opaque, absolute, not following symlinks. */
  findOpaque(root: string): Promise<string[]>
  /** Make a device node or FIFO with permission bits `mode`. */
  mknod(path: string, mode: number, kind: DeviceKind): Promise<void>
}

/** The whole OS surface the engine uses. */
export interface Platform {
  readonly spawner: Spawner
  readonly mounts: Mounts
  readonly files: KernelFiles
  readonly cgroups: Cgroups
  readonly fileTools: FileTools
}

/** The host this process runs on (one shared instance), implemented in host.ts. */
export { realPlatform } from './host.js'

import { watch, type FSWatcher } from 'node:fs'
import { chmod, chown, copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { hostname as hostHostname } from 'node:os'
import { join } from 'node:path'
import { newId, sha256, type Digest } from '../../lib/digest.js'
import { conflict, EngineError, internal, invalid, isNotFoundErrno, notFound } from '../../lib/errors.js'
import { writeFileAtomic } from '../../lib/fs.js'
import { KeyedLock } from '../../lib/lock.js'
import { Rollback } from '../../lib/rollback.js'
import type { LayerStore } from '../../core/layer-store.js'
import { unlimitPids } from '../../platform/cgroups.js'
import { run } from '../../platform/exec.js'
import { duBytes } from '../../platform/du.js'
import { isMountPoint, mountOverlay, unmount } from '../../platform/mount.js'
import { createWithMonitor, deleteContainer, killContainer, pauseContainer, processAlive, startContainer, updateContainer, type RuntimeRef } from '../../runtime/monitor.js'
import { buildSpec, serializeSpec, updateResources, type SpecInput } from '../../runtime/spec.js'
import type { EventBus } from '../events/bus.js'
import type { ImageService } from '../images/service.js'
import { monitorLogOptions, resolveLogConfig, type LogDefaults } from './log-rotate.js'
import type { NetworkHooks, NetworkSetUp } from '../../network/types.js'
import type { VolumeService } from '../volumes/service.js'
import { followInScope } from './archive.js'
import { parseBind, parseMount, parseTmpfs, type MountRequest } from './mounts.js'
import { generateName } from './names.js'
import { ContainerStore } from './store.js'
import { resolveUser } from './user.js'
import { ZERO_TIME, type ContainerConfig, type ContainerRecord, type HostConfig, type MountPoint } from './types.js'

export interface ContainerDeps {
  store: ContainerStore
  images: ImageService
  layers: LayerStore
  events: EventBus
  log: (msg: string) => void
  execRoot: string
  runtimes: Record<string, RuntimeRef>
  defaultRuntime: string
  initPath?: string
  logDefaults?: LogDefaults
  /** The network service (src/network); without it containers get loopback only or the host's network. */
  network?: NetworkHooks
  volumes?: VolumeService
}

/** What `docker update` may change: limits and the restart policy. */
export interface UpdateRequest {
  memory?: number
  memorySwap?: number
  memoryReservation?: number
  nanoCpus?: number
  cpuShares?: number
  cpuQuota?: number
  cpuPeriod?: number
  cpusetCpus?: string
  cpusetMems?: string
  pidsLimit?: number
  blkioWeight?: number
  restartPolicy?: HostConfig['restartPolicy']
}

export interface CreateRequest {
  name?: string
  config: ContainerConfig
  hostConfig: HostConfig
  endpointsConfig?: ContainerRecord['endpointsConfig']
}

type Waiter = (r: { statusCode: number; error?: string }) => void

/**
 * Told when a container starts running (also for those found running when berthd starts) and
 * when it stops running (exit recorded, or removed). Per-container work that lives only while
 * the container runs (healthchecks, log rotation) hangs off these.
 */
export interface LifecycleListener {
  running(rec: ContainerRecord): void
  stopped(rec: ContainerRecord): void
}

/** A stream attached before start: connected to the monitor's attach socket once it exists. */
export interface AttachHook {
  /** Called after the monitor created the container and before it starts. */
  connect(attachSocket: string): Promise<void>
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31 }

/** Docker's signal names: `TERM`, `SIGTERM`, `15`, `SIGRTMIN+3`. Returns the canonical `SIGX` or number string. */
export function parseSignal(s: string): string {
  const up = s.toUpperCase()
  if (/^\d+$/.test(s)) {
    const n = Number(s)
    if (n < 1 || n > 64) throw invalid('ERR_INVALID_SIGNAL', `Invalid signal: ${s}`)
    return s
  }
  const name = up.startsWith('SIG') ? up : `SIG${up}`
  if (name in SIGNALS) return name
  const rt = /^SIGRTM(IN|AX)([+-]\d+)?$/.exec(name)
  if (rt) return String((rt[1] === 'IN' ? 34 : 64) + Number(rt[2] ?? 0))
  throw invalid('ERR_INVALID_SIGNAL', `Invalid signal: ${s}`)
}

/**
 * The container lifecycle on conmon + the OCI runtime. No Node process per container: conmon
 * holds stdio, writes the log and the exit code, and outlives berthd; berthd watches the exit
 * directory and re-reads everything on start.
 */
export class ContainerService {
  readonly #locks = new KeyedLock()
  readonly #nextExit = new Map<string, Waiter[]>()
  readonly #removed = new Map<string, Waiter[]>()
  readonly #attachHooks = new Map<string, AttachHook[]>()
  readonly #exitDir: string
  #watcher?: FSWatcher
  #restartTimers = new Map<string, NodeJS.Timeout>()
  /** Leftovers of starts cut short by a crash, being cleaned up (see `#reapStale`). */
  readonly #reaping = new Map<string, Promise<void>>()
  readonly #listeners: LifecycleListener[] = []
  /** Seccomp filters crun compiled (base64 BPF), by runtime and profile. */
  readonly #seccompBpf = new Map<string, string>()
  /** Users of a stopped container's temporarily mounted rootfs (cp, export, commit). */
  readonly #rootfsUsers = new Map<string, number>()

  constructor(readonly deps: ContainerDeps) {
    this.#exitDir = join(deps.execRoot, 'exits')
  }

  get store(): ContainerStore {
    return this.deps.store
  }

  async init(): Promise<void> {
    await mkdir(this.#exitDir, { recursive: true })
    await mkdir(join(this.deps.execRoot, 'containers'), { recursive: true })
    for (const rt of Object.values(this.deps.runtimes)) await mkdir(rt.root, { recursive: true })
    const dropped = await this.deps.store.init()
    for (const rec of dropped) await this.#finishRemoval(rec).catch((e) => this.deps.log(`cleanup of ${rec.id}: ${String(e)}`))
    this.#watcher = watch(this.#exitDir, (_event, file) => {
      if (file && /^[a-f0-9]{64}$/.test(file)) void this.#onExitFile(file)
    })
    // Re-attach: containers that ended while berthd was away get their exit recorded now.
    const pendingRestart = new Set<string>()
    for (const rec of this.deps.store.all()) {
      if (rec.state.status === 'restarting' && !processAlive(rec.state.monitorPid)) {
        // berthd stopped during a restart policy's back-off: the restart is still owed.
        rec.state.status = 'exited'
        pendingRestart.add(rec.id)
      }
      if (rec.state.status !== 'running' && rec.state.status !== 'paused' && rec.state.status !== 'restarting') {
        // berthd may have died inside a start: its monitor and runtime container go. A monitor
        // can take seconds to exit, so this runs in the background; start and remove of that
        // container wait for it. A stopped container never keeps its rootfs mounted.
        const reap = this.#reapStale(rec).catch((e) => this.deps.log(`cleanup of ${rec.id}: ${String(e)}`))
        this.#reaping.set(rec.id, reap)
        void reap.finally(() => this.#reaping.delete(rec.id))
        await unmount(this.#merged(rec.id)).catch(() => {})
        continue
      }
      if (await exists(join(this.#exitDir, rec.id))) await this.#onExitFile(rec.id)
      else if (!processAlive(rec.state.monitorPid)) await this.#recordExit(rec, 255, 'container monitor exited unexpectedly')
      else this.#running(rec)
    }
    for (const rec of this.deps.store.all()) {
      const p = rec.hostConfig.restartPolicy.name
      if (rec.state.status === 'exited' && (pendingRestart.has(rec.id) || p === 'always' || (p === 'unless-stopped' && !rec.state.stoppedByUser))) {
        void this.start(rec.id).catch((e) => this.deps.log(`restart of ${rec.id}: ${String(e)}`))
      }
    }
  }

  close(): void {
    this.#watcher?.close()
    for (const t of this.#restartTimers.values()) clearTimeout(t)
    for (const rec of this.deps.store.all()) if (rec.state.status === 'running' || rec.state.status === 'paused') this.#stopped(rec)
  }

  addListener(l: LifecycleListener): void {
    this.#listeners.push(l)
    for (const rec of this.deps.store.all()) if (rec.state.status === 'running' || rec.state.status === 'paused') l.running(rec)
  }

  #running(rec: ContainerRecord): void {
    for (const l of this.#listeners) {
      try { l.running(rec) } catch (e) { this.deps.log(`listener ${rec.id}: ${String(e)}`) }
    }
  }

  #stopped(rec: ContainerRecord): void {
    for (const l of this.#listeners) {
      try { l.stopped(rec) } catch (e) { this.deps.log(`listener ${rec.id}: ${String(e)}`) }
    }
  }

  /**
   * The container's own layer size (SizeRw) and that plus its image's (SizeRootFs), as ps -s,
   * inspect -s and system df show them. The upper dir is walked at most once a minute per
   * container (later asks get the last figure while a new walk runs), so these stay fast.
   */
  async sizes(rec: ContainerRecord): Promise<{ sizeRw: number; sizeRootFs: number }> {
    const cached = this.#sizes.get(rec.id)
    const now = Date.now()
    const walk = () => duBytes(join(this.#dir(rec.id), 'upper')).then((size) => { this.#sizes.set(rec.id, { size, at: Date.now() }); return size })
    let sizeRw: number
    if (cached && now - cached.at < 60_000) sizeRw = cached.size
    else if (cached) { sizeRw = cached.size; void walk().catch(() => {}) } else sizeRw = await walk().catch(() => 0)
    let imageSize = 0
    try { imageSize = this.deps.images.resolve(rec.imageId).record.size } catch { /* the image was removed */ }
    return { sizeRw, sizeRootFs: sizeRw + imageSize }
  }

  readonly #sizes = new Map<string, { size: number; at: number }>()

  /** The overlay parts of a container's filesystem: its own upper dir and the image's layers, top first. */
  layerPaths(rec: ContainerRecord): { upper: string; lower: string[] } {
    return { upper: join(this.#dir(rec.id), 'upper'), lower: rec.imageTopLayer ? this.deps.layers.lowerDirs(rec.imageTopLayer) : [] }
  }

  /**
   * Run `fn` with the container's root filesystem mounted (cp, export, commit): a running
   * container's own mount, or for a stopped one a mount made for the call and undone after the
   * last user, unless the container started meanwhile.
   */
  async withRootfs<T>(ref: string, fn: (rootfs: string, rec: ContainerRecord) => Promise<T>): Promise<T> {
    const rec = this.resolve(ref)
    const merged = this.#merged(rec.id)
    {
      await using _ = await this.#locks.acquire(rec.id)
      if (rec.state.status === 'removing' || rec.state.status === 'dead') throw conflict('ERR_CONTAINER_REMOVING', `container ${rec.id} is marked for removal`)
      this.#rootfsUsers.set(rec.id, (this.#rootfsUsers.get(rec.id) ?? 0) + 1)
      try {
        if (!(await isMountPoint(merged))) {
          const { upper, lower } = this.layerPaths(rec)
          if (lower.length === 0) throw internal('ERR_NO_LAYERS', `image ${rec.imageId} has no layers`)
          await mountOverlay(lower, upper, join(this.#dir(rec.id), 'work'), merged)
        }
      } catch (err) {
        await this.#releaseRootfs(rec)
        throw err
      }
    }
    try {
      return await fn(merged, rec)
    } finally {
      await using _ = await this.#locks.acquire(rec.id)
      await this.#releaseRootfs(rec)
    }
  }

  async #releaseRootfs(rec: ContainerRecord): Promise<void> {
    const n = (this.#rootfsUsers.get(rec.id) ?? 1) - 1
    if (n > 0) { this.#rootfsUsers.set(rec.id, n); return }
    this.#rootfsUsers.delete(rec.id)
    const s = this.deps.store.get(rec.id)?.state.status
    if (s !== 'running' && s !== 'paused' && s !== 'restarting') await unmount(this.#merged(rec.id)).catch((e) => this.deps.log(`unmount ${rec.id}: ${String(e)}`))
  }

  resolve(ref: string): ContainerRecord {
    return this.deps.store.resolve(ref)
  }

  /** Containers created from an image (for rmi conflicts). */
  usersOf(imageId: string): Array<{ id: string; running: boolean }> {
    return this.deps.store.all().filter((c) => c.imageId === imageId).map((c) => ({ id: c.id, running: c.state.status === 'running' || c.state.status === 'paused' }))
  }

  #dir(id: string): string { return this.deps.store.dir(id) }
  #merged(id: string): string { return join(this.#dir(id), 'merged') }
  #bundle(id: string): string { return join(this.deps.execRoot, 'containers', id) }
  #runtime(rec: ContainerRecord): RuntimeRef {
    const rt = this.deps.runtimes[rec.runtime]
    if (!rt) throw invalid('ERR_UNKNOWN_RUNTIME', `unknown or invalid runtime name: ${rec.runtime}`)
    return rt
  }

  // ---- create

  async create(req: CreateRequest): Promise<{ id: string; warnings: string[] }> {
    const img = this.deps.images.resolve(req.config.image)
    const imgCfg = img.config.config ?? {}
    const c = { ...req.config }
    const hc = { ...req.hostConfig, logConfig: resolveLogConfig(req.hostConfig.logConfig, this.deps.logDefaults) }
    const runtime = hc.runtime || this.deps.defaultRuntime
    if (!this.deps.runtimes[runtime]) throw invalid('ERR_UNKNOWN_RUNTIME', `unknown or invalid runtime name: ${runtime}`)
    // Image defaults, as Docker merges them: a given entrypoint drops the image's cmd.
    if (c.entrypoint === null || c.entrypoint === undefined) {
      c.entrypoint = imgCfg.Entrypoint ?? null
      if (!c.cmd || c.cmd.length === 0) c.cmd = imgCfg.Cmd ?? null
    } else if (!c.cmd) {
      c.cmd = null
    }
    const env = new Map<string, string>()
    for (const e of [...(imgCfg.Env ?? []), ...c.env]) env.set(e.split('=')[0]!, e)
    c.env = [...env.values()]
    if (!c.workingDir) c.workingDir = imgCfg.WorkingDir ?? ''
    if (!c.user) c.user = imgCfg.User ?? ''
    if (!c.stopSignal && imgCfg.StopSignal) c.stopSignal = imgCfg.StopSignal
    c.labels = { ...(imgCfg.Labels ?? {}), ...c.labels }
    c.exposedPorts = { ...(imgCfg.ExposedPorts ?? {}), ...c.exposedPorts }
    c.volumes = { ...(imgCfg.Volumes ?? {}), ...c.volumes }
    if (!c.healthcheck && imgCfg.Healthcheck) {
      const h = imgCfg.Healthcheck
      c.healthcheck = { ...(h.Test ? { test: h.Test } : {}), ...(h.Interval ? { interval: h.Interval } : {}), ...(h.Timeout ? { timeout: h.Timeout } : {}), ...(h.StartPeriod ? { startPeriod: h.StartPeriod } : {}), ...(h.Retries ? { retries: h.Retries } : {}) }
    }
    const argv = [...(c.entrypoint ?? []), ...(c.cmd ?? [])]
    if (argv.length === 0) throw invalid('ERR_NO_COMMAND', 'No command specified')
    if (c.stopSignal) parseSignal(c.stopSignal)
    const id = newId()
    if (!c.hostname) c.hostname = hc.networkMode === 'host' ? hostHostname() : id.slice(0, 12)
    const name = req.name ? req.name.replace(/^\//, '') : generateName((n) => this.deps.store.hasName(n))
    this.deps.store.reserveName(name, id)
    const rb = new Rollback((e) => this.deps.log(`create rollback: ${String(e)}`))
    rb.defer(() => this.deps.store.releaseName(name, id))
    try {
      const dir = this.#dir(id)
      await mkdir(join(dir, 'upper'), { recursive: true, mode: 0o755 })
      rb.defer(() => rm(dir, { recursive: true, force: true }))
      await mkdir(join(dir, 'work'), { recursive: true })
      await mkdir(join(dir, 'merged'), { recursive: true })
      const rec: ContainerRecord = {
        id,
        name,
        created: new Date().toISOString(),
        imageRef: req.config.image,
        imageId: img.record.id,
        imageTopLayer: img.record.layers.at(-1) ?? '',
        path: argv[0]!,
        args: argv.slice(1),
        config: c,
        hostConfig: { ...hc, runtime },
        state: { status: 'created', pid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, monitorPid: 0, stoppedByUser: false },
        restartCount: 0,
        runtime,
        logPath: join(dir, 'container.log'),
        ...(req.endpointsConfig ? { endpointsConfig: req.endpointsConfig } : {}),
      }
      rec.mountPoints = await this.#resolveMounts(rec, rb)
      await this.deps.network?.validate(rec)
      await this.deps.store.save(rec)
      rb.commit()
      this.#emit(rec, 'create')
      return { id, warnings: [] }
    } finally {
      await rb.close()
    }
  }

  // ---- start

  /** Register a stream to connect before the container starts (attach before start). */
  addAttachHook(id: string, hook: AttachHook): () => void {
    const list = this.#attachHooks.get(id) ?? []
    list.push(hook)
    this.#attachHooks.set(id, list)
    return () => {
      const l = this.#attachHooks.get(id)
      if (!l) return
      const i = l.indexOf(hook)
      if (i >= 0) l.splice(i, 1)
      if (l.length === 0) this.#attachHooks.delete(id)
    }
  }

  /** The OCI bundle of a running container (its config.json is the exec processes' template). */
  bundleDir(id: string): string {
    return this.#bundle(id)
  }

  /** Where a container's rootfs is mounted while it runs. */
  rootfsDir(id: string): string {
    return this.#merged(id)
  }

  runtimeOf(rec: ContainerRecord): RuntimeRef {
    return this.#runtime(rec)
  }

  attachSocketPath(id: string): string {
    return join(this.#bundle(id), 'attach')
  }

  controlPath(id: string): string {
    return join(this.#bundle(id), 'ctl')
  }

  async start(ref: string, opts: { signal?: AbortSignal } = {}): Promise<'started' | 'already'> {
    try {
      return await this.#start(ref, opts)
    } catch (err) {
      // As Docker: a container that cannot start and should remove itself is removed.
      const rec = this.deps.store.get(this.resolve(ref).id)
      if (rec?.hostConfig.autoRemove && rec.state.status !== 'running') {
        await this.remove(rec.id, { force: true, internal: true }).catch((e) => this.deps.log(`auto-remove ${rec.id}: ${String(e)}`))
      }
      throw err
    }
  }

  async #start(ref: string, { signal }: { signal?: AbortSignal } = {}): Promise<'started' | 'already'> {
    const rec0 = this.resolve(ref)
    await using _ = await this.#locks.acquire(rec0.id, signal)
    const rec = this.deps.store.get(rec0.id)
    if (!rec) throw notFound('ERR_CONTAINER_NOT_FOUND', `No such container: ${ref}`)
    if (rec.state.status === 'running') return 'already'
    if (rec.state.status === 'paused') throw conflict('ERR_CONTAINER_PAUSED', 'cannot start a paused container, try unpause instead')
    if (rec.state.status === 'removing' || rec.state.status === 'dead') throw conflict('ERR_CONTAINER_REMOVING', `container is marked for removal and cannot be started`)
    const rt = this.#runtime(rec)
    const bundle = this.#bundle(rec.id)
    const merged = this.#merged(rec.id)
    const rb = new Rollback((e) => this.deps.log(`start rollback ${rec.id}: ${String(e)}`))
    try {
      await this.#reaping.get(rec.id)
      await this.#reapStale(rec)
      await mkdir(bundle, { recursive: true })
      rb.defer(() => rm(bundle, { recursive: true, force: true }))
      if (!(await isMountPoint(merged))) {
        const lower = rec.imageTopLayer ? this.deps.layers.lowerDirs(rec.imageTopLayer) : []
        if (lower.length === 0) throw internal('ERR_NO_LAYERS', `image ${rec.imageId} has no layers`)
        await mountOverlay(lower, join(this.#dir(rec.id), 'upper'), join(this.#dir(rec.id), 'work'), merged)
        rb.defer(() => unmount(merged))
      }
      await this.#prepareVolumes(rec, merged, rb)
      let net: NetworkSetUp = {}
      if (this.deps.network) {
        net = await this.deps.network.setUp(rec)
        rb.defer(() => this.deps.network!.tearDown(rec))
      }
      const specInput = await this.#specInput(rec, merged, net)
      const spec = buildSpec(specInput)
      const seccompKey = rt.name === 'crun' && spec.linux.seccomp ? `${rt.path}:${sha256(JSON.stringify(spec.linux.seccomp))}` : undefined
      const bpf = seccompKey ? this.#seccompBpf.get(seccompKey) : undefined
      // crun compiles the seccomp profile at every create (its own cache needs libgcrypt, which
      // Debian's build lacks): give it the filter it compiled for an earlier container instead.
      if (bpf) spec.annotations = { ...spec.annotations, 'run.oci.seccomp_bpf_data': bpf }
      // Unlimited rlimits are bigints: the spec has its own serialiser.
      await writeFileAtomic(join(bundle, 'config.json'), serializeSpec(spec))
      const persist = join(bundle, 'persist')
      await mkdir(persist, { recursive: true })
      const { pid } = await createWithMonitor({
        id: rec.id,
        bundle,
        runtime: rt,
        exitDir: this.#exitDir,
        persistDir: persist,
        logPath: rec.logPath,
        ...monitorLogOptions(rec.hostConfig.logConfig),
        terminal: rec.config.tty,
        stdin: rec.config.openStdin,
        leaveStdinOpen: !rec.config.stdinOnce,
        conmonPidFile: join(bundle, 'conmon.pid'),
        containerPidFile: join(bundle, 'pidfile'),
      }).catch((err: EngineError) => {
        throw translateRuntimeError(err, rec.path)
      })
      rb.defer(() => deleteContainer(rt, rec.id, true))
      if (seccompKey && !bpf) void this.#learnSeccomp(rt, rec.id, seccompKey)
      const monitorPid = Number((await readFile(join(bundle, 'conmon.pid'), 'utf8').catch(() => '0')).trim())
      for (const hook of this.#attachHooks.get(rec.id) ?? []) await hook.connect(this.attachSocketPath(rec.id))
      await startContainer(rt, rec.id)
      const { health: _previousRun, ...state } = rec.state
      rec.state = { ...state, status: 'running', pid, monitorPid, exitCode: 0, error: '', oomKilled: false, startedAt: new Date().toISOString(), finishedAt: ZERO_TIME, stoppedByUser: false }
      await this.deps.store.save(rec)
      rb.commit()
      this.#running(rec)
    } catch (err) {
      const e = err instanceof EngineError ? err : internal('ERR_START', (err as Error).message, err)
      rec.state = { ...rec.state, status: rec.state.status === 'running' ? 'exited' : rec.state.status, error: e.message, exitCode: exitCodeFor(e.message) }
      await this.deps.store.save(rec).catch(() => {})
      throw e
    } finally {
      await rb.close()
    }
    this.#emit(rec, 'start')
    return 'started'
  }

  /**
   * Undo what a start that never finished left (berthd died between creating the monitor and
   * recording the start): the runtime container, its monitor, the monitor's exit file and the
   * bundle. The monitor is waited for, so its exit file cannot land after the next start and be
   * taken for that run's exit.
   */
  async #reapStale(rec: ContainerRecord): Promise<void> {
    const bundle = this.#bundle(rec.id)
    const rt = this.deps.runtimes[rec.runtime]
    if (rt && ((await exists(bundle)) || (await exists(join(rt.root, rec.id))))) await deleteContainer(rt, rec.id, true)
    if (!(await exists(bundle))) {
      await rm(join(this.#exitDir, rec.id), { force: true })
      return
    }
    let monitorPid = 0
    try {
      monitorPid = Number((await readFile(join(bundle, 'conmon.pid'), 'utf8')).trim())
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
    for (const deadline = Date.now() + 5000; processAlive(monitorPid) && Date.now() < deadline;) await sleep(20)
    await rm(join(this.#exitDir, rec.id), { force: true })
    await rm(bundle, { recursive: true, force: true })
  }

  /**
   * The container's mounts as Docker resolves them at create: `-v`, `--mount`, `--tmpfs`,
   * `--volumes-from`, then an anonymous volume for each VOLUME (the image's and `-v /path`) that
   * no other mount covers. Volumes are made (named ones only when missing); a missing bind source
   * is made for `-v` and refused for `--mount`. Whatever was made is undone if create fails.
   */
  async #resolveMounts(rec: ContainerRecord, rb: Rollback): Promise<MountPoint[]> {
    const hc = rec.hostConfig
    const reqs: MountRequest[] = []
    for (const b of hc.binds) reqs.push(parseBind(b))
    for (const m of hc.mounts) reqs.push(parseMount(m))
    for (const [dst, opts] of Object.entries(hc.tmpfs)) reqs.push(parseTmpfs(dst, opts))
    const out: MountPoint[] = []
    const taken = new Set<string>()
    const add = (m: MountPoint) => {
      if (taken.has(m.destination)) throw invalid('ERR_DUPLICATE_MOUNT', `Duplicate mount point: ${m.destination}`)
      taken.add(m.destination)
      out.push(m)
    }
    const vols = this.deps.volumes
    const volume = async (r: { name: string; labels?: Record<string, string>; driver?: string; options?: Record<string, string> }): Promise<{ name: string; source: string; anonymous: boolean }> => {
      if (!vols) throw invalid('ERR_VOLUMES', 'volumes are not available in this berthd')
      const anonymous = r.name === ''
      const existed = !anonymous && vols.has(r.name)
      const v = await vols.create({ ...(r.name ? { name: r.name } : {}), ...(r.driver ? { driver: r.driver } : {}), ...(r.labels ? { labels: r.labels } : {}), ...(r.options ? { options: r.options } : {}), anonymous })
      if (!existed) rb.defer(() => vols.remove(v.name, { force: true }))
      return { name: v.name, source: vols.dataPath(v.name), anonymous }
    }
    for (const r of reqs) {
      if (r.type === 'bind') {
        let exists = true
        try { await stat(r.source) } catch (err) { if (!isNotFoundErrno(err)) throw err; exists = false }
        if (!exists) {
          if (!r.createSource) throw invalid('ERR_BIND_SOURCE', `invalid mount config for type "bind": bind source path does not exist: ${r.source}`)
          await mkdir(r.source, { recursive: true, mode: 0o755 })
        }
        add({ type: 'bind', source: r.source, destination: r.destination, readOnly: r.readOnly, mode: r.mode, propagation: r.propagation, noCopy: false })
      } else if (r.type === 'tmpfs') {
        add({ type: 'tmpfs', source: '', destination: r.destination, readOnly: r.readOnly, mode: r.mode, propagation: '', noCopy: false, tmpfsOptions: r.tmpfsOptions ?? [] })
      } else {
        if (taken.has(r.destination)) throw invalid('ERR_DUPLICATE_MOUNT', `Duplicate mount point: ${r.destination}`)
        const v = await volume({ name: r.source, ...(r.volumeLabels ? { labels: r.volumeLabels } : {}), ...(r.volumeDriver ? { driver: r.volumeDriver } : {}), ...(r.volumeDriverOptions ? { options: r.volumeDriverOptions } : {}) })
        add({ type: 'volume', name: v.name, source: v.source, destination: r.destination, readOnly: r.readOnly, mode: r.mode, propagation: '', noCopy: r.noCopy, ...(v.anonymous ? { anonymous: true } : {}) })
      }
    }
    for (const vf of hc.volumesFrom) {
      const [ref = '', mode] = vf.split(':')
      if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw invalid('ERR_VOLUMES_FROM', `invalid mode for volumes-from: ${mode}`)
      const other = this.resolve(ref)
      for (const m of other.mountPoints ?? []) {
        if (m.type === 'tmpfs' || taken.has(m.destination)) continue
        const { anonymous: _owned, copied: _copied, ...shared } = m
        add({ ...shared, readOnly: mode ? mode === 'ro' : m.readOnly, ...(mode ? { mode } : {}) })
      }
    }
    for (const dst of Object.keys(rec.config.volumes)) {
      const destination = dst.replace(/(.)\/+$/, '$1')
      if (taken.has(destination)) continue
      const v = await volume({ name: '' })
      add({ type: 'volume', name: v.name, source: v.source, destination, readOnly: false, mode: '', propagation: '', noCopy: false, anonymous: true })
    }
    return out
  }

  /** Mount driver-option volumes and copy the image's content into new, empty volumes. */
  async #prepareVolumes(rec: ContainerRecord, rootfs: string, rb: Rollback): Promise<void> {
    const vols = this.deps.volumes
    if (!vols) return
    for (const m of rec.mountPoints ?? []) {
      if (m.type !== 'volume' || !m.name) continue
      await vols.mountFor(m.name, rec.id)
      rb.defer(() => vols.unmountFor(m.name!, rec.id))
      if (m.noCopy || m.copied) continue
      m.copied = true
      const inRoot = await followInScope(rootfs, m.destination)
      const src = join(rootfs, inRoot)
      let isDir = false
      try { isDir = (await stat(src)).isDirectory() } catch (err) { if (!isNotFoundErrno(err)) throw err }
      if (!isDir) continue
      const data = vols.dataPath(m.name)
      if ((await readdir(data)).length > 0) continue
      // As Docker: contents, ownership and modes of the image's directory (and the directory's own).
      const r = await run('cp', ['-a', '--', `${src}/.`, `${data}/`])
      if (r.code !== 0) throw internal('ERR_VOLUME_COPY', `failed to copy the image's ${m.destination} into volume ${m.name}: ${r.stderr.trim()}`)
      const st = await stat(src)
      await chown(data, st.uid, st.gid)
      await chmod(data, st.mode & 0o7777)
    }
  }

  /** Keep the filter crun compiled for this container's profile, for the next containers. */
  async #learnSeccomp(rt: RuntimeRef, id: string, key: string): Promise<void> {
    try {
      const data = await readFile(join(rt.root, id, 'seccomp.bpf'))
      // A classic BPF program is a whole number of 8-byte instructions.
      if (data.length > 0 && data.length % 8 === 0) this.#seccompBpf.set(key, data.toString('base64'))
    } catch (err) {
      if (!isNotFoundErrno(err)) this.deps.log(`seccomp filter of ${id}: ${String(err)}`)
    }
  }

  async #specInput(rec: ContainerRecord, rootfs: string, net: NetworkSetUp = {}): Promise<SpecInput> {
    const c = rec.config
    const hc = rec.hostConfig
    const user = await resolveUser(rootfs, c.user)
    const env = [...c.env]
    if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH)
    if (!env.some((e) => e.startsWith('HOSTNAME='))) env.push(`HOSTNAME=${c.hostname}`)
    if (c.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm')
    if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`)
    const files = await this.#writeEtcFiles(rec, net)
    const userMounts = rec.mountPoints ?? []
    const mine = new Set(userMounts.map((m) => m.destination))
    const mounts: SpecInput['mounts'] = [
      { destination: '/etc/hostname', type: 'bind', source: files.hostname, options: ['rbind', 'rprivate'] },
      { destination: '/etc/hosts', type: 'bind', source: files.hosts, options: ['rbind', 'rprivate'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: files.resolv, options: ['rbind', 'rprivate'] },
    ].filter((m) => !mine.has(m.destination))
    // Parents before children, as Docker sorts them.
    for (const m of [...userMounts].sort((a, b) => a.destination.split('/').length - b.destination.split('/').length)) mounts.push(specMount(m))
    const sec = parseSecurityOpts(hc.securityOpt)
    const ns = (mode: string) => (mode === 'host' ? { kind: 'host' as const } : { kind: 'private' as const })
    return {
      id: rec.id,
      rootfs,
      readonlyRootfs: hc.readonlyRootfs,
      args: [rec.path, ...rec.args],
      env,
      cwd: c.workingDir || '/',
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      terminal: c.tty,
      hostname: hc.networkMode === 'host' ? hostHostname() : c.hostname,
      ...(c.domainname ? { domainname: c.domainname } : {}),
      privileged: hc.privileged,
      capAdd: hc.capAdd,
      capDrop: hc.capDrop,
      noNewPrivileges: sec.noNewPrivileges,
      seccomp: sec.seccomp,
      namespaces: { network: net.netns ? { kind: 'path', path: net.netns.path, private: net.netns.private } : ns(hc.networkMode), pid: { kind: 'private' }, ipc: { kind: 'private' }, uts: hc.networkMode === 'host' ? { kind: 'host' } : { kind: 'private' } },
      mounts,
      devices: hc.devices,
      resources: { ...specResources(hc), ...(hc.pidsLimit ? { pidsLimit: hc.pidsLimit } : {}) },
      ...(hc.nanoCpus ? { nanoCpus: hc.nanoCpus } : {}),
      cgroupsPath: `/berth/${rec.id}`,
      shmSize: hc.shmSize || 64 * 1024 * 1024,
      sysctls: hc.sysctls,
      ulimits: hc.ulimits,
      ...(hc.oomScoreAdj ? { oomScoreAdj: hc.oomScoreAdj } : {}),
      ...(hc.init && this.deps.initPath ? { init: { path: this.deps.initPath } } : {}),
      ...(sec.unconfinedPaths ? { maskedPaths: [], readonlyPaths: [] } : {}),
    }
  }

  async #writeEtcFiles(rec: ContainerRecord, net: NetworkSetUp = {}): Promise<{ hostname: string; hosts: string; resolv: string }> {
    const dir = this.#dir(rec.id)
    const hc = rec.hostConfig
    const paths = { hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts'), resolv: join(dir, 'resolv.conf') }
    if (hc.networkMode === 'host') {
      await writeFile(paths.hostname, `${hostHostname()}\n`)
      if (net.hosts) await writeFile(paths.hosts, net.hosts)
      else await copyFile('/etc/hosts', paths.hosts).catch(() => writeFile(paths.hosts, '127.0.0.1\tlocalhost\n'))
    } else {
      await writeFile(paths.hostname, `${rec.config.hostname}\n`)
      const extra = hc.extraHosts.map((h) => {
        const i = h.lastIndexOf(':')
        return `${h.slice(i + 1)}\t${h.slice(0, i)}`
      })
      await writeFile(paths.hosts, net.hosts ?? ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters', ...extra, ''].join('\n'))
    }
    let resolv = ''
    try { resolv = await readFile('/etc/resolv.conf', 'utf8') } catch (err) { if (!isNotFoundErrno(err)) throw err }
    if (hc.dns.length || hc.dnsSearch.length || hc.dnsOptions.length) {
      const lines = resolv.split('\n').filter((l) => !(hc.dns.length && l.startsWith('nameserver')) && !(hc.dnsSearch.length && l.startsWith('search')) && !(hc.dnsOptions.length && l.startsWith('options')))
      resolv = [...lines.filter(Boolean), ...hc.dnsSearch.length ? [`search ${hc.dnsSearch.join(' ')}`] : [], ...hc.dns.map((d) => `nameserver ${d}`), ...hc.dnsOptions.length ? [`options ${hc.dnsOptions.join(' ')}`] : [], ''].join('\n')
    }
    await writeFile(paths.resolv, net.resolvConf ?? resolv)
    return paths
  }

  // ---- exit handling

  async #onExitFile(id: string): Promise<void> {
    const rec = this.deps.store.get(id)
    if (!rec) return
    let code = 255
    try {
      const text = (await readFile(join(this.#exitDir, id), 'utf8')).trim()
      if (text === '') return // being written; the next event has it
      code = Number(text)
    } catch (err) {
      if (isNotFoundErrno(err)) return
      throw err
    }
    await this.#recordExit(rec, code)
  }

  async #recordExit(rec0: ContainerRecord, code: number, error = ''): Promise<void> {
    await using _ = await this.#locks.acquire(rec0.id)
    const rec = this.deps.store.get(rec0.id)
    if (!rec || (rec.state.status !== 'running' && rec.state.status !== 'paused' && rec.state.status !== 'restarting')) return
    const bundle = this.#bundle(rec.id)
    const oomKilled = await exists(join(bundle, 'persist', 'oom'))
    let finishedAt = new Date().toISOString()
    try { finishedAt = (await stat(join(this.#exitDir, rec.id))).mtime.toISOString() } catch (err) { if (!isNotFoundErrno(err)) throw err }
    this.#stopped(rec)
    await this.deps.network?.tearDown(rec).catch((e) => this.deps.log(`network teardown ${rec.id}: ${String(e)}`))
    for (const m of rec.mountPoints ?? []) if (m.type === 'volume' && m.name) await this.deps.volumes?.unmountFor(m.name, rec.id)
    await Promise.all([
      deleteContainer(this.#runtime(rec), rec.id, true).catch((e) => this.deps.log(`runtime delete ${rec.id}: ${String(e)}`)),
      this.#rootfsUsers.has(rec.id) ? undefined : unmount(this.#merged(rec.id)).catch((e) => this.deps.log(`unmount ${rec.id}: ${String(e)}`)),
    ])
    await rm(join(this.#exitDir, rec.id), { force: true })
    await rm(bundle, { recursive: true, force: true })
    rec.state = { ...rec.state, status: 'exited', pid: 0, monitorPid: 0, exitCode: code, oomKilled, finishedAt, error }
    await this.deps.store.save(rec)
    if (oomKilled) this.#emit(rec, 'oom')
    const started = Date.parse(rec.state.startedAt)
    this.#emit(rec, 'die', { exitCode: String(code), execDuration: String(Math.max(0, Math.round((Date.parse(finishedAt) - started) / 1000))) })
    for (const w of this.#nextExit.get(rec.id)?.splice(0) ?? []) w({ statusCode: code })
    if (rec.hostConfig.autoRemove) {
      void this.remove(rec.id, { force: true, internal: true }).catch((e) => this.deps.log(`auto-remove ${rec.id}: ${String(e)}`))
      return
    }
    this.#maybeRestart(rec)
  }

  #maybeRestart(rec: ContainerRecord): void {
    const p = rec.hostConfig.restartPolicy
    if (rec.state.stoppedByUser || p.name === '' || p.name === 'no') return
    if (p.name === 'on-failure' && (rec.state.exitCode === 0 || (p.maximumRetryCount > 0 && rec.restartCount >= p.maximumRetryCount))) return
    // Docker's backoff: 100 ms doubling, reset after 10 s of running, at most 1 minute.
    const ranFor = Date.parse(rec.state.finishedAt) - Date.parse(rec.state.startedAt)
    const delay = ranFor > 10_000 ? 100 : Math.min(60_000, 100 * 2 ** Math.min(rec.restartCount, 10))
    // As Docker: the count goes up when the restart is decided, and a policy restart is a plain
    // `start` event (`restart` is for `docker restart`).
    rec.restartCount++
    rec.state.status = 'restarting'
    void this.deps.store.save(rec).catch((e) => this.deps.log(`save ${rec.id}: ${String(e)}`))
    this.#restartTimers.set(rec.id, setTimeout(() => {
      this.#restartTimers.delete(rec.id)
      rec.state.status = 'exited'
      void this.start(rec.id).catch((e) => this.deps.log(`restart ${rec.id}: ${String(e)}`))
    }, delay))
  }

  // ---- stop, kill, wait

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<'stopped' | 'not-running'> {
    const rec = this.resolve(ref)
    await this.#cancelRestart(rec)
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') return 'not-running'
    rec.state.stoppedByUser = true
    const sig = parseSignal(opts.signal || rec.config.stopSignal || 'SIGTERM')
    const timeout = opts.timeout ?? rec.config.stopTimeout ?? 10
    const exited = this.#waitNextExit(rec.id)
    const rt = this.#runtime(rec)
    if (rec.state.status === 'paused') await pauseContainer(rt, rec.id, false).catch(() => {})
    this.#emit(rec, 'kill', { signal: String(signalNumber(sig)) })
    await killContainer(rt, rec.id, sig)
    const r = timeout < 0 ? await exited : await Promise.race([exited, sleep(timeout * 1000).then(() => undefined)])
    if (r === undefined) {
      this.#emit(rec, 'kill', { signal: '9' })
      await killContainer(rt, rec.id, 'SIGKILL', true)
      await exited
    }
    this.#emit(rec, 'stop')
    return 'stopped'
  }

  /**
   * As Docker: SIGKILL (the default) returns once the container has stopped; other signals
   * return once sent. A signal meant to stop it (SIGKILL, its stop signal, or any signal when it
   * has none) ends its restart policy, and a paused container is thawed to receive it.
   */
  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const rec = this.resolve(ref)
    const sig = parseSignal(signal)
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw conflict('ERR_NOT_RUNNING', `cannot kill container: ${ref}: container ${rec.id} is not running`)
    const isKill = signalNumber(sig) === 9
    const stopping = isKill || !rec.config.stopSignal || signalNumber(parseSignal(rec.config.stopSignal)) === signalNumber(sig)
    if (stopping) rec.state.stoppedByUser = true
    const exited = isKill ? this.#waitNextExit(rec.id) : undefined
    const rt = this.#runtime(rec)
    this.#emit(rec, 'kill', { signal: String(signalNumber(sig)) })
    await killContainer(rt, rec.id, sig)
    if (stopping && rec.state.status === 'paused') {
      await pauseContainer(rt, rec.id, false)
      if (rec.state.status === 'paused') {
        rec.state.status = 'running'
        await this.deps.store.save(rec)
        this.#emit(rec, 'unpause')
      }
    }
    if (exited) await Promise.race([exited, sleep(10_000)])
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = this.resolve(ref)
    await this.stop(rec.id, opts)
    await this.start(rec.id)
    rec.state.stoppedByUser = false
    this.#emit(rec, 'restart')
  }

  async pause(ref: string, pause: boolean): Promise<void> {
    const rec = this.resolve(ref)
    await using _ = await this.#locks.acquire(rec.id)
    if (pause) {
      if (rec.state.status === 'paused') throw conflict('ERR_ALREADY_PAUSED', `container ${rec.id} is already paused`)
      if (rec.state.status !== 'running') throw conflict('ERR_NOT_RUNNING', `container ${rec.id} is not running`)
    } else if (rec.state.status !== 'paused') throw conflict('ERR_NOT_PAUSED', `container ${rec.id} is not paused`)
    await pauseContainer(this.#runtime(rec), rec.id, pause)
    rec.state.status = pause ? 'paused' : 'running'
    await this.deps.store.save(rec)
    this.#emit(rec, pause ? 'pause' : 'unpause')
  }

  #waitNextExit(id: string): Promise<{ statusCode: number }> {
    return new Promise((resolve) => {
      const l = this.#nextExit.get(id) ?? []
      l.push(resolve)
      this.#nextExit.set(id, l)
    })
  }

  /** Docker's wait conditions: not-running (default), next-exit, removed. */
  async wait(ref: string, condition = 'not-running', signal?: AbortSignal): Promise<{ statusCode: number; error?: string }> {
    if (!['not-running', 'next-exit', 'removed', ''].includes(condition)) throw invalid('ERR_INVALID_CONDITION', `invalid condition: "${condition}"`)
    const rec = this.resolve(ref)
    const running = rec.state.status === 'running' || rec.state.status === 'paused' || rec.state.status === 'restarting'
    let p: Promise<{ statusCode: number; error?: string }>
    if (condition === 'removed') {
      p = new Promise((resolve) => {
        const l = this.#removed.get(rec.id) ?? []
        l.push(resolve)
        this.#removed.set(rec.id, l)
      })
    } else if (condition === 'next-exit' || running) {
      p = this.#waitNextExit(rec.id)
    } else {
      return { statusCode: rec.state.exitCode, ...(rec.state.error ? { error: rec.state.error } : {}) }
    }
    if (!signal) return p
    if (signal.aborted) return Promise.reject(signal.reason)
    return Promise.race([p, new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))])
  }

  /** A user stop or remove during a policy's back-off: no restart, and none after a berthd restart. */
  async #cancelRestart(rec: ContainerRecord): Promise<void> {
    const t = this.#restartTimers.get(rec.id)
    if (t) {
      clearTimeout(t)
      this.#restartTimers.delete(rec.id)
      rec.state.status = 'exited'
      rec.state.stoppedByUser = true
      await this.deps.store.save(rec)
    }
  }

  // ---- update

  /**
   * New limits and restart policy, as `docker update`: checked as Docker checks them, applied
   * to the running container's cgroup first, recorded only when that worked.
   */
  async update(ref: string, u: UpdateRequest): Promise<{ warnings: string[] }> {
    const rec0 = this.resolve(ref)
    await using _ = await this.#locks.acquire(rec0.id)
    const rec = this.deps.store.get(rec0.id)
    if (!rec) throw notFound('ERR_CONTAINER_NOT_FOUND', `No such container: ${ref}`)
    const hc = { ...rec.hostConfig }
    const fail = (m: string) => invalid('ERR_UPDATE', `Cannot update container ${rec.id}: ${m}`)
    if (rec.state.status === 'removing' || rec.state.status === 'dead') throw conflict('ERR_CONTAINER_REMOVING', `Cannot update container ${rec.id}: container is marked for removal and cannot be "update"`)
    if (u.restartPolicy) {
      if (hc.autoRemove && u.restartPolicy.name !== '' && u.restartPolicy.name !== 'no') throw fail('Restart policy cannot be updated because AutoRemove is enabled for the container')
      hc.restartPolicy = u.restartPolicy
    }
    // Docker's rules: a new memory limit above the swap limit needs a new swap limit too.
    if (u.memory && u.memory > 0 && !u.memorySwap && hc.memorySwap > 0 && u.memory > hc.memorySwap) {
      throw fail('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time')
    }
    if (u.nanoCpus && u.nanoCpus > 0 && (hc.cpuQuota > 0 || hc.cpuPeriod > 0) && !u.cpuQuota && !u.cpuPeriod) {
      throw fail('Conflicting options: CPU Quota or CPU Period cannot be updated when NanoCPUs is set')
    }
    if ((u.cpuQuota || u.cpuPeriod) && hc.nanoCpus > 0 && !u.nanoCpus) {
      throw fail('Conflicting options: Nano CPUs cannot be updated as CPU Period/Quota has already been set')
    }
    if (u.memory !== undefined && u.memory !== 0) hc.memory = u.memory
    if (u.memorySwap !== undefined && u.memorySwap !== 0) hc.memorySwap = u.memorySwap
    if (u.memoryReservation !== undefined && u.memoryReservation !== 0) hc.memoryReservation = u.memoryReservation
    if (u.nanoCpus !== undefined && u.nanoCpus !== 0) hc.nanoCpus = u.nanoCpus
    if (u.cpuShares !== undefined && u.cpuShares !== 0) hc.cpuShares = u.cpuShares
    if (u.cpuQuota !== undefined && u.cpuQuota !== 0) hc.cpuQuota = u.cpuQuota
    if (u.cpuPeriod !== undefined && u.cpuPeriod !== 0) hc.cpuPeriod = u.cpuPeriod
    if (u.cpusetCpus) hc.cpusetCpus = u.cpusetCpus
    if (u.cpusetMems) hc.cpusetMems = u.cpusetMems
    if (u.pidsLimit !== undefined && u.pidsLimit !== 0) hc.pidsLimit = u.pidsLimit > 0 ? u.pidsLimit : null
    let checked
    try {
      checked = updateResources({
        ...specResources(hc),
        ...(u.blkioWeight ? { blkioWeight: u.blkioWeight } : {}),
        // Only a new PIDs limit is written: the runtime cannot set an unlimited one (see below).
        ...(u.pidsLimit ? { pidsLimit: hc.pidsLimit ?? 0 } : {}),
      }, hc.nanoCpus || undefined)
    } catch (err) {
      if (err instanceof EngineError) throw fail(err.message)
      throw err
    }
    if (rec.state.status === 'running' || rec.state.status === 'paused') {
      const file = join(this.#bundle(rec.id), 'update.json')
      const unlimitedPids = (checked.resources.pids?.limit ?? 0) < 0
      if (unlimitedPids) delete checked.resources.pids
      await writeFileAtomic(file, JSON.stringify(checked.resources))
      try {
        await updateContainer(this.#runtime(rec), rec.id, file)
        if (unlimitedPids) await unlimitPids(`/berth/${rec.id}`)
      } catch (err) {
        throw fail((err as Error).message)
      } finally {
        await rm(file, { force: true })
      }
    }
    rec.hostConfig = hc
    await this.deps.store.save(rec)
    this.#emit(rec, 'update')
    return { warnings: checked.warnings }
  }

  // ---- remove, rename

  async remove(ref: string, { force = false, volumes = false, internal: auto = false }: { force?: boolean; volumes?: boolean; internal?: boolean } = {}): Promise<void> {
    const rec = this.resolve(ref)
    // Docker names the container as the caller did, and counts a restarting container as running.
    if (!force && (rec.state.status === 'running' || rec.state.status === 'paused' || rec.state.status === 'restarting')) {
      const why = rec.state.status === 'paused' ? 'container is paused and must be unpaused first' : `container is ${rec.state.status}: stop the container before removing or force remove`
      throw conflict('ERR_CONTAINER_RUNNING', `cannot remove container "${ref}": ${why}`)
    }
    await this.#cancelRestart(rec)
    if (rec.state.status === 'running' || rec.state.status === 'paused') {
      rec.state.stoppedByUser = true
      const exited = this.#waitNextExit(rec.id)
      await killContainer(this.#runtime(rec), rec.id, 'SIGKILL', true)
      await Promise.race([exited, sleep(10_000)])
    }
    await using _ = await this.#locks.acquire(rec.id)
    if (!this.deps.store.get(rec.id)) {
      if (auto) return
      throw notFound('ERR_CONTAINER_NOT_FOUND', `No such container: ${ref}`)
    }
    if (rec.state.status === 'removing') throw conflict('ERR_REMOVAL_IN_PROGRESS', `removal of container ${ref} is already in progress`)
    rec.state.status = 'removing'
    await this.deps.store.save(rec)
    await this.#finishRemoval(rec)
    // `rm -v` (and `run --rm`) take the container's anonymous volumes with it; named ones stay.
    if (volumes || auto) {
      for (const m of rec.mountPoints ?? []) {
        if (m.anonymous && m.name) await this.deps.volumes?.remove(m.name).catch((e) => this.deps.log(`remove volume ${m.name}: ${String(e)}`))
      }
    }
  }

  async #finishRemoval(rec: ContainerRecord): Promise<void> {
    await this.#reaping.get(rec.id)
    const rt = this.deps.runtimes[rec.runtime]
    // The runtime's state is usually gone already (deleted when the exit was recorded).
    await Promise.all([
      rt && (await exists(join(rt.root, rec.id))) ? deleteContainer(rt, rec.id, true).catch(() => {}) : undefined,
      unmount(this.#merged(rec.id)),
    ])
    await rm(this.#bundle(rec.id), { recursive: true, force: true })
    await this.deps.network?.removed(rec).catch((e) => this.deps.log(`network removal ${rec.id}: ${String(e)}`))
    await this.deps.store.delete(rec)
    this.#emit(rec, 'destroy')
    for (const w of this.#removed.get(rec.id)?.splice(0) ?? []) w({ statusCode: rec.state.exitCode })
    this.#removed.delete(rec.id)
    for (const w of this.#nextExit.get(rec.id)?.splice(0) ?? []) w({ statusCode: rec.state.exitCode })
  }

  async rename(ref: string, newName: string): Promise<void> {
    const rec = this.resolve(ref)
    const name = newName.replace(/^\//, '')
    if (!name) throw invalid('ERR_INVALID_NAME', 'Neither old nor new names may be empty')
    if (name === rec.name) throw invalid('ERR_SAME_NAME', 'Renaming a container with the same name as its current name')
    const old = rec.name
    try {
      this.deps.store.reserveName(name, rec.id)
    } catch (err) {
      // Docker's words, which Compose looks for when it renames during a recreate.
      if (err instanceof EngineError) throw new EngineError(err.kind, err.code, `Error when allocating new name: ${err.message}`, err)
      throw err
    }
    rec.name = name
    this.deps.store.releaseName(old, rec.id)
    await this.deps.store.save(rec)
    this.#emit(rec, 'rename', { oldName: `/${old}` })
  }

  /** A container event, with Docker's attributes (labels, image, name) and `extra`. */
  emit(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.#emit(rec, action, extra)
  }

  #emit(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.deps.events.emit('container', action, rec.id, { ...rec.config.labels, image: rec.imageRef, name: rec.name, ...extra })
  }
}

/** The cgroup limits of a host config that are set (the PIDs limit apart: start and update differ). */
function specResources(hc: HostConfig): SpecInput['resources'] {
  return {
    ...(hc.memory ? { memory: hc.memory } : {}),
    ...(hc.memorySwap ? { memorySwap: hc.memorySwap } : {}),
    ...(hc.memoryReservation ? { memoryReservation: hc.memoryReservation } : {}),
    ...(hc.cpuShares ? { cpuShares: hc.cpuShares } : {}),
    ...(hc.cpuQuota ? { cpuQuota: hc.cpuQuota } : {}),
    ...(hc.cpuPeriod ? { cpuPeriod: hc.cpuPeriod } : {}),
    ...(hc.cpusetCpus ? { cpusetCpus: hc.cpusetCpus } : {}),
    ...(hc.cpusetMems ? { cpusetMems: hc.cpusetMems } : {}),
    ...(hc.oomKillDisable ? { oomKillDisable: true } : {}),
  }
}

/** A resolved mount as an OCI spec mount: binds (volumes too) and tmpfs with Docker's options. */
function specMount(m: MountPoint): SpecInput['mounts'][number] {
  if (m.type === 'tmpfs') {
    const opts = new Set(['nosuid', 'noexec', 'nodev'])
    const extra: string[] = []
    for (const o of m.tmpfsOptions ?? []) {
      if (o === 'exec') opts.delete('noexec')
      else if (o === 'suid') opts.delete('nosuid')
      else if (o === 'dev') opts.delete('nodev')
      else if (o !== 'rw' && o !== 'ro') extra.push(o)
    }
    return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: [...opts, ...(m.readOnly ? ['ro'] : []), ...extra] }
  }
  return { destination: m.destination, type: 'bind', source: m.source, options: ['rbind', m.propagation || 'rprivate', ...(m.readOnly ? ['ro'] : [])] }
}

function signalNumber(sig: string): number {
  return /^\d+$/.test(sig) ? Number(sig) : SIGNALS[sig] ?? 15
}

/** Exit status Docker records when a start fails: 127 not found, 126 cannot invoke. */
function exitCodeFor(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127
  if (/permission denied/i.test(message)) return 126
  return 128
}

/** Turn the runtime's words into Docker's, which clients parse (docker run maps them to 126/127). */
function translateRuntimeError(err: EngineError, path: string): EngineError {
  let m = err.message
  const notFoundExe = /executable file `([^`]*)` not found in \$PATH/.exec(m)
  if (notFoundExe) m = `exec: "${notFoundExe[1]}": executable file not found in $PATH`
  // crun cannot open a file that is not executable (or a directory); runc says `permission denied`.
  else if (/open executable: (Permission denied|Operation not permitted)/i.test(m)) m = `exec: ${JSON.stringify(path)}: permission denied`
  else if (/cannot find|No such file or directory/i.test(m) && /exec/i.test(m)) m = m.replace(/^.*?: /, '')
  return new EngineError(err.kind === 'Internal' ? 'InvalidArgument' : err.kind, err.code, `failed to create task for container: OCI runtime create failed: ${m}: unknown`)
}

function parseSecurityOpts(opts: string[]): { noNewPrivileges: boolean; seccomp: SpecInput['seccomp']; unconfinedPaths: boolean } {
  let noNewPrivileges = false
  let seccomp: SpecInput['seccomp'] = { mode: 'default' }
  let unconfinedPaths = false
  for (const o of opts) {
    const [k, v = ''] = o.includes('=') ? [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)] : o.includes(':') ? [o.slice(0, o.indexOf(':')), o.slice(o.indexOf(':') + 1)] : [o, '']
    if (k === 'no-new-privileges') noNewPrivileges = v === '' || v === 'true'
    else if (k === 'seccomp') {
      if (v === 'unconfined') seccomp = { mode: 'unconfined' }
      else {
        let profile: unknown
        try { profile = JSON.parse(v) } catch { throw invalid('ERR_SECCOMP', 'Decoding seccomp profile failed: invalid character') }
        seccomp = { mode: 'custom', profile }
      }
    } else if (k === 'systempaths' && v === 'unconfined') unconfinedPaths = true
    else if (k === 'apparmor' || k === 'label') continue
    else throw invalid('ERR_SECURITY_OPT', `invalid --security-opt: ${JSON.stringify(o)}`)
  }
  return { noNewPrivileges, seccomp, unconfinedPaths }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p)
    return true
  } catch (err) {
    if (isNotFoundErrno(err)) return false
    throw err
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

export type { Digest }

import type { Watcher, Lease } from 'etcd3'
import type { RegistryAuth } from '../api/backend.js'
import { isKind } from '../lib/errors.js'
import { ALIVE_PREFIX, type ClusterStore, type WatchEvent } from './store.js'
import { HEARTBEAT_TTL_MS } from './liveness.js'
import type { OverlayAttachment } from './context.js'
import { isTerminal, taskStateRank, type Task, type TaskStatus, type ContainerSpec, type Mount, type Service } from './types.js'

/**
 * The engine a worker's agent drives: just enough of berthd's container domain to run task
 * containers. berthd wires its container backend behind it; tests use a fake. Containers are
 * found again by their labels (after a berthd restart the agent lists them).
 */
export interface AgentEngine {
  /** Containers that carry every given label (any state). */
  listContainers(labels: Record<string, string>): Promise<TaskContainer[]>
  /** Create (not start) a container; pulls the image if needed. Returns its ID. */
  createContainer(spec: TaskContainerSpec, signal?: AbortSignal): Promise<string>
  startContainer(id: string): Promise<void>
  /** Stop with the container's stop signal, then SIGKILL after timeoutSeconds. No error if already stopped. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>
  /** Remove a stopped container (and its anonymous volumes). No error if gone. */
  removeContainer(id: string): Promise<void>
  /** Current state, or undefined when it no longer exists. */
  inspectContainer(id: string): Promise<TaskContainer | undefined>
}

export interface TaskContainer {
  id: string
  name: string
  labels: Record<string, string>
  state: 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead' | 'removing'
  exitCode: number
  pid: number
  /** The runtime's error when the container could not start. */
  error?: string
  /** Present when the container has a healthcheck (its own or its image's): `starting` until the first verdict. */
  health?: 'starting' | 'healthy' | 'unhealthy'
}

/** A secret or config as a file in the container (read-only), with its data from the store. */
export interface TaskFile {
  kind: 'secret' | 'config'
  /** The secret's or config's ID and name. */
  id: string
  name: string
  /** Absolute path in the container: /run/secrets/<name> for secrets, /<name> for configs, or the absolute target given. */
  target: string
  uid: number
  gid: number
  mode: number
  data: Buffer
}

/** A host-mode published port (an ordinary port binding on the task's node; no published port: a random one). */
export interface TaskHostPort {
  protocol: 'tcp' | 'udp' | 'sctp'
  targetPort: number
  publishedPort?: number
}

/** Docker's AuthConfig as X-Registry-Auth carries it (the fields a pull uses). */
export type RegistryAuthConfig = RegistryAuth

/**
 * ContainerSpec fields the API layer keeps (cluster/objects.ts, wire-swarm.ts) beyond the core
 * model, read here when present: they map onto the container's host config as dockerd's
 * executor maps them.
 */
export type ContainerSpecExtras = Pick<ContainerSpec, 'readOnly' | 'groups' | 'hosts' | 'dnsConfig' | 'capabilityAdd' | 'capabilityDrop' | 'sysctls' | 'ulimits' | 'oomScoreAdj'>

/** A swarm mount with the per-type options the API layer may keep (Docker's Mount in camelCase). */
export type TaskMount = Mount & {
  consistency?: string
  bindOptions?: { propagation?: string; nonRecursive?: boolean; createMountpoint?: boolean; readOnlyNonRecursive?: boolean; readOnlyForceRecursive?: boolean }
  volumeOptions?: { noCopy?: boolean; labels?: Record<string, string>; subpath?: string; driverConfig?: { name?: string; options?: Record<string, string> } }
  tmpfsOptions?: { sizeBytes?: number; mode?: number; options?: string[][] }
}

export interface TaskContainerSpec {
  name: string
  image: string
  labels: Record<string, string>
  env: string[]
  /** Replaces the image's entrypoint (Docker's ContainerSpec.Command). */
  entrypoint?: string[]
  /** Replaces the image's cmd (ContainerSpec.Args). */
  cmd?: string[]
  hostname?: string
  workingDir?: string
  user?: string
  tty: boolean
  openStdin: boolean
  mounts: TaskMount[]
  readOnly?: boolean
  groups?: string[]
  /** In the host config's form, `hostname:IP` (converted from swarmkit's `IP hostname`). */
  extraHosts?: string[]
  dns?: { nameservers: string[]; search: string[]; options: string[] }
  capAdd?: string[]
  capDrop?: string[]
  sysctls?: Record<string, string>
  ulimits?: { name: string; soft: number; hard: number }[]
  oomScoreAdj?: number
  stopSignal?: string
  stopTimeoutSeconds?: number
  init?: boolean
  healthCheck?: ContainerSpec['healthCheck']
  nanoCpus?: number
  memoryBytes?: number
  memoryReservationBytes?: number
  pidsLimit?: number
  /** Secrets and configs, resolved by resolveTaskContainerSpec (empty from containerSpecForTask). */
  files: TaskFile[]
  /** Swarm networks (task.networksAttachments with their network objects); the first is the primary one. */
  networks: OverlayAttachment[]
  hostPorts: TaskHostPort[]
  /** The service's registry credentials for the pull (Service.registryAuth, filled by resolveTaskContainerSpec). */
  registryAuth?: RegistryAuthConfig
}

export const LABEL = {
  nodeId: 'com.docker.swarm.node.id',
  serviceId: 'com.docker.swarm.service.id',
  serviceName: 'com.docker.swarm.service.name',
  task: 'com.docker.swarm.task',
  taskId: 'com.docker.swarm.task.id',
  taskName: 'com.docker.swarm.task.name',
} as const

/** Docker's task name: <service>.<slot> or, for a global service, <service>.<node>; the container adds .<task id>. */
export function taskName(t: Task): string {
  return `${t.serviceName}.${t.slot > 0 ? t.slot : t.nodeId}`
}

export function containerSpecForTask(t: Task): TaskContainerSpec {
  const c = t.spec.containerSpec as ContainerSpec & ContainerSpecExtras
  // dockerd's executor: `IP hostname [aliases]` becomes `hostname:IP` (aliases ignored).
  const extraHosts = (c.hosts ?? []).map((h) => h.trim().split(/\s+/)).filter((p) => p.length > 1).map((p) => `${p[1]}:${p[0]}`)
  const dns = c.dnsConfig
  const name = `${taskName(t)}.${t.id}`
  const limits = t.spec.resources?.limits
  const reservations = t.spec.resources?.reservations
  return {
    name,
    image: c.image,
    labels: {
      ...(c.labels ?? {}),
      [LABEL.nodeId]: t.nodeId,
      [LABEL.serviceId]: t.serviceId,
      [LABEL.serviceName]: t.serviceName,
      [LABEL.task]: '',
      [LABEL.taskId]: t.id,
      [LABEL.taskName]: name,
    },
    env: c.env ?? [],
    ...(c.command ? { entrypoint: c.command } : {}),
    ...(c.args ? { cmd: c.args } : {}),
    ...(c.hostname ? { hostname: c.hostname } : {}),
    ...(c.dir ? { workingDir: c.dir } : {}),
    ...(c.user ? { user: c.user } : {}),
    tty: c.tty ?? false,
    openStdin: c.openStdin ?? false,
    mounts: (c.mounts ?? []) as TaskMount[],
    ...(c.readOnly ? { readOnly: true } : {}),
    ...(c.groups?.length ? { groups: c.groups } : {}),
    ...(extraHosts.length ? { extraHosts } : {}),
    ...(dns ? { dns: { nameservers: dns.nameservers ?? [], search: dns.search ?? [], options: dns.options ?? [] } } : {}),
    ...(c.capabilityAdd?.length ? { capAdd: c.capabilityAdd } : {}),
    ...(c.capabilityDrop?.length ? { capDrop: c.capabilityDrop } : {}),
    ...(c.sysctls && Object.keys(c.sysctls).length ? { sysctls: c.sysctls } : {}),
    ...(c.ulimits?.length ? { ulimits: c.ulimits } : {}),
    ...(c.oomScoreAdj ? { oomScoreAdj: c.oomScoreAdj } : {}),
    ...(c.stopSignal ? { stopSignal: c.stopSignal } : {}),
    ...(c.stopGracePeriod !== undefined ? { stopTimeoutSeconds: Math.ceil(c.stopGracePeriod / 1e9) } : {}),
    ...(c.init !== undefined ? { init: c.init } : {}),
    ...(c.healthCheck ? { healthCheck: c.healthCheck } : {}),
    ...(limits?.nanoCPUs ? { nanoCpus: limits.nanoCPUs } : {}),
    ...(limits?.memoryBytes ? { memoryBytes: limits.memoryBytes } : {}),
    ...(reservations?.memoryBytes ? { memoryReservationBytes: reservations.memoryBytes } : {}),
    ...(limits?.pids ? { pidsLimit: limits.pids } : {}),
    files: [],
    networks: [],
    hostPorts: [],
  }
}

/** Docker's Linux targets: a relative secret name under /run/secrets, a relative config name under /. */
export function fileTarget(kind: 'secret' | 'config', name: string): string {
  if (name.startsWith('/')) return name
  return kind === 'secret' ? `/run/secrets/${name}` : `/${name}`
}

function idOf(v: string, what: string): number {
  if (v === '') return 0
  if (!/^\d+$/.test(v)) throw new Error(`invalid ${what} "${v}": must be a number`)
  return Number(v)
}

/**
 * The container spec of a task with what the store holds for it: the data of its secrets and
 * configs (a reference without a file target is skipped, as dockerd does on Linux), its swarm
 * networks with the task's addresses, the service's host-mode published ports and registry
 * credentials (Service.registryAuth, kept by the API from X-Registry-Auth). Docker's
 * errors for a missing secret or config.
 */
export async function resolveTaskContainerSpec(store: ClusterStore, t: Task): Promise<TaskContainerSpec> {
  const spec = containerSpecForTask(t)
  const c = t.spec.containerSpec
  // Every object the task refers to, read at once (each read is an etcd round trip).
  const secretRefs = (c.secrets ?? []).filter((r) => r.file)
  const configRefs = (c.configs ?? []).filter((r) => r.file)
  const attachments = t.networksAttachments ?? []
  const [secrets, configs, networks, svc] = await Promise.all([
    Promise.all(secretRefs.map((r) => store.find('secrets', r.secretId))),
    Promise.all(configRefs.map((r) => store.find('configs', r.configId))),
    Promise.all(attachments.map((na) => store.find('networks', na.networkId))),
    store.find('services', t.serviceId) as Promise<(Service & { registryAuth?: RegistryAuthConfig }) | undefined>,
  ])
  secretRefs.forEach((ref, i) => {
    const sec = secrets[i]
    if (!sec) throw new Error(`unable to get secret from secret store: secret ${ref.secretId} not found`)
    spec.files.push({ kind: 'secret', id: sec.id, name: ref.secretName, target: fileTarget('secret', ref.file!.name), uid: idOf(ref.file!.uid, 'uid'), gid: idOf(ref.file!.gid, 'gid'), mode: ref.file!.mode, data: Buffer.from(sec.spec.data ?? '', 'base64') })
  })
  configRefs.forEach((ref, i) => {
    const cfg = configs[i]
    if (!cfg) throw new Error(`unable to get config from config store: config ${ref.configId} not found`)
    spec.files.push({ kind: 'config', id: cfg.id, name: ref.configName, target: fileTarget('config', ref.file!.name), uid: idOf(ref.file!.uid, 'uid'), gid: idOf(ref.file!.gid, 'gid'), mode: ref.file!.mode, data: Buffer.from(cfg.spec.data ?? '', 'base64') })
  })
  attachments.forEach((na, i) => {
    const network = networks[i]
    if (!network) throw new Error(`network ${na.networkId} not found`)
    const asked = (t.spec.networks ?? []).find((n) => n.target === network.id || n.target === network.spec.name)
    spec.networks.push({ network, address: na.addresses[0] ?? '', aliases: network.spec.ingress ? [] : [...(asked?.aliases ?? [])] })
  })
  if (svc?.registryAuth) spec.registryAuth = svc.registryAuth
  for (const p of svc?.spec.endpointSpec?.ports ?? []) {
    if (p.publishMode !== 'host') continue
    spec.hostPorts.push({ protocol: p.protocol, targetPort: p.targetPort, ...(p.publishedPort ? { publishedPort: p.publishedPort } : {}) })
  }
  return spec
}

/** swarmkit's error (dockerexec) when the healthcheck failed: the task fails with the exit code and this cause. */
export const UNHEALTHY = 'dockerexec: unhealthy container'

export interface AgentOptions {
  nodeId: string
  store: ClusterStore
  engine: AgentEngine
  /** How often running task containers are checked for exits (ms). */
  pollMs?: number
  heartbeatTtlMs?: number
  clock?: () => number
  log?: (msg: string) => void
}

/**
 * A node's agent: keeps its heartbeat key alive on an etcd lease, watches the tasks assigned to
 * its node and makes the engine match them. Per task (one at a time):
 * - desired running, assigned, past notBefore, no container: create (preparing), start
 *   (starting), then report running; a create failure is `rejected`, a start failure `failed`;
 * - a container with a healthcheck stays `starting` until it is healthy (as swarmkit's
 *   controller); unhealthy (then or later) stops it and fails the task with
 *   "task: non-zero exit (N): dockerexec: unhealthy container";
 * - a running container that exits: `complete` (code 0) or `failed` ("task: non-zero exit (N)");
 * - desired shutdown or remove: stop the container and report `shutdown`; remove: also delete it;
 * - a container whose task is gone from the store (deleted, or assigned elsewhere while this
 *   node was away) is stopped and removed, so a returning node never runs a task twice.
 * Status only moves forward (a stale report never overwrites a newer state).
 */
export class Agent {
  private readonly pollMs: number
  private readonly ttlMs: number
  private readonly clock: () => number
  private watcher: Watcher | undefined
  private lease: Lease | undefined
  private poller: NodeJS.Timeout | undefined
  private timers = new Map<string, NodeJS.Timeout>()
  private chains = new Map<string, Promise<void>>()
  private tasks = new Map<string, Task>()
  private stopped = false

  constructor(private readonly o: AgentOptions) {
    this.pollMs = o.pollMs ?? 500
    this.ttlMs = o.heartbeatTtlMs ?? HEARTBEAT_TTL_MS
    this.clock = o.clock ?? Date.now
  }

  /** Start the heartbeat, reconcile every container and task of this node, then follow changes. */
  async start(): Promise<void> {
    await this.startHeartbeat()
    const { items, revision } = await this.o.store.listAt('tasks')
    for (const t of items) if (t.nodeId === this.o.nodeId) this.tasks.set(t.id, t)
    this.watcher = await this.o.store.watch(revision + 1, (evs) => this.onEvents(evs), (err) => this.o.log?.(`agent watch: ${err.message}`))
    await this.removeStrays()
    await Promise.all([...this.tasks.values()].map((t) => this.enqueue(t.id)))
    this.poller = setInterval(() => void this.pollExits(), this.pollMs)
  }

  /** Stop following (containers keep running). `revoke` ends the heartbeat at once (a clean leave). */
  async stop(opts: { revoke?: boolean } = {}): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.poller) clearInterval(this.poller)
    for (const t of this.timers.values()) clearTimeout(t)
    await this.watcher?.cancel()
    await Promise.allSettled([...this.chains.values()])
    if (this.lease) {
      if (opts.revoke) await this.lease.revoke().catch(() => undefined)
      else this.lease.release()
    }
  }

  private async startHeartbeat(): Promise<void> {
    const lease = this.o.store.client.lease(Math.ceil(this.ttlMs / 1000), { autoKeepAlive: true })
    lease.on('lost', (err) => {
      this.o.log?.(`agent heartbeat lease lost: ${err.message}`)
      if (!this.stopped) void this.startHeartbeat().catch((e: Error) => this.o.log?.(`agent heartbeat: ${e.message}`))
    })
    await lease.put(`${ALIVE_PREFIX}${this.o.nodeId}`).value(JSON.stringify({ at: new Date(this.clock()).toISOString() }))
    this.lease = lease
  }

  private onEvents(evs: WatchEvent[]): void {
    for (const e of evs) {
      if (e.kind !== 'tasks') continue
      const prev = this.tasks.get(e.id)
      if (e.type === 'delete') {
        if (!prev) continue
        this.tasks.delete(e.id)
        void this.enqueue(e.id)
        continue
      }
      const t = e.obj as Task
      if (t.nodeId !== this.o.nodeId) {
        if (prev) {
          this.tasks.delete(e.id)
          void this.enqueue(e.id)
        }
        continue
      }
      this.tasks.set(t.id, t)
      void this.enqueue(t.id)
    }
  }

  /** Run reconcile for one task after any reconcile already running for it. */
  private enqueue(taskId: string): Promise<void> {
    const prev = this.chains.get(taskId) ?? Promise.resolve()
    const next = prev.then(() => (this.stopped ? undefined : this.reconcile(taskId))).catch((err: Error) => this.o.log?.(`agent task ${taskId}: ${err.message}`))
    this.chains.set(taskId, next)
    void next.then(() => {
      if (this.chains.get(taskId) === next) this.chains.delete(taskId)
    })
    return next
  }

  private async containerOf(taskId: string): Promise<TaskContainer | undefined> {
    const found = await this.o.engine.listContainers({ [LABEL.taskId]: taskId })
    return found[0]
  }

  private async reconcile(taskId: string): Promise<void> {
    const t = this.tasks.get(taskId)
    const ctr = await this.containerOf(taskId)
    if (!t) {
      // Deleted from the store, or now someone else's: nothing of it may keep running here.
      if (ctr) await this.removeContainer(ctr, 10)
      return
    }
    const stopTimeout = Math.ceil((t.spec.containerSpec.stopGracePeriod ?? 10e9) / 1e9)
    if (t.desiredState === 'shutdown' || t.desiredState === 'remove' || t.desiredState === 'complete') {
      if (ctr && (ctr.state === 'running' || ctr.state === 'restarting' || ctr.state === 'paused')) await this.o.engine.stopContainer(ctr.id, stopTimeout)
      if (ctr && t.desiredState === 'remove') await this.o.engine.removeContainer(ctr.id)
      if (!isTerminal(t.status.state)) {
        const after = ctr ? await this.o.engine.inspectContainer(ctr.id) : undefined
        await this.report(t, { state: 'shutdown', message: 'shutdown', ...(after ? { containerStatus: { containerId: after.id, pid: 0, exitCode: after.exitCode } } : {}) })
      }
      return
    }
    if (isTerminal(t.status.state)) return
    if (taskStateRank(t.status.state) < taskStateRank('assigned')) return // not ours yet
    if (ctr) {
      await this.observe(t, ctr)
      return
    }
    if (taskStateRank(t.status.state) >= taskStateRank('starting')) {
      // We started it before, and its container is gone (removed behind our back).
      await this.report(t, { state: 'failed', message: 'started', err: 'task container is gone' })
      return
    }
    const wait = (t.notBefore ?? 0) - this.clock()
    if (wait > 0) {
      if (t.status.state === 'assigned') await this.report(t, { state: 'accepted', message: 'accepted' })
      this.schedule(t.id, wait)
      return
    }
    await this.run(t)
  }

  private schedule(taskId: string, ms: number): void {
    clearTimeout(this.timers.get(taskId))
    this.timers.set(taskId, setTimeout(() => {
      this.timers.delete(taskId)
      void this.enqueue(taskId)
    }, ms))
  }

  private async run(t: Task): Promise<void> {
    // Each status write is an etcd round trip (a read and a transaction): they go alongside the
    // engine's work, `preparing` while the container is made, `starting` while it starts, not
    // before it (a rescheduled task runs that much sooner).
    // A task already `preparing` with no container was left by a berthd that died between that
    // write and the create: it is still ours to run (the write is kept, not repeated).
    const preparing = this.report(t, { state: 'preparing', message: 'preparing' }, { orSame: true })
    let id: string
    try {
      id = await this.o.engine.createContainer(await resolveTaskContainerSpec(this.o.store, t))
    } catch (err) {
      const cur = await preparing
      if (cur) await this.report(cur, { state: 'rejected', message: 'preparing', err: (err as Error).message })
      return
    }
    let cur = await preparing
    if (!cur) {
      // The task moved on meanwhile (shut down, or not ours): its container is not wanted.
      await this.o.engine.removeContainer(id).catch((e: Error) => this.o.log?.(`agent task ${t.id}: ${e.message}`))
      return
    }
    const starting = this.report(cur, { state: 'starting', message: 'starting', containerStatus: { containerId: id, pid: 0, exitCode: 0 } })
    let startErr: Error | undefined
    try {
      await this.o.engine.startContainer(id)
    } catch (err) {
      startErr = err as Error
    }
    cur = await starting
    // Moved on meanwhile: the watch event that moved it runs a reconcile (which stops it).
    if (!cur) return
    if (startErr) {
      await this.report(cur, { state: 'failed', message: 'starting', err: startErr.message, containerStatus: { containerId: id, pid: 0, exitCode: 0 } })
      return
    }
    const after = await this.o.engine.inspectContainer(id)
    if (after) await this.observe(cur, after)
  }

  /** Report what an existing container says about its task. */
  private async observe(t: Task, c: TaskContainer): Promise<void> {
    const cs = { containerId: c.id, pid: c.pid, exitCode: c.exitCode }
    if (c.state === 'running' || c.state === 'paused' || c.state === 'restarting') {
      if (c.health === 'unhealthy') {
        await this.o.engine.stopContainer(c.id, Math.ceil((t.spec.containerSpec.stopGracePeriod ?? 10e9) / 1e9))
        const after = await this.o.engine.inspectContainer(c.id)
        const code = after?.exitCode ?? c.exitCode
        await this.report(t, { state: 'failed', message: 'started', err: `task: non-zero exit (${code}): ${UNHEALTHY}`, containerStatus: { containerId: c.id, pid: 0, exitCode: code } })
        return
      }
      // Not healthy yet: the task stays `starting` (the poller looks again).
      if (c.health === 'starting' && taskStateRank(t.status.state) < taskStateRank('running')) {
        if (taskStateRank(t.status.state) < taskStateRank('starting')) await this.report(t, { state: 'starting', message: 'starting', containerStatus: cs })
        return
      }
      if (t.status.state !== 'running') await this.report(t, { state: 'running', message: 'started', containerStatus: cs })
    } else if (c.state === 'exited' || c.state === 'dead') {
      if (c.exitCode === 0 && !c.error) await this.report(t, { state: 'complete', message: 'finished', containerStatus: cs })
      else await this.report(t, { state: 'failed', message: 'started', err: c.error || `task: non-zero exit (${c.exitCode})`, containerStatus: cs })
    } else if (c.state === 'created') {
      // Created but never started (berthd died in between): start it now.
      try {
        await this.o.engine.startContainer(c.id)
      } catch (err) {
        await this.report(t, { state: 'failed', message: 'starting', err: (err as Error).message, containerStatus: cs })
        return
      }
      const after = await this.o.engine.inspectContainer(c.id)
      if (after && after.state !== 'created') await this.observe(t, after)
    }
  }

  /** Containers labelled for this node whose task is not ours (any more). */
  private async removeStrays(): Promise<void> {
    const mine = await this.o.engine.listContainers({ [LABEL.nodeId]: this.o.nodeId })
    for (const c of mine) {
      const id = c.labels[LABEL.taskId]
      if (id && !this.tasks.has(id)) await this.removeContainer(c, 10)
    }
  }

  private async removeContainer(c: TaskContainer, timeout: number): Promise<void> {
    if (c.state === 'running' || c.state === 'paused' || c.state === 'restarting') await this.o.engine.stopContainer(c.id, timeout)
    await this.o.engine.removeContainer(c.id)
  }

  private async pollExits(): Promise<void> {
    for (const t of this.tasks.values()) {
      if ((t.status.state !== 'running' && t.status.state !== 'starting') || t.desiredState !== 'running' || this.chains.has(t.id)) continue
      void this.enqueue(t.id)
    }
  }

  /** Move a task's status forward (never back). Returns the task as written, undefined if it is gone or moved on. */
  /**
   * Write a task's status if it moves forward; the task as written, else undefined (not ours, or
   * further already). `orSame`: a task already in that state is returned as it is (no write).
   */
  private async report(t: Task, status: Omit<TaskStatus, 'timestamp'>, o: { orSame?: boolean } = {}): Promise<Task | undefined> {
    const full: TaskStatus = { timestamp: new Date(this.clock()).toISOString(), ...status }
    try {
      let wrote = false
      let same = false
      const out = await this.o.store.modify('tasks', t.id, (cur) => {
        if (cur.nodeId !== this.o.nodeId) return undefined
        same = !!o.orSame && cur.status.state === full.state
        if (taskStateRank(cur.status.state) >= taskStateRank(full.state)) return undefined
        cur.status = full
        cur.updatedAt = full.timestamp
        wrote = true
        return cur
      })
      this.tasks.set(out.id, out)
      return wrote || same ? out : undefined
    } catch (err) {
      if (isKind(err, 'NotFound')) return undefined
      throw err
    }
  }
}

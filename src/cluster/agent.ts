import type { Watcher, Lease } from 'etcd3'
import { isKind } from '../lib/errors.js'
import { ALIVE_PREFIX, type ClusterStore, type WatchEvent } from './store.js'
import { HEARTBEAT_TTL_MS } from './liveness.js'
import { isTerminal, taskStateRank, type Task, type TaskStatus, type ContainerSpec, type Mount } from './types.js'

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
  mounts: Mount[]
  stopSignal?: string
  stopTimeoutSeconds?: number
  init?: boolean
  healthCheck?: ContainerSpec['healthCheck']
  nanoCpus?: number
  memoryBytes?: number
  pidsLimit?: number
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
  const c = t.spec.containerSpec
  const name = `${taskName(t)}.${t.id}`
  const limits = t.spec.resources?.limits
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
    mounts: c.mounts ?? [],
    ...(c.stopSignal ? { stopSignal: c.stopSignal } : {}),
    ...(c.stopGracePeriod !== undefined ? { stopTimeoutSeconds: Math.ceil(c.stopGracePeriod / 1e9) } : {}),
    ...(c.init !== undefined ? { init: c.init } : {}),
    ...(c.healthCheck ? { healthCheck: c.healthCheck } : {}),
    ...(limits?.nanoCPUs ? { nanoCpus: limits.nanoCPUs } : {}),
    ...(limits?.memoryBytes ? { memoryBytes: limits.memoryBytes } : {}),
    ...(limits?.pids ? { pidsLimit: limits.pids } : {}),
  }
}

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
    let cur = await this.report(t, { state: 'preparing', message: 'preparing' })
    if (!cur) return
    let id: string
    try {
      id = await this.o.engine.createContainer(containerSpecForTask(cur))
    } catch (err) {
      await this.report(cur, { state: 'rejected', message: 'preparing', err: (err as Error).message })
      return
    }
    cur = await this.report(cur, { state: 'starting', message: 'starting', containerStatus: { containerId: id, pid: 0, exitCode: 0 } })
    if (!cur) return
    try {
      await this.o.engine.startContainer(id)
    } catch (err) {
      await this.report(cur, { state: 'failed', message: 'starting', err: (err as Error).message, containerStatus: { containerId: id, pid: 0, exitCode: 0 } })
      return
    }
    const after = await this.o.engine.inspectContainer(id)
    if (after) await this.observe(cur, after)
  }

  /** Report what an existing container says about its task. */
  private async observe(t: Task, c: TaskContainer): Promise<void> {
    const cs = { containerId: c.id, pid: c.pid, exitCode: c.exitCode }
    if (c.state === 'running' || c.state === 'paused' || c.state === 'restarting') {
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
      if (t.status.state !== 'running' || t.desiredState !== 'running' || this.chains.has(t.id)) continue
      void this.enqueue(t.id)
    }
  }

  /** Move a task's status forward (never back). Returns the task as written, undefined if it is gone or moved on. */
  private async report(t: Task, status: Omit<TaskStatus, 'timestamp'>): Promise<Task | undefined> {
    const full: TaskStatus = { timestamp: new Date(this.clock()).toISOString(), ...status }
    try {
      let wrote = false
      const out = await this.o.store.modify('tasks', t.id, (cur) => {
        if (cur.nodeId !== this.o.nodeId) return undefined
        if (taskStateRank(cur.status.state) >= taskStateRank(full.state)) return undefined
        cur.status = full
        cur.updatedAt = full.timestamp
        wrote = true
        return cur
      })
      this.tasks.set(out.id, out)
      return wrote ? out : undefined
    } catch (err) {
      if (isKind(err, 'NotFound')) return undefined
      throw err
    }
  }
}

import type { Campaign, Watcher } from 'etcd3'
import { EngineError } from '../lib/errors.js'
import { planToOps } from './apply.js'
import { HeartbeatTracker, planLiveness } from './liveness.js'
import { planAllocation, withAllocations } from './allocator.js'
import { planOrchestration } from './orchestrator.js'
import { planScheduling } from './scheduler.js'
import { ALIVE_PREFIX, ELECTION, type ClusterStore, type WatchEvent } from './store.js'
import type { Plan } from './plan.js'
import type { Cluster, Network, Node, Service, Task } from './types.js'

/**
 * A manager's control loop. Every manager campaigns in an etcd election (lease of
 * `electionTtlSeconds`); the elected one lists the cluster state, follows it by a watch, and on
 * every change (debounced) or wake-up runs the planners in order — liveness, orchestrator,
 * allocator (addresses, VIPs, VNIs), scheduler — applying each plan in one transaction. A plan that loses a race (update out of
 * sequence) is dropped and recomputed from the newer state. Losing the election (its lease
 * lost, e.g. the process stalled) stops the loop at once.
 */
export interface ManagerOptions {
  nodeId: string
  store: ClusterStore
  electionTtlSeconds?: number
  clock?: () => number
  log?: (msg: string) => void
  /** Called with every applied plan (tests, `--debug` logs). */
  onPlan?: (name: string, plan: Plan) => void
}

export class Manager {
  private campaign: Campaign | undefined
  private watcher: Watcher | undefined
  private leading = false
  private stopped = false
  private readonly clock: () => number
  private nodes = new Map<string, Node>()
  private services = new Map<string, Service>()
  private tasks = new Map<string, Task>()
  private networks = new Map<string, Network>()
  private cluster: Cluster | undefined
  private hb: HeartbeatTracker
  private pending: NodeJS.Timeout | undefined
  private wakeTimer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  /** Highest revision the watch has delivered, and the revision of our last commit. */
  private seen = 0
  private committed = 0
  private leaderKey: string | undefined

  constructor(private readonly o: ManagerOptions) {
    this.clock = o.clock ?? Date.now
    this.hb = new HeartbeatTracker(this.clock)
  }

  get isLeader(): boolean {
    return this.leading
  }

  /** Join the election; resolves at once (leadership comes later, see isLeader / whenLeader). */
  start(): void {
    const election = this.o.store.client.election(ELECTION, this.o.electionTtlSeconds ?? 2)
    const c = election.campaign(this.o.nodeId)
    this.campaign = c
    c.on('elected', () => void this.lead().catch((err: Error) => this.o.log?.(`manager: ${err.message}`)))
    c.on('error', (err: Error) => {
      this.o.log?.(`manager: campaign failed: ${err.message}`)
      void this.follow().then(() => {
        if (!this.stopped) setTimeout(() => this.start(), 250)
      })
    })
  }

  async whenLeader(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.leading) {
      if (Date.now() > deadline) throw new EngineError('Unavailable', 'ERR_SWARM_NO_LEADER', 'this manager did not become the leader')
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.follow()
    // A campaign whose lease is already gone may never answer a resign.
    await Promise.race([this.campaign?.resign().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())])
  }

  private async follow(): Promise<void> {
    this.leading = false
    clearTimeout(this.pending)
    clearTimeout(this.wakeTimer)
    await this.watcher?.cancel().catch(() => undefined)
    this.watcher = undefined
    await this.running?.catch(() => undefined)
  }

  private async lead(): Promise<void> {
    if (this.stopped) return
    const store = this.o.store
    this.leaderKey = await this.campaign!.getCampaignKey()
    const [nodes, services, tasks, networks] = [await store.listAt('nodes'), await store.listAt('services'), await store.listAt('tasks'), await store.listAt('networks')]
    this.cluster = await store.getCluster()
    const alive = await store.client.getAll().prefix(ALIVE_PREFIX).keys()
    this.nodes = new Map(nodes.items.map((n) => [n.id, n]))
    this.services = new Map(services.items.map((s) => [s.id, s]))
    this.tasks = new Map(tasks.items.map((t) => [t.id, t]))
    this.networks = new Map(networks.items.map((n) => [n.id, n]))
    this.hb = new HeartbeatTracker(this.clock)
    this.hb.reset(alive.map((k) => k.slice(ALIVE_PREFIX.length)), this.nodes.keys())
    this.seen = Math.max(nodes.revision, services.revision, tasks.revision, networks.revision)
    this.committed = 0
    const from = Math.min(nodes.revision, services.revision, tasks.revision, networks.revision) + 1
    this.watcher = await store.watch(from, (evs) => this.onEvents(evs), (err) => this.o.log?.(`manager watch: ${err.message}`))
    this.leading = true
    this.kick(0)
  }

  private onEvents(evs: WatchEvent[]): void {
    for (const e of evs) {
      this.seen = Math.max(this.seen, e.revision)
      if (e.kind === 'alive') {
        if (e.type === 'put') this.hb.put(e.id)
        else this.hb.delete(e.id)
        continue
      }
      if (e.kind === 'cluster') {
        if (e.type === 'put') this.cluster = e.obj as Cluster
        continue
      }
      const map = e.kind === 'nodes' ? this.nodes : e.kind === 'services' ? this.services : e.kind === 'tasks' ? this.tasks : e.kind === 'networks' ? this.networks : undefined
      if (!map) continue
      if (e.type === 'delete') map.delete(e.id)
      else {
        const obj = e.obj as { id: string; version: { index: number } }
        const prev = map.get(e.id) as { version: { index: number } } | undefined
        if (!prev || prev.version.index <= obj.version.index) (map as Map<string, unknown>).set(e.id, obj)
      }
    }
    this.kick(10)
  }

  private kick(ms: number): void {
    if (!this.leading) return
    if (this.running) {
      this.again = true
      return
    }
    clearTimeout(this.pending)
    this.pending = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = undefined
        if (this.again) {
          this.again = false
          this.kick(10)
        }
      })
    }, ms)
  }

  private async round(): Promise<void> {
    if (!this.leading) return
    // Never plan from a cache that misses our own last writes (it would create tasks twice).
    const deadline = Date.now() + 2000
    while (this.seen < this.committed) {
      if (Date.now() > deadline || !this.leading) {
        this.again = true
        return
      }
      await new Promise((r) => setTimeout(r, 5))
    }
    const now = this.clock()
    let wake: number | undefined
    const step = async (name: string, plan: Plan) => {
      if (plan.wakeAt !== undefined) wake = Math.min(wake ?? Infinity, plan.wakeAt)
      const real = plan.actions.filter((a) => a.type !== 'task-message' || this.tasks.get(a.taskId)?.status.message !== a.message)
      if (real.length === 0) return true
      const ops = planToOps(plan, { task: (id) => this.tasks.get(id), service: (id) => this.services.get(id), node: (id) => this.nodes.get(id), network: (id) => this.networks.get(id) }, now)
      try {
        this.committed = await this.o.store.commit(ops, this.leaderKey ? { guardKey: this.leaderKey } : {})
        this.o.onPlan?.(name, plan)
        this.again = true // plan the next step from the state that includes this one
        return false
      } catch (err) {
        if (err instanceof EngineError && err.code === 'ERR_SWARM_NOT_LEADER') {
          // Our election lease expired (we stalled): someone else leads now. Step down, campaign again.
          this.o.log?.('manager: lost leadership')
          this.leading = false
          setTimeout(() => void this.follow().then(() => !this.stopped && this.start()), 0)
          return false
        }
        if (err instanceof EngineError && err.kind === 'Conflict') {
          this.again = true // lost a race: the watch brings the newer state, plan again
          return false
        }
        throw err
      }
    }
    try {
      const nodes = [...this.nodes.values()]
      if (!(await step('liveness', planLiveness(nodes, this.hb.views, now)))) return
      const input = { services: [...this.services.values()], tasks: [...this.tasks.values()], nodes: [...this.nodes.values()], now }
      if (!(await step('orchestrator', planOrchestration(input)))) return
      const alloc = { ...(this.cluster ? { cluster: this.cluster } : {}), networks: [...this.networks.values()], services: [...this.services.values()], tasks: [...this.tasks.values()], nodes: [...this.nodes.values()] }
      // Allocation and scheduling commit together: the scheduler plans from the allocated tasks.
      const allocation = planAllocation(alloc)
      const scheduling = planScheduling({ nodes: [...this.nodes.values()], tasks: withAllocations([...this.tasks.values()], allocation) })
      await step(allocation.empty ? 'scheduler' : 'allocator', allocation.merge(scheduling))
    } catch (err) {
      this.o.log?.(`manager round: ${(err as Error).message}`)
      this.again = true
    } finally {
      if (wake !== undefined && this.leading) {
        clearTimeout(this.wakeTimer)
        this.wakeTimer = setTimeout(() => this.kick(0), Math.max(0, wake - this.clock()) + 5)
      }
    }
  }
}

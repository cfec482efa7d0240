import { planToOps } from '../apply.js'
import { planOrchestration } from '../orchestrator.js'
import { planScheduling } from '../scheduler.js'
import { planAllocation } from '../allocator.js'
import { Plan } from '../plan.js'
import type { Network, Node, Service, Task, TaskState } from '../types.js'
import type { StoreOp } from '../store.js'

/**
 * An in-memory cluster for planner tests: objects with versions, plans applied through the same
 * planToOps as the manager, and helpers that play the agent's part (tasks start, fail, stop).
 */
export class Sim {
  now = Date.parse('2026-01-01T00:00:00Z')
  rev = 100
  services = new Map<string, Service>()
  tasks = new Map<string, Task>()
  nodes = new Map<string, Node>()
  networks = new Map<string, Network>()
  private seq = 0

  constructor(nodes: Node[] = [], services: Service[] = []) {
    for (const n of nodes) this.nodes.set(n.id, n)
    for (const s of services) this.services.set(s.id, s)
  }

  newId = (): string => `t${String(++this.seq).padStart(3, '0')}`

  plan(): Plan {
    const input = { services: [...this.services.values()], tasks: [...this.tasks.values()], nodes: [...this.nodes.values()], now: this.now, newId: this.newId }
    return planOrchestration(input)
  }

  allocate(): Plan {
    return planAllocation({ networks: [...this.networks.values()], services: [...this.services.values()], tasks: [...this.tasks.values()], nodes: [...this.nodes.values()] })
  }

  /** The allocator's plan is applied first (as the manager runs it between orchestrator and scheduler), then the scheduler's plan is returned. */
  schedule(): Plan {
    const ap = this.allocate()
    if (ap.actions.length) this.apply(ap)
    return planScheduling({ nodes: [...this.nodes.values()], tasks: [...this.tasks.values()] })
  }

  apply(plan: Plan): void {
    this.write(planToOps(plan, { task: (id) => this.tasks.get(id), service: (id) => this.services.get(id), node: (id) => this.nodes.get(id), network: (id) => this.networks.get(id) }, this.now))
  }

  write(ops: StoreOp[]): void {
    const rev = ++this.rev
    for (const o of ops) {
      const map = (o.kind === 'tasks' ? this.tasks : o.kind === 'services' ? this.services : o.kind === 'networks' ? this.networks : this.nodes) as Map<string, { id: string; version: { index: number } }>
      const id = o.op === 'put' ? o.obj.id : o.id
      const cur = map.get(id)
      if (o.expect === 0 && cur) throw new Error(`exists: ${id}`)
      if (o.expect && cur?.version.index !== o.expect) throw new Error(`update out of sequence: ${id}`)
      if (o.op === 'delete') map.delete(id)
      else map.set(id, { ...structuredClone(o.obj), version: { index: rev } })
    }
  }

  /** Orchestrate and schedule until nothing changes (bounded). Returns every plan's text. */
  converge(max = 10): string[] {
    const out: string[] = []
    for (let i = 0; i < max; i++) {
      const p = this.plan()
      const changed = p.actions.filter((a) => a.type !== 'task-message')
      if (changed.length) {
        out.push(p.toString())
        this.apply(p)
      }
      const al = this.allocate().actions.filter((a) => a.type !== 'task-message')
      const sp = this.schedule()
      const sc = sp.actions.filter((a) => a.type !== 'task-message')
      if (sp.actions.length) this.apply(sp)
      if (!changed.length && !sc.length && !al.length) break
      if (sc.length) out.push(sp.toString())
    }
    return out
  }

  /** The agent's part: assigned tasks desired running start, desired shutdown ones stop. */
  agents(opts: { down?: string[] } = {}): void {
    for (const t of this.tasks.values()) {
      if (opts.down?.includes(t.nodeId)) continue
      if (t.desiredState === 'running' && ['assigned', 'accepted', 'preparing', 'starting'].includes(t.status.state) && (!t.notBefore || t.notBefore <= this.now)) this.setState(t.id, 'running')
      else if ((t.desiredState === 'shutdown' || t.desiredState === 'remove') && ['assigned', 'accepted', 'preparing', 'starting', 'running', 'pending', 'new'].includes(t.status.state)) this.setState(t.id, 'shutdown')
    }
  }

  setState(id: string, state: TaskState, exitCode?: number): void {
    const t = this.tasks.get(id)!
    this.write([{ op: 'put', kind: 'tasks', obj: { ...t, status: { timestamp: new Date(this.now).toISOString(), state, message: state, ...(exitCode !== undefined ? { containerStatus: { containerId: 'c', pid: 0, exitCode } } : {}) } }, expect: t.version.index }])
  }

  tick(ms: number): void {
    this.now += ms
  }

  running(serviceId?: string): Task[] {
    return [...this.tasks.values()].filter((t) => t.status.state === 'running' && t.desiredState === 'running' && (!serviceId || t.serviceId === serviceId))
  }

  /** Running tasks per node: "node-a:2 node-b:1". */
  spread(serviceId?: string): string {
    const c = new Map<string, number>()
    for (const t of this.running(serviceId)) c.set(t.nodeId, (c.get(t.nodeId) ?? 0) + 1)
    return [...c.entries()].sort().map(([k, v]) => `${k}:${v}`).join(' ')
  }

  /** Converge the managers and play the agents until steady. */
  settle(rounds = 6, opts: { down?: string[] } = {}): void {
    for (let i = 0; i < rounds; i++) {
      this.converge()
      this.agents(opts)
    }
    this.converge()
  }

  updateService(id: string, f: (s: Service) => void): void {
    const s = structuredClone(this.services.get(id)!)
    s.previousSpec = structuredClone(s.spec)
    f(s)
    s.specRevision += 1
    this.write([{ op: 'put', kind: 'services', obj: s, expect: s.version.index }])
  }

  setNode(id: string, f: (n: Node) => void): void {
    const n = structuredClone(this.nodes.get(id)!)
    f(n)
    this.write([{ op: 'put', kind: 'nodes', obj: n, expect: n.version.index }])
  }
}

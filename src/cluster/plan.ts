import type { Task, TaskState, NodeState, UpdateStatus, ServiceSpec, Service } from './types.js'

/** Addresses (CIDR) on swarm networks, as task.networksAttachments and node.attachments hold them. */
export type Attachments = { networkId: string; addresses: string[] }[]

/**
 * What the manager's planners decide: data with a readable toString(). The manager applies a
 * plan to the store in one transaction (each action carries the version it was decided from),
 * so a plan computed from stale state fails as a whole and is recomputed.
 */
export type Action =
  | { type: 'create-task'; task: Task; reason: string }
  | { type: 'shutdown-task'; taskId: string; version: number; reason: string; final?: boolean }
  | { type: 'assign-task'; taskId: string; version: number; nodeId: string; reason: string }
  | { type: 'task-message'; taskId: string; version: number; state: TaskState; message: string }
  | { type: 'delete-task'; taskId: string; version: number; reason: string }
  | { type: 'update-status'; serviceId: string; version: number; updateStatus: UpdateStatus }
  | { type: 'rollback'; serviceId: string; version: number; spec: ServiceSpec; updateStatus: UpdateStatus }
  | { type: 'node-state'; nodeId: string; version: number; state: NodeState; message: string }
  | { type: 'allocate-network'; networkId: string; version: number; vni: number; subnet: string; gateway: string }
  | { type: 'allocate-service'; serviceId: string; version: number; endpoint: NonNullable<Service['endpoint']> }
  | { type: 'allocate-task'; taskId: string; version: number; attachments: Attachments }
  | { type: 'allocate-node'; nodeId: string; version: number; attachments: Attachments }

export class Plan {
  readonly actions: Action[] = []
  /** When the planner wants to run again even if nothing changes (restart delay, update delay, grace). */
  wakeAt: number | undefined

  add(a: Action): this {
    this.actions.push(a)
    return this
  }

  wake(at: number): void {
    if (this.wakeAt === undefined || at < this.wakeAt) this.wakeAt = at
  }

  merge(p: Plan): this {
    this.actions.push(...p.actions)
    if (p.wakeAt !== undefined) this.wake(p.wakeAt)
    return this
  }

  get empty(): boolean {
    return this.actions.length === 0
  }

  toString(): string {
    const lines = this.actions.map(describe)
    if (this.wakeAt !== undefined) lines.push(`wake at ${new Date(this.wakeAt).toISOString()}`)
    return lines.length ? lines.join('\n') : '(nothing to do)'
  }
}

function taskLabel(t: Task): string {
  const where = t.slot > 0 ? `slot ${t.slot}` : `node ${t.nodeId}`
  return `${t.serviceId} ${where} rev ${t.specRevision}${t.nodeId && t.slot > 0 ? ` on ${t.nodeId}` : ''}`
}

export function describe(a: Action): string {
  switch (a.type) {
    case 'create-task':
      return `create task ${taskLabel(a.task)}${a.task.notBefore ? ` (start not before ${new Date(a.task.notBefore).toISOString()})` : ''}: ${a.reason}`
    case 'shutdown-task':
      return `shut down task ${a.taskId}${a.final ? ' (not restarted)' : ''}: ${a.reason}`
    case 'assign-task':
      return `assign task ${a.taskId} to ${a.nodeId}: ${a.reason}`
    case 'task-message':
      return `task ${a.taskId} stays ${a.state}: ${a.message}`
    case 'delete-task':
      return `delete task ${a.taskId}: ${a.reason}`
    case 'update-status':
      return `service ${a.serviceId} update ${a.updateStatus.state}: ${a.updateStatus.message}`
    case 'rollback':
      return `service ${a.serviceId} roll back: ${a.updateStatus.message}`
    case 'node-state':
      return `node ${a.nodeId} ${a.state}${a.message ? `: ${a.message}` : ''}`
    case 'allocate-network':
      return `network ${a.networkId}: vni ${a.vni}, subnet ${a.subnet} gateway ${a.gateway}`
    case 'allocate-service':
      return `service ${a.serviceId} endpoint: ${a.endpoint.virtualIPs.map((v) => `${v.networkId} ${v.addr}`).join(', ') || 'no VIPs'}${a.endpoint.ports.length ? `; ports ${a.endpoint.ports.map((p) => `${p.publishedPort}:${p.targetPort}/${p.protocol}`).join(' ')}` : ''}`
    case 'allocate-task':
      return `task ${a.taskId} allocated: ${attachmentsText(a.attachments)}`
    case 'allocate-node':
      return `node ${a.nodeId} attachments: ${attachmentsText(a.attachments)}`
  }
}

function attachmentsText(a: Attachments): string {
  return a.map((x) => `${x.networkId} ${x.addresses.join(' ')}`).join(', ') || 'no networks'
}

/** Plans as a sorted list of lines, for tests that do not care about order. */
export function planLines(p: Plan): string[] {
  return p.actions.map(describe)
}

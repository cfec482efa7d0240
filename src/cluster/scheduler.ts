import { Plan } from './plan.js'
import { matchAll, parseConstraints, spreadValue } from './constraints.js'
import { isTerminal, type Node, type Task } from './types.js'

/**
 * The scheduler: assigns pending tasks to nodes. A node is a candidate when it is ready and
 * active, satisfies the task's constraints, has the reserved CPU and memory free, and holds fewer
 * than the placement's max replicas of the service. Among candidates, placement preferences
 * spread tasks over the values of each descriptor in turn (the group with the fewest tasks of
 * the service wins), then the node with the fewest tasks of the service, then the fewest tasks
 * overall. Each assignment counts for the next, so one pass spreads a batch evenly.
 * A task with no candidate stays pending with Docker's "no suitable node (...)" message.
 */

export interface ScheduleInput {
  nodes: Node[]
  tasks: Task[]
}

interface NodeLoad {
  node: Node
  total: number
  byService: Map<string, number>
  cpu: number
  mem: number
}

/** A task that holds its node's resources: assigned and not finished. */
function occupies(t: Task): boolean {
  return t.nodeId !== '' && !isTerminal(t.status.state) && t.status.state !== 'pending' && t.desiredState !== 'shutdown' && t.desiredState !== 'remove'
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

export function planScheduling(input: ScheduleInput): Plan {
  const plan = new Plan()
  const loads = new Map<string, NodeLoad>()
  for (const node of input.nodes) {
    loads.set(node.id, { node, total: 0, byService: new Map(), cpu: node.description.resources.nanoCPUs, mem: node.description.resources.memoryBytes })
  }
  const count = (l: NodeLoad, t: Task) => {
    l.total++
    l.byService.set(t.serviceId, (l.byService.get(t.serviceId) ?? 0) + 1)
    l.cpu -= t.spec.resources?.reservations?.nanoCPUs ?? 0
    l.mem -= t.spec.resources?.reservations?.memoryBytes ?? 0
  }
  for (const t of input.tasks) {
    const l = loads.get(t.nodeId)
    if (l && occupies(t)) count(l, t)
  }

  const pending = input.tasks
    .filter((t) => t.status.state === 'pending' && t.desiredState === 'running')
    .sort((a, b) => a.serviceId.localeCompare(b.serviceId) || a.slot - b.slot || a.id.localeCompare(b.id))

  for (const t of pending) {
    const cpu = t.spec.resources?.reservations?.nanoCPUs ?? 0
    const mem = t.spec.resources?.reservations?.memoryBytes ?? 0
    const maxReplicas = t.spec.placement?.maxReplicas ?? 0
    let constraints
    try {
      constraints = parseConstraints(t.spec.placement?.constraints)
    } catch (err) {
      plan.add({ type: 'task-message', taskId: t.id, version: t.version.index, state: 'pending', message: `invalid constraint: ${(err as Error).message}` })
      continue
    }
    // A global task is pinned to its node; it is assigned there if that node can take it.
    const pool = t.nodeId ? [...loads.values()].filter((l) => l.node.id === t.nodeId) : [...loads.values()]
    const reasons = { unavailable: 0, constraints: 0, resources: 0, maxReplicas: 0 }
    const candidates: NodeLoad[] = []
    for (const l of pool) {
      if (l.node.status.state !== 'ready' || l.node.spec.availability !== 'active') reasons.unavailable++
      else if (!matchAll(constraints, l.node)) reasons.constraints++
      else if (l.cpu < cpu || l.mem < mem) reasons.resources++
      else if (maxReplicas > 0 && (l.byService.get(t.serviceId) ?? 0) >= maxReplicas) reasons.maxReplicas++
      else candidates.push(l)
    }
    if (candidates.length === 0) {
      const parts: string[] = []
      if (reasons.unavailable) parts.push(`${plural(reasons.unavailable, 'node')} not available for new tasks`)
      if (reasons.constraints) parts.push(`scheduling constraints not satisfied on ${plural(reasons.constraints, 'node')}`)
      if (reasons.resources) parts.push(`insufficient resources on ${plural(reasons.resources, 'node')}`)
      if (reasons.maxReplicas) parts.push('max replicas per node limit exceed')
      const message = `no suitable node (${parts.join('; ') || 'no nodes'})`
      if (t.status.message !== message) plan.add({ type: 'task-message', taskId: t.id, version: t.version.index, state: 'pending', message })
      continue
    }
    const chosen = pick(candidates, t, input.tasks, loads)
    count(chosen, t)
    plan.add({ type: 'assign-task', taskId: t.id, version: t.version.index, nodeId: chosen.node.id, reason: 'scheduler assigned task to node' })
  }
  return plan
}

function pick(candidates: NodeLoad[], t: Task, _tasks: Task[], _loads: Map<string, NodeLoad>): NodeLoad {
  let pool = candidates
  for (const pref of t.spec.placement?.preferences ?? []) {
    const d = pref.spread.spreadDescriptor
    // Tasks of the service per value, over every candidate with that value.
    const perValue = new Map<string, number>()
    for (const l of pool) {
      const v = spreadValue(l.node, d)
      perValue.set(v, (perValue.get(v) ?? 0) + (l.byService.get(t.serviceId) ?? 0))
    }
    const min = Math.min(...perValue.values())
    pool = pool.filter((l) => perValue.get(spreadValue(l.node, d)) === min)
  }
  return [...pool].sort(
    (a, b) =>
      (a.byService.get(t.serviceId) ?? 0) - (b.byService.get(t.serviceId) ?? 0) ||
      a.total - b.total ||
      a.node.id.localeCompare(b.node.id),
  )[0]!
}

import { Plan } from './plan.js'
import { newId as randomId } from './ids.js'
import { matchAll, parseConstraints } from './constraints.js'
import {
  isTerminal, restartPolicyOf, updateConfigOf,
  type Node, type Service, type Task, type UpdateStatus, type UpdateConfig,
} from './types.js'

/**
 * The orchestrator: from services, their tasks and the nodes, decides which tasks to create and
 * which to shut down, and drives rolling updates. Pure: the same state and clock give the same
 * plan. It runs on the leader after every change (and at `plan.wakeAt`).
 *
 * Slots: a replicated service has slots 1..replicas, a global one a slot per eligible node. A
 * slot's live task is the one desired running whose status has not ended. Per slot:
 * - a live task on a node that is down, drained or gone is shut down and replaced at once;
 * - a task that ended (failed, complete, rejected) while desired running is shut down, and
 *   replaced when the restart policy allows (condition, max attempts within the window), not
 *   before its end plus the delay (`notBefore`, honoured by the agent);
 * - slots beyond the replica count are shut down; duplicates in a slot are reduced to one;
 * - a slot whose live task was made from an older spec revision is "dirty": the updater
 *   replaces dirty slots `parallelism` at a time (stop-first: old shut down as the new one is
 *   created; start-first: old shut down once the new one runs), waits `delay` after each new
 *   task runs, counts new tasks that fail or end early as failures, and applies failure_action
 *   (pause, continue, rollback) once failures exceed max_failure_ratio.
 */

export interface OrchestratorInput {
  services: Service[]
  tasks: Task[]
  nodes: Node[]
  /** Milliseconds since the epoch. */
  now: number
  newId?: () => string
  /** Ended tasks kept per slot (swarm's TaskHistoryRetentionLimit, default 5). */
  historyLimit?: number
}

const NS = 1e6 // nanoseconds per millisecond

function live(t: Task): boolean {
  return (t.desiredState === 'running' || t.desiredState === 'ready') && !isTerminal(t.status.state)
}

function at(iso: string): number {
  return Date.parse(iso)
}

/** Why a node cannot keep tasks: undefined when it can. */
function nodeProblem(node: Node | undefined): string | undefined {
  if (!node) return 'node removed from the swarm'
  if (node.status.state === 'down') return 'node is down'
  if (node.spec.availability === 'drain') return 'node is drained'
  return undefined
}

export function planOrchestration(input: OrchestratorInput): Plan {
  const plan = new Plan()
  const nodes = new Map(input.nodes.map((n) => [n.id, n]))
  const byService = new Map<string, Task[]>()
  for (const t of input.tasks) {
    const list = byService.get(t.serviceId) ?? []
    list.push(t)
    byService.set(t.serviceId, list)
  }
  const services = new Map(input.services.map((s) => [s.id, s]))
  const ctx: Ctx = { plan, nodes, now: input.now, newId: input.newId ?? randomId, historyLimit: input.historyLimit ?? 5 }

  for (const s of [...input.services].sort((a, b) => a.id.localeCompare(b.id))) {
    reconcileService(ctx, s, byService.get(s.id) ?? [])
  }
  // Tasks whose service is gone: shut them down, then forget them once ended.
  for (const [serviceId, tasks] of byService) {
    if (services.has(serviceId)) continue
    for (const t of tasks) {
      if (!isTerminal(t.status.state) && t.desiredState !== 'remove') {
        plan.add({ type: 'shutdown-task', taskId: t.id, version: t.version.index, reason: 'service removed' })
      } else if (isTerminal(t.status.state) || t.nodeId === '') {
        plan.add({ type: 'delete-task', taskId: t.id, version: t.version.index, reason: 'service removed' })
      }
    }
  }
  return plan
}

interface Ctx {
  plan: Plan
  nodes: Map<string, Node>
  now: number
  newId: () => string
  historyLimit: number
}

interface Slot {
  key: string
  /** Replicated slot number, 0 for global. */
  number: number
  /** Pinned node for global services. */
  nodeId: string
  tasks: Task[]
}

function eligibleForGlobal(node: Node, s: Service): boolean {
  if (node.status.state === 'down' || node.spec.availability === 'drain') return false
  try {
    return matchAll(parseConstraints(s.spec.taskTemplate.placement?.constraints), node)
  } catch {
    return false
  }
}

function reconcileService(ctx: Ctx, s: Service, tasks: Task[]): void {
  const { plan } = ctx
  const mode = s.spec.mode
  const slots = new Map<string, Slot>()
  const slotOf = (key: string, number: number, nodeId: string) => {
    let sl = slots.get(key)
    if (!sl) slots.set(key, (sl = { key, number, nodeId, tasks: [] }))
    return sl
  }
  const isGlobal = 'global' in mode
  for (const t of tasks) {
    if (isGlobal) slotOf(t.nodeId, 0, t.nodeId).tasks.push(t)
    else slotOf(String(t.slot), t.slot, '').tasks.push(t)
  }
  // Which slots are wanted.
  const wanted = new Set<string>()
  if ('replicated' in mode) {
    for (let i = 1; i <= mode.replicated.replicas; i++) {
      wanted.add(String(i))
      slotOf(String(i), i, '')
    }
  } else if (isGlobal) {
    for (const n of ctx.nodes.values()) {
      if (!eligibleForGlobal(n, s)) continue
      wanted.add(n.id)
      // A paused node keeps what it runs but gets nothing new.
      if (n.spec.availability === 'pause' && !slots.has(n.id)) continue
      slotOf(n.id, 0, n.id)
    }
  } else {
    plan.add({ type: 'update-status', serviceId: s.id, version: s.version.index, updateStatus: { state: 'paused', startedAt: new Date(ctx.now).toISOString(), message: 'job services are not implemented' } })
    return
  }

  const cfg = updateConfigOf(s.spec, s.updateStatus?.state === 'rollback_started')
  const updating = s.updateStatus && (s.updateStatus.state === 'updating' || s.updateStatus.state === 'rollback_started')
  const paused = s.updateStatus && (s.updateStatus.state === 'paused' || s.updateStatus.state === 'rollback_paused')
  const dirty: Slot[] = []
  let busy = 0
  let lastRunning = 0
  let pendingNew = 0

  for (const sl of [...slots.values()].sort((a, b) => a.number - b.number || a.key.localeCompare(b.key))) {
    const sorted = [...sl.tasks].sort((a, b) => at(a.createdAt) - at(b.createdAt) || a.id.localeCompare(b.id))
    let alive = sorted.filter(live)
    let replaceNow = false
    // Live tasks on nodes that cannot keep them.
    for (const t of [...alive]) {
      const problem = t.nodeId ? nodeProblem(ctx.nodes.get(t.nodeId)) : undefined
      if (problem) {
        plan.add({ type: 'shutdown-task', taskId: t.id, version: t.version.index, reason: problem })
        alive = alive.filter((x) => x !== t)
        replaceNow = true
      }
    }
    // Tasks that ended while desired running.
    const ended = sorted.filter((t) => (t.desiredState === 'running' || t.desiredState === 'ready') && isTerminal(t.status.state))
    const latest = sorted[sorted.length - 1]
    const endedReason = (t: Task) => `task ${t.status.state}${t.status.err ? `: ${t.status.err}` : ''}`
    for (const t of ended) {
      // The slot's latest task is decided below, with the restart policy.
      if (t === latest && alive.length === 0 && wanted.has(sl.key) && !replaceNow) continue
      plan.add({ type: 'shutdown-task', taskId: t.id, version: t.version.index, reason: endedReason(t) })
    }
    pruneHistory(ctx, sorted)

    if (!wanted.has(sl.key)) {
      for (const t of alive) {
        plan.add({ type: 'shutdown-task', taskId: t.id, version: t.version.index, reason: isGlobal ? 'node no longer eligible for the global service' : 'service scaled down' })
      }
      continue
    }

    if (alive.length === 0) {
      if (replaceNow || !latest) {
        createTask(ctx, s, sl, replaceNow ? 'replacing a task whose node cannot run it' : 'new slot')
      } else if (ended.includes(latest)) {
        // The latest task ended by itself: the restart policy decides, once.
        const decision = restartDecision(s, latest, sorted, ctx.now)
        plan.add({ type: 'shutdown-task', taskId: latest.id, version: latest.version.index, reason: decision.restart ? endedReason(latest) : `${endedReason(latest)}; ${decision.reason}`, ...(decision.restart ? {} : { final: true }) })
        if (decision.restart) createTask(ctx, s, sl, decision.reason, decision.notBefore)
      } else if (!latest.noRestart) {
        // Emptied on purpose (scaled down, node lost, update) and wanted again.
        createTask(ctx, s, sl, 'slot wanted again')
      }
      // A slot whose last task the restart policy declined stays empty.
      continue
    }

    const current = alive.filter((t) => t.specRevision === s.specRevision)
    const old = alive.filter((t) => t.specRevision !== s.specRevision)
    if (current.length > 1 || (current.length === 0 && old.length > 1)) {
      // Duplicates: keep the running (else newest) one of the best revision.
      const pool = current.length ? current : old
      const keep = pool.find((t) => t.status.state === 'running') ?? pool[pool.length - 1]!
      for (const t of pool) if (t !== keep) plan.add({ type: 'shutdown-task', taskId: t.id, version: t.version.index, reason: 'duplicate task in slot' })
    }
    const cur = current.find((t) => t.status.state === 'running') ?? current[current.length - 1]
    if (cur && old.length) {
      // start-first in progress: the old task goes once the new one runs.
      if (cur.status.state === 'running') {
        for (const t of old) plan.add({ type: 'shutdown-task', taskId: t.id, version: t.version.index, reason: `replaced by ${cur.id} (start-first)` })
      }
    }
    if (!cur) {
      dirty.push(sl)
      continue
    }
    // Work of the update on this slot: a new task not yet running, or inside the delay after it started.
    if (updating && s.updateStatus && at(cur.createdAt) >= at(s.updateStatus.startedAt)) {
      if (cur.status.state !== 'running') {
        busy++
        pendingNew++
      } else {
        const since = at(cur.status.timestamp)
        lastRunning = Math.max(lastRunning, since)
        if (ctx.now < since + cfg.delay / NS) {
          busy++
          plan.wake(since + cfg.delay / NS)
        }
      }
    }
  }

  planUpdate(ctx, s, tasks, dirty, { cfg, updating: !!updating, paused: !!paused, busy, lastRunning, pendingNew })
}

function pruneHistory(ctx: Ctx, sorted: Task[]): void {
  const done = sorted.filter((t) => !live(t) && isTerminal(t.status.state) && t.desiredState !== 'running' && t.desiredState !== 'ready')
  const extra = done.length - ctx.historyLimit
  for (const t of done.slice(0, Math.max(0, extra))) {
    ctx.plan.add({ type: 'delete-task', taskId: t.id, version: t.version.index, reason: 'task history retention limit' })
  }
}

function createTask(ctx: Ctx, s: Service, sl: Slot, reason: string, notBefore?: number): Task {
  const iso = new Date(ctx.now).toISOString()
  const task: Task = {
    id: ctx.newId(),
    version: { index: 0 },
    createdAt: iso,
    updatedAt: iso,
    labels: {},
    spec: s.spec.taskTemplate,
    serviceId: s.id,
    serviceName: s.spec.name,
    specRevision: s.specRevision,
    slot: sl.number,
    nodeId: sl.nodeId,
    status: { timestamp: iso, state: 'new', message: 'created' },
    desiredState: 'running',
    ...(notBefore !== undefined && notBefore > ctx.now ? { notBefore } : {}),
  }
  ctx.plan.add({ type: 'create-task', task, reason })
  return task
}

/** Whether the restart policy restarts a slot whose latest task ended, and when. */
export function restartDecision(s: Service, ended: Task, history: Task[], now: number): { restart: boolean; reason: string; notBefore?: number } {
  const p = restartPolicyOf(s.spec.taskTemplate)
  const state = ended.status.state
  if (p.condition === 'none') return { restart: false, reason: 'restart policy condition is none' }
  if (p.condition === 'on-failure' && state === 'complete') return { restart: false, reason: 'task completed successfully; restart policy condition is on-failure' }
  if (p.maxAttempts > 0) {
    // Restarts already made in this slot: every task after the first, within the window.
    const windowStart = p.window > 0 ? now - p.window / NS : -Infinity
    const restarts = history.slice(1).filter((t) => at(t.createdAt) >= windowStart).length
    if (restarts >= p.maxAttempts) {
      return { restart: false, reason: `restart policy max attempts (${p.maxAttempts}) reached` }
    }
  }
  const endedAt = at(ended.status.timestamp)
  return { restart: true, reason: `restarting task after ${state}`, notBefore: endedAt + p.delay / NS }
}

interface UpdateState {
  cfg: UpdateConfig
  updating: boolean
  paused: boolean
  busy: number
  lastRunning: number
  pendingNew: number
}

function planUpdate(ctx: Ctx, s: Service, tasks: Task[], dirty: Slot[], u: UpdateState): void {
  const { plan, now } = ctx
  const iso = new Date(now).toISOString()
  const rollingBack = s.updateStatus?.state === 'rollback_started' || s.updateStatus?.state === 'rollback_paused'
  if (u.paused) return
  if (!u.updating) {
    if (dirty.length === 0) return
    // A new spec revision with tasks from an older one: start an update.
    plan.add({ type: 'update-status', serviceId: s.id, version: s.version.index, updateStatus: { state: 'updating', startedAt: iso, message: 'update in progress' } })
    return // the next round (with the status written) replaces tasks
  }
  const status = s.updateStatus!
  // Failures: tasks of this revision, made since the update started, that failed or ended early.
  const failed = tasks.filter(
    (t) => t.specRevision === s.specRevision && at(t.createdAt) >= at(status.startedAt) &&
      // A replicated or global task that completes by itself ended early (a stopped one is 'shutdown').
      (t.status.state === 'failed' || t.status.state === 'rejected' || t.status.state === 'complete'),
  )
  const total = Math.max(1, dirty.length + countSlotsOfRevision(tasks, s))
  if (failed.length > 0 && failed.length / total > u.cfg.maxFailureRatio && u.cfg.failureAction !== 'continue') {
    const first = failed[0]!
    if (u.cfg.failureAction === 'rollback' && !rollingBack && s.previousSpec) {
      plan.add({
        type: 'rollback', serviceId: s.id, version: s.version.index, spec: s.previousSpec,
        updateStatus: { state: 'rollback_started', startedAt: iso, message: `update rolled back due to failure or early termination of task ${first.id}` },
      })
    } else {
      plan.add({
        type: 'update-status', serviceId: s.id, version: s.version.index,
        updateStatus: {
          state: rollingBack ? 'rollback_paused' : 'paused', startedAt: status.startedAt,
          message: `${rollingBack ? 'rollback' : 'update'} paused due to failure or early termination of task ${first.id}`,
        },
      })
    }
    return
  }
  if (dirty.length === 0) {
    if (u.pendingNew > 0 || u.busy > 0) return
    const doneAt = u.lastRunning + u.cfg.monitor / NS
    if (now < doneAt) {
      plan.wake(doneAt)
      return
    }
    plan.add({
      type: 'update-status', serviceId: s.id, version: s.version.index,
      updateStatus: { state: rollingBack ? 'rollback_completed' : 'completed', startedAt: status.startedAt, completedAt: iso, message: rollingBack ? 'rollback completed' : 'update completed' },
    })
    return
  }
  const width = u.cfg.parallelism > 0 ? u.cfg.parallelism : dirty.length
  const room = Math.max(0, width - u.busy)
  for (const sl of dirty.slice(0, room)) {
    const olds = sl.tasks.filter(live)
    if (u.cfg.order === 'stop-first') {
      for (const t of olds) plan.add({ type: 'shutdown-task', taskId: t.id, version: t.version.index, reason: 'rolling update (stop-first)' })
    }
    createTask(ctx, s, { ...sl, nodeId: sl.nodeId }, `rolling update to revision ${s.specRevision} (${u.cfg.order})`)
  }
}

function countSlotsOfRevision(tasks: Task[], s: Service): number {
  const keys = new Set<string>()
  for (const t of tasks) if (t.specRevision === s.specRevision && live(t)) keys.add('global' in s.spec.mode ? t.nodeId : String(t.slot))
  return keys.size
}

export type { UpdateStatus }

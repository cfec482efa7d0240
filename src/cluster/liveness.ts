import { Plan } from './plan.js'
import type { Node } from './types.js'

/**
 * Node liveness from heartbeats. Each node's agent keeps a key /berth/swarm/alive/<node> bound
 * to an etcd lease of HEARTBEAT_TTL_MS that it keeps alive; when the agent's berthd dies the
 * lease expires and etcd deletes the key. The leader tracks, per node, whether the key exists
 * and since when (`HeartbeatView`), and this planner turns that into node states:
 * - a ready node whose key has been absent for DOWN_GRACE_MS is marked down (its tasks are
 *   then rescheduled by the orchestrator): at most TTL + grace ≈ 4 s after the agent died;
 * - a restart of the agent's berthd re-puts the key on a new lease, usually before the old lease
 *   expires; a key absent for less than the grace (any berthd blip under 3 s) changes nothing;
 * - a node whose key is present and that is not ready becomes ready.
 */

export const HEARTBEAT_TTL_MS = 2000
export const DOWN_GRACE_MS = 1800

export interface HeartbeatView {
  present: boolean
  /** When `present` last changed, as seen by the leader (ms since the epoch). */
  since: number
}

export function planLiveness(nodes: Node[], heartbeats: Map<string, HeartbeatView>, now: number, opts: { graceMs?: number } = {}): Plan {
  const grace = opts.graceMs ?? DOWN_GRACE_MS
  const plan = new Plan()
  for (const n of [...nodes].sort((a, b) => a.id.localeCompare(b.id))) {
    const hb = heartbeats.get(n.id)
    if (hb?.present) {
      if (n.status.state !== 'ready') plan.add({ type: 'node-state', nodeId: n.id, version: n.version.index, state: 'ready', message: '' })
      continue
    }
    if (n.status.state === 'down') continue
    // Absent (or never seen by this leader): count from when the leader noticed.
    const since = hb?.since ?? now
    if (now - since >= grace) {
      plan.add({ type: 'node-state', nodeId: n.id, version: n.version.index, state: 'down', message: 'heartbeat failure' })
    } else {
      plan.wake(since + grace)
    }
  }
  return plan
}

/**
 * Keeps the leader's HeartbeatView map from the alive keys it lists and watches. A leader that
 * starts sees absent keys as absent since its own start, so a new leader never marks a node down
 * before the grace has passed under its own watch.
 */
export class HeartbeatTracker {
  readonly views = new Map<string, HeartbeatView>()

  constructor(private readonly clock: () => number = Date.now) {}

  /** The full set of present keys (after a list). */
  reset(present: Iterable<string>, known: Iterable<string>): void {
    const now = this.clock()
    const p = new Set(present)
    for (const id of new Set([...p, ...known])) {
      const prev = this.views.get(id)
      const isPresent = p.has(id)
      if (!prev || prev.present !== isPresent) this.views.set(id, { present: isPresent, since: now })
    }
  }

  put(id: string): void {
    const prev = this.views.get(id)
    if (!prev || !prev.present) this.views.set(id, { present: true, since: this.clock() })
  }

  delete(id: string): void {
    const prev = this.views.get(id)
    if (!prev || prev.present) this.views.set(id, { present: false, since: this.clock() })
  }
}

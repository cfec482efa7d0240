import { parseTimestamp } from '../../lib/filters.js'
import { labelsMatch } from './list.js'
import type { ContainerRecord } from './types.js'

export interface PruneValues {
  label?: readonly string[]
  labelNot?: readonly string[]
  until?: readonly string[]
}

export interface PruneDeps {
  all(): ContainerRecord[]
  remove(id: string): Promise<void>
  /** Bytes of the container's writable layer (Docker's SizeRw), measured before it goes. */
  size?(id: string): Promise<number>
  emit(action: string, attributes: Record<string, string>): void
}

/**
 * `docker container prune`: remove the containers that are not running, paused or restarting,
 * that carry every `label`, none of the `label!` ones, and were created before every `until`.
 * As Docker, the space reclaimed is the sum of the removed containers' writable layers.
 */
export async function pruneContainers(deps: PruneDeps, f: PruneValues, now = Date.now()): Promise<{ deleted: string[]; spaceReclaimed: number }> {
  const until = (f.until ?? []).map((u) => parseTimestamp(u, now))
  const deleted: string[] = []
  let spaceReclaimed = 0
  for (const c of deps.all()) {
    if (c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting') continue
    if (!labelsMatch(f.label ?? [], c.config.labels)) continue
    if ((f.labelNot ?? []).some((l) => labelsMatch([l], c.config.labels))) continue
    if (until.some((u) => Date.parse(c.created) > u)) continue
    const size = (await deps.size?.(c.id).catch(() => 0)) ?? 0
    await deps.remove(c.id)
    deleted.push(c.id)
    spaceReclaimed += size
  }
  deps.emit('prune', { reclaimed: String(spaceReclaimed) })
  return { deleted, spaceReclaimed }
}

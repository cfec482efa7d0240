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
  emit(action: string, attributes: Record<string, string>): void
}

/**
 * `docker container prune`: remove the containers that are not running, paused or restarting,
 * that carry every `label`, none of the `label!` ones, and were created before every `until`.
 */
export async function pruneContainers(deps: PruneDeps, f: PruneValues, now = Date.now()): Promise<{ deleted: string[]; spaceReclaimed: number }> {
  const until = (f.until ?? []).map((u) => parseTimestamp(u, now))
  const deleted: string[] = []
  for (const c of deps.all()) {
    if (c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting') continue
    if (!labelsMatch(f.label ?? [], c.config.labels)) continue
    if ((f.labelNot ?? []).some((l) => labelsMatch([l], c.config.labels))) continue
    if (until.some((u) => Date.parse(c.created) > u)) continue
    await deps.remove(c.id)
    deleted.push(c.id)
  }
  deps.emit('prune', { reclaimed: '0' })
  return { deleted, spaceReclaimed: 0 }
}

import { EngineError } from '../../lib/errors.js'
import { Filters, parseTimestamp } from '../../lib/filters.js'
import type { ImageDeps } from './deps.js'
import { removeUnusedBlobs } from './gc.js'
import { labelsOf } from './load.js'
import { deleteImage, type DeleteItem } from './remove.js'
import { createdMs } from './util.js'

/** `docker image prune`: delete unused images (dangling ones only unless `dangling=false`) matching the filters. */
export async function pruneImages(deps: ImageDeps, filters: Filters = new Filters()): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }> {
  filters.validate(['dangling', 'label', 'label!', 'until'])
  const danglingOnly = filters.bool('dangling') ?? true
  const until = filters.get('until').map((u) => parseTimestamp(u))
  const deleted: DeleteItem[] = []
  const layersBefore = new Map(deps.layers.list().map((l) => [l.chainId, l.size]))
  for (const img of deps.store.all()) {
    if (!deps.store.get(img.record.id)) continue
    if (danglingOnly && img.refs.length > 0) continue
    if (deps.users.containersUsing(img.record.id).length > 0) continue
    if (until.some((u) => createdMs(img) > u)) continue
    const labels = labelsOf(img.config)
    if (!filters.matchLabels('label', labels)) continue
    if (filters.get('label!').some((w) => new Filters([['label', [w]]]).matchLabels('label', labels))) continue
    if (danglingOnly && deps.store.children(img.record.id).length > 0) continue
    await using _ = await deps.store.locks.acquire(`img:${img.record.id}`)
    const fresh = deps.store.get(img.record.id)
    if (!fresh) continue
    const items: DeleteItem[] = []
    try {
      await deleteImage(deps, fresh, items, !danglingOnly, true, true)
    } catch (err) {
      if (!(err instanceof EngineError && err.kind === 'Conflict')) throw err
    }
    deleted.push(...items)
  }
  let reclaimed = 0
  for (const [chain, size] of layersBefore) if (!deps.layers.has(chain)) reclaimed += size
  await removeUnusedBlobs(deps)
  deps.events.emit('image', 'prune', '', { reclaimed: String(reclaimed) })
  return { deleted, spaceReclaimed: reclaimed }
}

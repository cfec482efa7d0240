import type { ImageDeps } from './deps.js'
import { familiar } from './store.js'
import type { HistoryEntry, Image } from './types.js'

/** One row of `docker history`, newest first. */
export interface HistoryRow { id: string; created: number; createdBy: string; tags: string[]; size: number; comment: string }

/** `docker history`: the image's history, newest first, with the IDs of ancestors known locally. */
export function readHistory(deps: ImageDeps, ref: string): HistoryRow[] {
  const img = deps.store.resolve(ref)
  const hist: HistoryEntry[] = img.config.history ?? []
  const layers = [...img.record.layers]
  const out: HistoryRow[] = []
  let layerIdx = 0
  const rows = hist.length ? hist : layers.map(() => ({} as HistoryEntry))
  for (const h of rows) {
    let size = 0
    if (!h.empty_layer) {
      const chain = layers[layerIdx++]
      size = chain ? deps.layers.get(chain)?.size ?? 0 : 0
    }
    out.push({ id: '<missing>', created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0, createdBy: h.created_by ?? '', tags: [], size, comment: h.comment ?? '' })
  }
  out.reverse()
  if (out[0]) {
    out[0].id = img.record.id
    out[0].tags = img.refs.filter((r) => !r.includes('@')).map(familiar)
  }
  // Ancestors known locally show their own IDs, as Docker does for built images.
  let parent = img.record.parent ? deps.store.get(img.record.parent) : undefined
  let row = 1 + countUntilParent(img, parent)
  while (parent && out[row]) {
    out[row]!.id = parent.record.id
    out[row]!.tags = parent.refs.filter((r) => !r.includes('@')).map(familiar)
    const next = parent.record.parent ? deps.store.get(parent.record.parent) : undefined
    row += countUntilParent(parent, next) + 1
    parent = next
  }
  return out
}

function countUntilParent(img: Image, parent: Image | undefined): number {
  // History rows contributed by this image on top of its parent.
  const mine = (img.config.history ?? []).length
  const theirs = parent ? (parent.config.history ?? []).length : mine
  return Math.max(0, mine - theirs - 1)
}

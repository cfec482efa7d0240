import type { ImageDeps } from './deps.js'

/** Whether an image record references the blob now (its config or a layer blob). */
export function isBlobReferenced(deps: ImageDeps, digest: string): boolean {
  return deps.store.all().some((i) => i.record.id === digest || i.record.blobs.some((b) => b.digest === digest))
}

/** Delete the blobs of layers no image references any more, and other unreferenced blobs; returns how many. */
export async function removeUnusedBlobs(deps: ImageDeps): Promise<number> {
  const keep = new Set<string>()
  for (const i of deps.store.all()) {
    keep.add(i.record.id)
    for (const b of i.record.blobs) keep.add(b.digest)
  }
  let n = 0
  for (const d of await deps.content.list()) {
    if (keep.has(d)) continue
    // Asked again at the last moment: a load may have registered it (or leased it) meanwhile.
    if (await deps.content.deleteUnused(d, (x) => isBlobReferenced(deps, x))) n++
  }
  return n
}

/** Remove layers no image references (after a crash between record delete and layer delete); returns how many. */
export async function removeUnusedLayers(deps: ImageDeps): Promise<number> {
  const used = deps.store.layersInUse(deps.users.layersInUse())
  let n = 0
  for (const l of deps.layers.list()) {
    if (used.has(l.chainId)) continue
    await deps.layers.remove(l.chainId)
    n++
  }
  return n
}

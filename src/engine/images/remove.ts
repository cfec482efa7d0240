import { shortId, type Digest } from '../../lib/digest.js'
import { EngineError, conflict } from '../../lib/errors.js'
import { familiarString, parseAnyReference, parseNormalizedNamed, referenceString, tagNameOnly } from '../../distribution/reference.js'
import type { ImageDeps } from './deps.js'
import { isBlobReferenced } from './gc.js'
import { familiar, noSuchImage } from './store.js'
import type { Image } from './types.js'
import { emitImageEvent, isImageIdPrefix } from './util.js'

/** One line of `docker rmi` output: a reference untagged or an image or layer deleted. */
export interface DeleteItem { untagged?: string; deleted?: string }

const CONFLICT_CHILD = 1
const CONFLICT_RUNNING = 2
const CONFLICT_REFERENCE = 4
const CONFLICT_STOPPED = 8
const CONFLICT_HARD = CONFLICT_CHILD | CONFLICT_RUNNING
const CONFLICT_SOFT = CONFLICT_REFERENCE | CONFLICT_STOPPED
const CONFLICT_SOFT_STOPPED = CONFLICT_STOPPED

/** `docker rmi` (Docker's ImageDelete, conflicts and all): untag, and delete the image once nothing refers to it. */
export async function removeImage(deps: ImageDeps, ref: string, { force = false, noPrune = false }: { force?: boolean; noPrune?: boolean } = {}): Promise<DeleteItem[]> {
  const img = deps.store.resolve(ref)
  const id = img.record.id
  await using _ = await deps.store.locks.acquire(`img:${id}`)
  const records: DeleteItem[] = []
  const store = deps.store
  let repoRefs = store.refsOf(id)
  const byId = isImageIdPrefix(id, ref)
  if (!byId) {
    const users = deps.users.containersUsing(id)
    if (users.length > 0 && repoRefs.length === 1 && !force) {
      const running = users.find((u) => u.running)
      const c = running ?? users[0]!
      throw conflict('ERR_IMAGE_IN_USE', `conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(c.id)} is using its referenced image ${shortId(id)}`)
    }
    const parsed = parseAnyReference(ref)
    const r = parsed.kind === 'named' ? tagNameOnly(parsed.ref) : undefined
    const canonical = r ? referenceString(r) : undefined
    if (!canonical || store.lookupRef(canonical) !== id) throw noSuchImage(ref)
    store.deleteRef(canonical)
    records.push({ untagged: familiarString(r!) })
    emitImageEvent(deps, 'untag', img)
    repoRefs = store.refsOf(id)
    // A removed tag leaves digest references of the same repository behind only if other tags of it remain.
    if (r!.digest === undefined) {
      const sameRepoTags = repoRefs.filter((x) => !x.includes('@') && parseNormalizedNamed(x).name === r!.name)
      if (sameRepoTags.length === 0) {
        for (const d of repoRefs.filter((x) => x.includes('@') && parseNormalizedNamed(x).name === r!.name)) {
          store.deleteRef(d)
          records.push({ untagged: familiar(d) })
          emitImageEvent(deps, 'untag', img)
        }
        repoRefs = store.refsOf(id)
      }
    }
    if (repoRefs.length > 0) {
      await store.persistRefs()
      return records
    }
  } else if (isSingleReference(repoRefs)) {
    checkConflict(deps, id, force ? 0 : CONFLICT_SOFT_STOPPED)
    for (const r of repoRefs) {
      store.deleteRef(r)
      records.push({ untagged: familiar(r) })
      emitImageEvent(deps, 'untag', img)
    }
  }
  await deleteImage(deps, img, records, force, !noPrune)
  return records
}

/**
 * Delete the image (its references, record, unused layers and blobs), appending what was done to
 * `records`; with `prune`, then its untagged childless parent. The caller holds the image's lock.
 * A conflict throws, or with `quiet` returns false.
 */
export async function deleteImage(deps: ImageDeps, img: Image, records: DeleteItem[], force: boolean, prune: boolean, quiet = false): Promise<boolean> {
  const id = img.record.id
  const store = deps.store
  const err = findConflict(deps, id, force ? CONFLICT_HARD : CONFLICT_HARD | CONFLICT_SOFT)
  if (err) {
    if (quiet) return false
    await store.persistRefs()
    throw err
  }
  const parent = img.record.parent
  for (const r of store.refsOf(id)) {
    store.deleteRef(r)
    records.push({ untagged: familiar(r) })
    emitImageEvent(deps, 'untag', img)
  }
  await store.persistRefs()
  await store.deleteRecord(id)
  emitImageEvent(deps, 'delete', img)
  records.push({ deleted: id })
  for (const chain of await collectLayers(deps, img.record.layers)) records.push({ deleted: chain })
  await deleteUnusedBlobs(deps, [id, ...img.record.blobs.map((b) => b.digest)])
  if (prune && parent) {
    const p = store.get(parent)
    if (p && p.refs.length === 0 && store.children(parent).length === 0) await deleteImage(deps, p, records, false, true, true)
  }
  return true
}

/** Remove this image's layers that nothing else uses; returns the removed chain IDs, top first. */
async function collectLayers(deps: ImageDeps, layers: readonly Digest[]): Promise<Digest[]> {
  const used = deps.store.layersInUse(deps.users.layersInUse())
  const removed: Digest[] = []
  for (const chain of [...layers].reverse()) {
    if (used.has(chain)) continue
    await deps.layers.remove(chain)
    removed.push(chain)
  }
  return removed
}

async function deleteUnusedBlobs(deps: ImageDeps, candidates: string[]): Promise<void> {
  for (const d of candidates) await deps.content.deleteUnused(d, (x) => isBlobReferenced(deps, x))
}

function findConflict(deps: ImageDeps, id: Digest, mask: number): EngineError | undefined {
  const store = deps.store
  const users = deps.users.containersUsing(id)
  const msg = (hard: boolean, m: string) => conflict('ERR_IMAGE_CONFLICT', `conflict: unable to delete ${shortId(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${m}`)
  if (mask & CONFLICT_CHILD && store.children(id).length > 0) return msg(true, 'image has dependent child images')
  if (mask & CONFLICT_RUNNING) {
    const r = users.find((u) => u.running)
    if (r) return msg(true, `image is being used by running container ${shortId(r.id)}`)
  }
  if (mask & CONFLICT_REFERENCE && store.refsOf(id).length > 0) return msg(false, 'image is referenced in multiple repositories')
  if (mask & CONFLICT_STOPPED) {
    const s = users.find((u) => !u.running)
    if (s) return msg(false, `image is being used by stopped container ${shortId(s.id)}`)
  }
  return undefined
}

function checkConflict(deps: ImageDeps, id: Digest, mask: number): void {
  const err = findConflict(deps, id, mask)
  if (err) throw err
}

function isSingleReference(refs: string[]): boolean {
  if (refs.length <= 1) return refs.length === 1
  let single: string | undefined
  const canonicalNames = new Set<string>()
  for (const r of refs) {
    if (r.includes('@')) canonicalNames.add(parseNormalizedNamed(r).name)
    else if (single === undefined) single = r
    else return false
  }
  single ??= refs[0]!
  return canonicalNames.size === 1 && canonicalNames.has(parseNormalizedNamed(single).name)
}

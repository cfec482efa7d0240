import { arch, platform as osPlatform } from 'node:os'
import type { ContentStore } from '../../core/content-store.js'
import type { LayerStore } from '../../core/layer-store.js'
import { decompressed, detectCompression } from '../../core/decompress.js'
import { chainIds, shortId, sha256, type Digest } from '../../lib/digest.js'
import { EngineError, conflict, invalid } from '../../lib/errors.js'
import type { KeyedLock } from '../../lib/lock.js'
import { Rollback } from '../../lib/rollback.js'
import { familiarString, parseAnyReference, parseNormalizedNamed, referenceString, tagNameOnly, withTag, isValidTag, type Reference } from '../../distribution/reference.js'
import type { EventBus } from '../events/bus.js'
import { Filters, parseTimestamp } from '../filters.js'
import { applyChanges } from './changes.js'
import { loadImages, labelsOf, type LoadResult } from './load.js'
import { saveImages } from './save.js'
import { familiar, ImageStore, noSuchImage } from './store.js'
import { MEDIA_TYPE_LAYER, MEDIA_TYPE_LAYER_GZIP, MEDIA_TYPE_LAYER_ZSTD, type HistoryEntry, type Image, type ImageConfigFile, type ImageRecord } from './types.js'

/** What the image service needs to know of containers (filled in by the container service). */
export interface ImageUsers {
  /** Containers created from this image. */
  containersUsing(imageId: Digest): Array<{ id: string; running: boolean }>
  /** Top layers (chain IDs) of the images containers were created from: in use even after `rmi -f`. */
  layersInUse(): Digest[]
}

export interface ImageDeps {
  store: ImageStore
  content: ContentStore
  layers: LayerStore
  events: EventBus
  log: (msg: string) => void
  platform: { os: string; architecture: string; variant?: string }
  users: ImageUsers
}

/** An image as list and inspect present it (domain form, camelCase). */
export interface ImageSummary {
  id: Digest
  parentId: string
  repoTags: string[]
  repoDigests: string[]
  created: number
  size: number
  sharedSize: number
  labels: Record<string, string>
  containers: number
}

export interface DeleteItem { untagged?: string; deleted?: string }

export interface ImportOptions {
  repo?: string
  tag?: string
  message?: string
  changes?: string[]
  platform?: string
  source?: string
  signal?: AbortSignal
}

export function hostPlatform(): { os: string; architecture: string; variant?: string } {
  const a = arch()
  const architecture = a === 'x64' ? 'amd64' : a === 'arm64' ? 'arm64' : a === 'arm' ? 'arm' : a === 'ia32' ? '386' : a
  return { os: osPlatform() === 'linux' ? 'linux' : osPlatform(), architecture, ...(a === 'arm64' ? { variant: 'v8' } : {}) }
}

export class ImageService {
  readonly #locks: KeyedLock

  constructor(readonly deps: ImageDeps) {
    this.#locks = deps.store.locks
  }

  get store(): ImageStore {
    return this.deps.store
  }

  resolve(ref: string): Image {
    return this.deps.store.resolve(ref)
  }

  // ---- list

  list(opts: { all?: boolean; filters?: Filters; sharedSize?: boolean } = {}): ImageSummary[] {
    const f = opts.filters ?? new Filters()
    f.validate(['dangling', 'label', 'label!', 'reference', 'before', 'since', 'until'])
    const dangling = f.bool('dangling')
    const before = f.get('before').map((r) => this.resolve(r))
    const since = f.get('since').map((r) => this.resolve(r))
    const until = f.get('until').map((u) => parseTimestamp(u))
    const refPatterns = f.get('reference')
    const images = this.deps.store.all()
    const parents = new Set(images.map((i) => i.record.parent).filter(Boolean))
    const out: ImageSummary[] = []
    const layerUse = opts.sharedSize ? this.#layerUseCounts(images) : undefined
    for (const img of images) {
      const created = createdMs(img)
      if (before.some((b) => created >= createdMs(b))) continue
      if (since.some((s) => created <= createdMs(s))) continue
      if (until.some((u) => created > u)) continue
      const isDangling = img.refs.length === 0
      if (dangling !== undefined && dangling !== isDangling) continue
      // Untagged parents are intermediate images, hidden unless all=1.
      if (!opts.all && isDangling && parents.has(img.record.id) && dangling === undefined) continue
      const labels = labelsOf(img.config)
      if (!f.matchLabels('label', labels)) continue
      if (f.get('label!').some((w) => new Filters([['label', [w]]]).matchLabels('label', labels))) continue
      let tags = img.refs.filter((r) => !r.includes('@'))
      if (refPatterns.length) {
        tags = tags.filter((t) => refPatterns.some((p) => matchReference(p, t)))
        if (tags.length === 0 && !img.refs.some((r) => r.includes('@') && refPatterns.some((p) => matchReference(p, r)))) continue
      }
      out.push(this.#summary(img, tags, layerUse))
    }
    return out.sort((a, b) => b.created - a.created || (a.id < b.id ? -1 : 1))
  }

  #summary(img: Image, tags?: string[], layerUse?: Map<Digest, number>): ImageSummary {
    const shared = layerUse
      ? img.record.layers.reduce((n, l) => ((layerUse.get(l) ?? 0) > 1 ? n + (this.deps.layers.get(l)?.size ?? 0) : n), 0)
      : -1
    return {
      id: img.record.id,
      parentId: img.record.parent ?? '',
      repoTags: (tags ?? img.refs.filter((r) => !r.includes('@'))).map(familiar),
      repoDigests: img.refs.filter((r) => r.includes('@')).map(familiar),
      created: Math.floor(createdMs(img) / 1000),
      size: img.record.size,
      sharedSize: shared,
      labels: labelsOf(img.config),
      containers: layerUse ? this.deps.users.containersUsing(img.record.id).length : -1,
    }
  }

  summaryOf(img: Image, withUsage = false): ImageSummary {
    return this.#summary(img, undefined, withUsage ? this.#layerUseCounts(this.deps.store.all()) : undefined)
  }

  #layerUseCounts(images: Image[]): Map<Digest, number> {
    const m = new Map<Digest, number>()
    for (const i of images) for (const l of i.record.layers) m.set(l, (m.get(l) ?? 0) + 1)
    return m
  }

  // ---- history

  history(ref: string): Array<{ id: string; created: number; createdBy: string; tags: string[]; size: number; comment: string }> {
    const img = this.resolve(ref)
    const hist: HistoryEntry[] = img.config.history ?? []
    const layers = [...img.record.layers]
    const out: Array<{ id: string; created: number; createdBy: string; tags: string[]; size: number; comment: string }> = []
    let layerIdx = 0
    const rows = hist.length ? hist : layers.map(() => ({} as HistoryEntry))
    for (const h of rows) {
      let size = 0
      if (!h.empty_layer) {
        const chain = layers[layerIdx++]
        size = chain ? this.deps.layers.get(chain)?.size ?? 0 : 0
      }
      out.push({ id: '<missing>', created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0, createdBy: h.created_by ?? '', tags: [], size, comment: h.comment ?? '' })
    }
    out.reverse()
    if (out[0]) {
      out[0].id = img.record.id
      out[0].tags = img.refs.filter((r) => !r.includes('@')).map(familiar)
    }
    // Ancestors known locally show their own IDs, as Docker does for built images.
    let parent = img.record.parent ? this.deps.store.get(img.record.parent) : undefined
    let row = 1 + countUntilParent(img, parent)
    while (parent && out[row]) {
      out[row]!.id = parent.record.id
      out[row]!.tags = parent.refs.filter((r) => !r.includes('@')).map(familiar)
      const next = parent.record.parent ? this.deps.store.get(parent.record.parent) : undefined
      row += countUntilParent(parent, next) + 1
      parent = next
    }
    return out
  }

  // ---- tag

  async tag(source: string, repo: string, tag?: string): Promise<void> {
    const img = this.resolve(source)
    let ref: Reference
    if (tag !== undefined && tag !== '') {
      if (!isValidTag(tag)) throw invalid('ERR_INVALID_TAG', `invalid tag format`)
      ref = withTag(parseNormalizedNamed(repo), tag)
    } else {
      ref = tagNameOnly(parseNormalizedNamed(repo))
    }
    if (ref.digest !== undefined) throw invalid('ERR_INVALID_REFERENCE', 'refusing to create a tag with a digest reference')
    if (ref.path === 'library/scratch' && ref.domain === 'docker.io') throw invalid('ERR_INVALID_REFERENCE', "'scratch' is a reserved name")
    const canonical = referenceString(ref)
    // The image lock too: an rmi running meanwhile must not delete the image under the new tag.
    await using _ = await this.#locks.acquireAll([`ref:${canonical}`, `img:${img.record.id}`])
    if (!this.deps.store.get(img.record.id)) throw noSuchImage(source)
    this.deps.store.setRef(canonical, img.record.id)
    await this.deps.store.persistRefs()
    this.deps.events.emit('image', 'tag', img.record.id, { name: familiarString(ref), ...labelsOf(img.config) })
  }

  // ---- remove (Docker's ImageDelete, conflicts and all)

  async remove(ref: string, { force = false, noPrune = false }: { force?: boolean; noPrune?: boolean } = {}): Promise<DeleteItem[]> {
    const img = this.resolve(ref)
    const id = img.record.id
    await using _ = await this.#locks.acquire(`img:${id}`)
    const records: DeleteItem[] = []
    const store = this.deps.store
    let repoRefs = store.refsOf(id)
    const byId = isImageIdPrefix(id, ref)
    if (!byId) {
      const users = this.deps.users.containersUsing(id)
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
      this.#emit('untag', img)
      repoRefs = store.refsOf(id)
      // A removed tag leaves digest references of the same repository behind only if other tags of it remain.
      if (r!.digest === undefined) {
        const sameRepoTags = repoRefs.filter((x) => !x.includes('@') && parseNormalizedNamed(x).name === r!.name)
        if (sameRepoTags.length === 0) {
          for (const d of repoRefs.filter((x) => x.includes('@') && parseNormalizedNamed(x).name === r!.name)) {
            store.deleteRef(d)
            records.push({ untagged: familiar(d) })
            this.#emit('untag', img)
          }
          repoRefs = store.refsOf(id)
        }
      }
      if (repoRefs.length > 0) {
        await store.persistRefs()
        return records
      }
    } else if (isSingleReference(repoRefs)) {
      this.#checkConflict(id, force ? 0 : CONFLICT_SOFT_STOPPED)
      for (const r of repoRefs) {
        store.deleteRef(r)
        records.push({ untagged: familiar(r) })
        this.#emit('untag', img)
      }
    }
    await this.#deleteHelper(img, records, force, !noPrune)
    return records
  }

  async #deleteHelper(img: Image, records: DeleteItem[], force: boolean, prune: boolean, quiet = false): Promise<boolean> {
    const id = img.record.id
    const store = this.deps.store
    const err = this.#conflictFor(id, force ? CONFLICT_HARD : CONFLICT_HARD | CONFLICT_SOFT)
    if (err) {
      if (quiet) return false
      await store.persistRefs()
      throw err
    }
    const parent = img.record.parent
    for (const r of store.refsOf(id)) {
      store.deleteRef(r)
      records.push({ untagged: familiar(r) })
      this.#emit('untag', img)
    }
    await store.persistRefs()
    await store.deleteRecord(id)
    this.#emit('delete', img)
    records.push({ deleted: id })
    for (const chain of await this.#collectLayers(img.record.layers)) records.push({ deleted: chain })
    await this.#deleteUnusedBlobs([id, ...img.record.blobs.map((b) => b.digest)])
    if (prune && parent) {
      const p = store.get(parent)
      if (p && p.refs.length === 0 && store.children(parent).length === 0) await this.#deleteHelper(p, records, false, true, true)
    }
    return true
  }

  /** Remove this image's layers that nothing else uses; returns the removed chain IDs, top first. */
  async #collectLayers(layers: readonly Digest[]): Promise<Digest[]> {
    const used = this.deps.store.layersInUse(this.deps.users.layersInUse())
    const removed: Digest[] = []
    for (const chain of [...layers].reverse()) {
      if (used.has(chain)) continue
      await this.deps.layers.remove(chain)
      removed.push(chain)
    }
    return removed
  }

  async #deleteUnusedBlobs(candidates: string[]): Promise<void> {
    for (const d of candidates) await this.deps.content.deleteUnused(d, (x) => this.#blobReferenced(x))
  }

  /** Whether an image record references the blob now (its config or a layer blob). */
  #blobReferenced(digest: string): boolean {
    return this.deps.store.all().some((i) => i.record.id === digest || i.record.blobs.some((b) => b.digest === digest))
  }

  #conflictFor(id: Digest, mask: number): EngineError | undefined {
    const store = this.deps.store
    const users = this.deps.users.containersUsing(id)
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

  #checkConflict(id: Digest, mask: number): void {
    const err = this.#conflictFor(id, mask)
    if (err) throw err
  }

  #emit(action: string, img: Image, extra: Record<string, string> = {}): void {
    this.deps.events.emit('image', action, img.record.id, { name: img.record.id, ...labelsOf(img.config), ...extra })
  }

  /** Delete the blobs of layers no image references any more, and other unreferenced blobs. */
  async gcBlobs(): Promise<number> {
    const keep = new Set<string>()
    for (const i of this.deps.store.all()) {
      keep.add(i.record.id)
      for (const b of i.record.blobs) keep.add(b.digest)
    }
    let n = 0
    for (const d of await this.deps.content.list()) {
      if (keep.has(d)) continue
      // Asked again at the last moment: a load may have registered it (or leased it) meanwhile.
      if (await this.deps.content.deleteUnused(d, (x) => this.#blobReferenced(x))) n++
    }
    return n
  }

  /** Remove layers no image references (after a crash between record delete and layer delete). */
  async gcLayers(): Promise<number> {
    const used = this.deps.store.layersInUse(this.deps.users.layersInUse())
    let n = 0
    for (const l of this.deps.layers.list()) {
      if (used.has(l.chainId)) continue
      await this.deps.layers.remove(l.chainId)
      n++
    }
    return n
  }

  // ---- prune

  async prune(filters: Filters = new Filters()): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }> {
    filters.validate(['dangling', 'label', 'label!', 'until'])
    const danglingOnly = filters.bool('dangling') ?? true
    const until = filters.get('until').map((u) => parseTimestamp(u))
    const deleted: DeleteItem[] = []
    const layersBefore = new Map(this.deps.layers.list().map((l) => [l.chainId, l.size]))
    for (const img of this.deps.store.all()) {
      if (!this.deps.store.get(img.record.id)) continue
      if (danglingOnly && img.refs.length > 0) continue
      if (this.deps.users.containersUsing(img.record.id).length > 0) continue
      if (until.some((u) => createdMs(img) > u)) continue
      const labels = labelsOf(img.config)
      if (!filters.matchLabels('label', labels)) continue
      if (filters.get('label!').some((w) => new Filters([['label', [w]]]).matchLabels('label', labels))) continue
      if (danglingOnly && this.deps.store.children(img.record.id).length > 0) continue
      await using _ = await this.#locks.acquire(`img:${img.record.id}`)
      const fresh = this.deps.store.get(img.record.id)
      if (!fresh) continue
      const items: DeleteItem[] = []
      try {
        await this.#deleteHelper(fresh, items, !danglingOnly, true, true)
      } catch (err) {
        if (!(err instanceof EngineError && err.kind === 'Conflict')) throw err
      }
      deleted.push(...items)
    }
    let reclaimed = 0
    for (const [chain, size] of layersBefore) if (!this.deps.layers.has(chain)) reclaimed += size
    await this.gcBlobs()
    this.deps.events.emit('image', 'prune', '', { reclaimed: String(reclaimed) })
    return { deleted, spaceReclaimed: reclaimed }
  }

  // ---- load / save / import

  load(body: AsyncIterable<Buffer>, opts: { signal?: AbortSignal } = {}): Promise<LoadResult> {
    return loadImages(this.deps, body, opts)
  }

  async save(refs: string[], out: (chunk: Buffer) => Promise<void> | void, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const wanted = refs.map((r) => {
      const img = this.resolve(r)
      const parsed = parseAnyReference(r)
      // A name (not an ID) asks for that reference only, or all tags of a repository without a tag.
      let tags: string[]
      if (parsed.kind === 'id' || isImageIdPrefix(img.record.id, r)) tags = []
      else if (parsed.ref.tag === undefined && parsed.ref.digest === undefined && !this.deps.store.lookupRef(referenceString(tagNameOnly(parsed.ref)))) tags = []
      else tags = [referenceString(tagNameOnly(parsed.ref))]
      if (parsed.kind === 'named' && parsed.ref.tag === undefined && parsed.ref.digest === undefined) {
        // `docker save busybox` saves every tag of the repository.
        const all = this.deps.store.all().flatMap((i) => i.refs.filter((x) => !x.includes('@') && parseNormalizedNamed(x).name === parsed.ref.name).map((x) => ({ i, x })))
        if (all.length) return all.map(({ i, x }) => ({ img: i, tags: [x] }))
      }
      return [{ img, tags }]
    }).flat()
    await saveImages(this.deps, wanted, out, opts)
    for (const w of wanted) this.#emit('save', w.img)
  }

  async import(body: AsyncIterable<Buffer>, opts: ImportOptions = {}): Promise<Digest> {
    let ref: Reference | undefined
    if (opts.repo) {
      ref = parseNormalizedNamed(opts.repo)
      if (opts.tag) ref = withTag(ref, opts.tag)
      ref = tagNameOnly(ref)
      if (ref.digest) throw invalid('ERR_INVALID_REFERENCE', 'cannot import digest reference')
    }
    const plat = opts.platform ? parsePlatform(opts.platform) : this.deps.platform
    const baseConfig = applyChanges({}, opts.changes ?? [])
    const rb = new Rollback((e) => this.deps.log(`import rollback: ${String(e)}`))
    // The layer and config blobs stay leased until the record references them (a prune may run meanwhile).
    const lease = this.deps.content.lease()
    try {
      const writer = this.deps.content.writer(lease)
      rb.defer(() => writer.abort())
      const ex = await this.deps.layers.extractor()
      rb.defer(() => ex.abort())
      let compression = 'none'
      let first = true
      async function* tee(): AsyncGenerator<Buffer> {
        for await (const chunk of body) {
          if (first) { first = false; compression = detectCompression(chunk) }
          await writer.write(chunk)
          yield chunk
        }
      }
      for await (const u of decompressed(tee(), opts.signal)) await ex.write(u)
      const staged = await ex.finish()
      rb.defer(() => this.deps.layers.discard(staged))
      const blob = await writer.commit()
      const created = new Date().toISOString()
      const msg = opts.message || `Imported from ${opts.source ?? '-'}`
      const config: ImageConfigFile = {
        architecture: plat.architecture,
        ...(plat.variant ? { variant: plat.variant } : {}),
        os: plat.os,
        created,
        comment: msg,
        config: baseConfig,
        rootfs: { type: 'layers', diff_ids: [staged.diffId] },
        history: [{ created, comment: msg }],
      }
      const configBytes = Buffer.from(JSON.stringify(config))
      const id = sha256(configBytes)
      const chain = chainIds([staged.diffId])
      const release = this.deps.store.lease(chain)
      try {
        const layer = await this.deps.layers.commit(staged, undefined)
        await this.deps.content.put(configBytes, id, lease)
        const record: ImageRecord = {
          id,
          layers: chain,
          blobs: [{ digest: blob.digest, size: blob.size, mediaType: compression === 'gzip' ? MEDIA_TYPE_LAYER_GZIP : compression === 'zstd' ? MEDIA_TYPE_LAYER_ZSTD : MEDIA_TYPE_LAYER }],
          size: layer.size,
          loadedAt: created,
        }
        await this.deps.store.put(record, config)
      } finally {
        release()
      }
      rb.commit()
      if (ref) {
        this.deps.store.setRef(referenceString(ref), id)
        await this.deps.store.persistRefs()
        // Docker tags the new image through TagImage, which logs a tag event before the import one.
        this.deps.events.emit('image', 'tag', id, { name: familiarString(ref), ...(baseConfig.Labels ?? {}) })
      }
      this.deps.events.emit('image', 'import', id, { name: id, ...(baseConfig.Labels ?? {}) })
      return id
    } finally {
      await rb.close()
      lease.release()
    }
  }

  /** Figures for /system/df. */
  diskUsage(): { layersSize: number; images: ImageSummary[] } {
    const images = this.deps.store.all()
    const counts = this.#layerUseCounts(images)
    const layersSize = this.deps.layers.list().reduce((n, l) => n + l.size, 0)
    return { layersSize, images: images.map((i) => this.#summary(i, undefined, counts)).sort((a, b) => b.created - a.created) }
  }
}

const CONFLICT_CHILD = 1
const CONFLICT_RUNNING = 2
const CONFLICT_REFERENCE = 4
const CONFLICT_STOPPED = 8
const CONFLICT_HARD = CONFLICT_CHILD | CONFLICT_RUNNING
const CONFLICT_SOFT = CONFLICT_REFERENCE | CONFLICT_STOPPED
const CONFLICT_SOFT_STOPPED = CONFLICT_STOPPED

function createdMs(img: Image): number {
  const t = img.config.created ? Date.parse(img.config.created) : NaN
  return Number.isNaN(t) ? Date.parse(img.record.loadedAt) : t
}

function countUntilParent(img: Image, parent: Image | undefined): number {
  // History rows contributed by this image on top of its parent.
  const mine = (img.config.history ?? []).length
  const theirs = parent ? (parent.config.history ?? []).length : mine
  return Math.max(0, mine - theirs - 1)
}

/** True when `ref` names the image by (a prefix of) its ID rather than by a reference. */
function isImageIdPrefix(id: string, ref: string): boolean {
  const hex = id.slice(7)
  if (ref.startsWith('sha256:')) return hex.startsWith(ref.slice(7))
  return /^[a-f0-9]+$/.test(ref) && hex.startsWith(ref)
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

/** Docker's reference filter: a pattern matched against the familiar name with or without tag (path.Match). */
function matchReference(pattern: string, canonical: string): boolean {
  const ref = parseNormalizedNamed(canonical)
  const fam = familiarString(ref)
  const famName = fam.replace(/[:@].*$/, '').length ? familiarString({ ...ref, tag: undefined, digest: undefined } as Reference) : fam
  const candidates = pattern.includes(':') || pattern.includes('@') ? [fam, canonical] : [famName, ref.name]
  const re = globToRegExp(pattern)
  return candidates.some((c) => re.test(c))
}

function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end === -1) re += '\\['
      else { re += `[${glob.slice(i + 1, end).replace(/^\^|^!/, '^').replace(/\\/g, '\\\\')}]`; i = end }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

export function parsePlatform(s: string): { os: string; architecture: string; variant?: string } {
  const parts = s.toLowerCase().split('/')
  if (parts.length < 1 || parts.length > 3 || parts.some((p) => !p)) throw invalid('ERR_INVALID_PLATFORM', `"${s}": unknown operating system or architecture: invalid argument`)
  const [os, architecture = hostPlatform().architecture, variant] = parts as [string, string?, string?]
  const normArch = architecture === 'x86_64' || architecture === 'x86-64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture
  return { os, architecture: normArch, ...(variant ? { variant } : {}) }
}

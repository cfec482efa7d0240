import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { ContentStore } from '../../core/content-store.js'
import type { LayerStore } from '../../core/layer-store.js'
import { digestHex, type Digest } from '../../lib/digest.js'
import { notFound } from '../../lib/errors.js'
import { KeyedLock } from '../../lib/lock.js'
import { readJson, TMP_MARK, writeJsonAtomic } from '../../lib/fs.js'
import { familiarString, parseCanonical, parseAnyReference, referenceString, tagNameOnly } from '../../distribution/reference.js'
import type { Image, ImageConfigFile, ImageRecord } from './types.js'

interface RefsFile {
  refs: Record<string, Digest>
}

/**
 * Image records (`images/records/<hex>.json`), references (`images/references.json`) and the
 * parsed configs, all held in memory and written atomically. Mutations change memory
 * synchronously then persist, so two requests never see a half-applied change; persistence
 * of references is serialised so the file always holds the latest state.
 */
export class ImageStore {
  readonly #dir: string
  /** Per-object locks (`img:<id>`, `ref:<canonical>`) shared by every service that changes images. */
  readonly locks = new KeyedLock()
  #records = new Map<Digest, ImageRecord>()
  #configs = new Map<Digest, ImageConfigFile>()
  /** canonical ref → image ID */
  #refs = new Map<string, Digest>()
  #refsByImage = new Map<Digest, Set<string>>()
  #leases = new Map<Digest, number>()
  #refsWrite: Promise<void> = Promise.resolve()
  #refsDirty = false

  constructor(dataRoot: string, readonly content: ContentStore, readonly layers: LayerStore, private readonly log: (m: string) => void = () => {}) {
    this.#dir = join(dataRoot, 'images')
  }

  /** Load from disk and repair what a crash left: records whose layers or config are missing, refs to missing images. */
  async init(): Promise<void> {
    const recDir = join(this.#dir, 'records')
    await import('node:fs/promises').then((fs) => fs.mkdir(recDir, { recursive: true }))
    for (const name of await readdir(recDir)) {
      if (name.startsWith(TMP_MARK)) { await rm(join(recDir, name), { force: true }); continue }
      if (!name.endsWith('.json')) continue
      const rec = await readJson<ImageRecord>(join(recDir, name))
      if (!rec) continue
      const complete = rec.layers.every((l) => this.layers.has(l)) && (await this.content.has(rec.id))
      if (!complete) {
        this.log(`image ${rec.id}: incomplete record, removing`)
        await rm(join(recDir, name), { force: true })
        continue
      }
      const config = JSON.parse((await this.content.read(rec.id)).toString('utf8')) as ImageConfigFile
      this.#records.set(rec.id, rec)
      this.#configs.set(rec.id, config)
    }
    for (const name of await readdir(this.#dir)) if (name.startsWith(TMP_MARK)) await rm(join(this.#dir, name), { force: true })
    const refs = await readJson<RefsFile>(join(this.#dir, 'references.json'))
    let dropped = false
    for (const [ref, id] of Object.entries(refs?.refs ?? {})) {
      if (this.#records.has(id)) this.#addRef(ref, id)
      else dropped = true
    }
    if (dropped) await this.persistRefs()
  }

  // ---- reads

  get(id: string): Image | undefined {
    const record = this.#records.get(id as Digest)
    if (!record) return undefined
    return { record, config: this.#configs.get(record.id)!, refs: [...(this.#refsByImage.get(record.id) ?? [])].sort() }
  }

  all(): Image[] {
    return [...this.#records.keys()].map((id) => this.get(id)!)
  }

  get count(): number {
    return this.#records.size
  }

  refsOf(id: string): string[] {
    return [...(this.#refsByImage.get(id as Digest) ?? [])].sort()
  }

  lookupRef(canonical: string): Digest | undefined {
    return this.#refs.get(canonical)
  }

  /** Images whose parent is `id`. */
  children(id: string): Image[] {
    return this.all().filter((i) => i.record.parent === id)
  }

  /**
   * Resolve as Docker's GetImage does: a full ID or `sha256:` digest, then a reference
   * (adding `:latest`), then a unique ID prefix.
   */
  resolve(refOrId: string): Image {
    const any = parseAnyReference(refOrId)
    if (any.kind === 'id') {
      const img = this.get(any.id)
      if (img) return img
      throw noSuchImage(refOrId)
    }
    const canonical = referenceString(tagNameOnly(any.ref))
    const byRef = this.#refs.get(canonical)
    if (byRef) return this.get(byRef)!
    const byPrefix = this.searchPrefix(refOrId)
    if (byPrefix) return byPrefix
    throw noSuchImage(familiarString(tagNameOnly(any.ref)))
  }

  /** A unique ID prefix (with or without `sha256:`); undefined when none or ambiguous (as Docker's truncindex). */
  searchPrefix(s: string): Image | undefined {
    const hex = s.startsWith('sha256:') ? s.slice(7) : s
    if (!/^[a-f0-9]+$/.test(hex)) return undefined
    let found: Digest | undefined
    for (const id of this.#records.keys()) {
      if (digestHex(id).startsWith(hex)) {
        if (found) return undefined
        found = id
      }
    }
    return found ? this.get(found) : undefined
  }

  // ---- leases: layers an operation is about to use must not be collected meanwhile

  lease(chainIds: readonly Digest[]): () => void {
    for (const c of chainIds) this.#leases.set(c, (this.#leases.get(c) ?? 0) + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      for (const c of chainIds) {
        const n = (this.#leases.get(c) ?? 1) - 1
        if (n <= 0) this.#leases.delete(c)
        else this.#leases.set(c, n)
      }
    }
  }

  /** Chain IDs referenced by any image or lease (plus `extra`, e.g. containers' image layers). */
  layersInUse(extra: Iterable<Digest> = []): Set<Digest> {
    const used = new Set<Digest>(extra)
    for (const rec of this.#records.values()) for (const l of rec.layers) used.add(l)
    for (const l of this.#leases.keys()) used.add(l)
    // A layer's ancestors are in use whenever it is.
    for (const l of [...used]) for (let r = this.layers.get(l); r?.parent; r = this.layers.get(r.parent)) used.add(r.parent)
    return used
  }

  // ---- writes

  /** Store an image record (config blob must already be in the content store). */
  async put(record: ImageRecord, config: ImageConfigFile): Promise<void> {
    await writeJsonAtomic(join(this.#dir, 'records', `${digestHex(record.id)}.json`), record)
    this.#records.set(record.id, record)
    this.#configs.set(record.id, config)
  }

  /** Point a reference at an image; returns the image it pointed to before, if another. */
  setRef(canonical: string, id: Digest): Digest | undefined {
    // A reference to a record that is not there would break every lookup through it.
    if (!this.#records.has(id)) throw noSuchImage(id)
    const old = this.#refs.get(canonical)
    if (old === id) return undefined
    if (old) this.#removeRefFromIndex(canonical, old)
    this.#addRef(canonical, id)
    const rec = this.#records.get(id)
    if (rec) rec.lastTagTime = new Date().toISOString()
    this.#refsDirty = true
    return old
  }

  deleteRef(canonical: string): Digest | undefined {
    const old = this.#refs.get(canonical)
    if (!old) return undefined
    this.#refs.delete(canonical)
    this.#removeRefFromIndex(canonical, old)
    this.#refsDirty = true
    return old
  }

  /** Remove an image record from memory and disk (its references must be gone). */
  async deleteRecord(id: Digest): Promise<void> {
    this.#records.delete(id)
    this.#configs.delete(id)
    await rm(join(this.#dir, 'records', `${digestHex(id)}.json`), { force: true })
  }

  /** Persist the references map (latest state; concurrent calls coalesce in order). */
  persistRefs(): Promise<void> {
    this.#refsDirty = true
    const next = this.#refsWrite.then(async () => {
      if (!this.#refsDirty) return
      this.#refsDirty = false
      const out: RefsFile = { refs: Object.fromEntries([...this.#refs.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) }
      await writeJsonAtomic(join(this.#dir, 'references.json'), out)
    })
    this.#refsWrite = next.catch(() => {})
    return next
  }

  #addRef(canonical: string, id: Digest): void {
    this.#refs.set(canonical, id)
    let s = this.#refsByImage.get(id)
    if (!s) this.#refsByImage.set(id, (s = new Set()))
    s.add(canonical)
  }

  #removeRefFromIndex(canonical: string, id: Digest): void {
    const s = this.#refsByImage.get(id)
    s?.delete(canonical)
    if (s && s.size === 0) this.#refsByImage.delete(id)
  }
}

export function noSuchImage(ref: string) {
  return notFound('ERR_IMAGE_NOT_FOUND', `No such image: ${ref}`)
}

/** Familiar form of a canonical reference string. */
export function familiar(canonical: string): string {
  return familiarString(parseCanonical(canonical))
}

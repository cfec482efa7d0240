/**
 * The build cache index (`<data-root>/build-cache/index.json`): a step's image is found by its
 * parent image, its instruction after substitution with the stage's config (the key), and for
 * COPY/ADD the hash of the content and metadata of the files it reads. The images themselves
 * are ordinary image records; an entry whose image is gone is a miss.
 */
import { join } from 'node:path'
import { readJson, writeJsonAtomic } from '../lib/fs.js'
import { sha256, type Digest } from '../lib/digest.js'

/** One step: `at` is when it was stored (ms; absent in indexes written before it was kept). */
export interface CacheEntry { parent: string; key: string; content: string; image: Digest; at?: number }
type Entry = CacheEntry

/** dockerd's build-cache prune filters, parsed (the API's BuildCachePruneFilters). */
export interface CachePruneFilters {
  until?: number
  id?: string
  parent?: string
  type?: string
  description?: string
  inuse?: string
  shared?: string
  private?: string
}
interface IndexFile { entries: Record<string, Entry> }

const shared = new Map<string, BuildCache>()

/**
 * One index per data root, shared by every build of the process: loaded once, changed in
 * memory, written (atomically, one write at a time) after each change.
 */
export class BuildCache {
  #index: Promise<IndexFile> | undefined
  #writing: Promise<void> = Promise.resolve()
  private constructor(readonly dir: string) {}

  static for(dir: string): BuildCache {
    let c = shared.get(dir)
    if (!c) shared.set(dir, (c = new BuildCache(dir)))
    return c
  }

  #load(): Promise<IndexFile> {
    this.#index ??= readJson<IndexFile>(join(this.dir, 'index.json')).then((f) => f ?? { entries: {} })
    return this.#index
  }

  /**
   * Write the index (atomically, one write at a time). Changes made while a write is under way
   * are coalesced into one more write after it, so a build's steps do not each wait for a
   * write and its fsyncs: `flush` waits for what is pending (the build does, before it answers).
   */
  #persist(idx: IndexFile): Promise<void> {
    this.#dirty = true
    this.#flushing ??= (async () => {
      try {
        while (this.#dirty) {
          this.#dirty = false
          await writeJsonAtomic(join(this.dir, 'index.json'), idx)
        }
      } finally { this.#flushing = undefined }
    })()
    const w = this.#flushing
    this.#writing = w.catch((e: unknown) => { this.#failed ??= e })
    return w
  }
  #dirty = false
  #flushing: Promise<void> | undefined
  #failed: unknown

  /** Wait until every change so far is written; a failed background write is thrown here once. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#writing
    await this.#writing
    const e = this.#failed
    this.#failed = undefined
    if (e !== undefined) throw e
  }

  static id(parent: string, key: string, content: string): string {
    return sha256(`${parent}\n${key}\n${content}`)
  }

  async get(parent: string, key: string, content: string): Promise<Digest | undefined> {
    return (await this.#load()).entries[BuildCache.id(parent, key, content)]?.image
  }

  async put(parent: string, key: string, content: string, image: Digest): Promise<void> {
    const idx = await this.#load()
    idx.entries[BuildCache.id(parent, key, content)] = { parent, key, content, image, at: Date.now() }
    // Not waited for: the next step goes on while the index is written (see #persist).
    void this.#persist(idx).catch(() => undefined)
  }

  /** Why a step missed: the closest entry under the same parent tells. */
  async explain(parent: string, key: string, content: string, exists: (id: Digest) => boolean): Promise<string> {
    const all = Object.values((await this.#load()).entries)
    const same = all.filter((e) => e.parent === parent)
    const exact = same.find((e) => e.key === key && e.content === content)
    if (exact && !exists(exact.image)) return 'the cached image was removed'
    if (same.length === 0) return all.some((e) => e.key === key) ? 'the previous step was rebuilt (new parent image)' : 'no cached step for this instruction'
    if (same.some((e) => e.key === key)) return 'the files it reads changed (content or metadata)'
    return 'the instruction or the stage configuration changed'
  }

  /**
   * Drop entries: all of them, or those whose image is gone; with `match`, only those it accepts
   * too (the prune filters). Returns the dropped entry IDs.
   */
  async prune(all: boolean, exists: (id: Digest) => boolean, match: (id: string, e: CacheEntry) => boolean = () => true): Promise<string[]> {
    const idx = await this.#load()
    const dropped: string[] = []
    for (const [id, e] of Object.entries(idx.entries)) {
      if ((all || !exists(e.image)) && match(id, e)) { delete idx.entries[id]; dropped.push(id) }
    }
    if (dropped.length) { void this.#persist(idx).catch(() => undefined); await this.flush() }
    return dropped
  }
}

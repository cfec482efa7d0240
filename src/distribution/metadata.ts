import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { readJson, writeJsonAtomic } from '../lib/fs.js'

interface MetadataFile {
  /** Digest of a layer blob that is not gzip (or of a diff) → its gzip blob, made once for a push. */
  compressed: Record<string, { digest: string; size: number }>
  /** Blob digest → repositories (`host/path`) known to hold it, for cross-repo mounts and skips. */
  sources: Record<string, string[]>
}

const MAX_SOURCES = 16
const cache = new Map<string, Metadata>()

/**
 * What the engine knows about blobs and registries (`<data-root>/distribution/metadata.json`,
 * dockerd's v2metadata): a push reuses a gzip it made before instead of compressing again, and
 * mounts a blob from another repository of the same registry instead of uploading it.
 */
export class Metadata {
  #data: MetadataFile = { compressed: {}, sources: {} }
  #loaded?: Promise<void>
  #writing: Promise<void> = Promise.resolve()

  private constructor(readonly path: string) {}

  /** The one instance for a content store root (`<data-root>/content`). */
  static for(contentRoot: string): Metadata {
    const path = join(dirname(contentRoot), 'distribution', 'metadata.json')
    let m = cache.get(path)
    if (!m) cache.set(path, (m = new Metadata(path)))
    return m
  }

  async #load(): Promise<void> {
    this.#loaded ??= (async () => {
      const f = await readJson<MetadataFile>(this.path)
      if (f && typeof f === 'object') this.#data = { compressed: f.compressed ?? {}, sources: f.sources ?? {} }
    })()
    await this.#loaded
  }

  async compressedOf(digest: string): Promise<{ digest: string; size: number } | undefined> {
    await this.#load()
    return this.#data.compressed[digest]
  }

  async setCompressed(digest: string, gz: { digest: string; size: number }): Promise<void> {
    await this.#load()
    this.#data.compressed[digest] = gz
    await this.#persist()
  }

  async sourcesOf(digest: string): Promise<string[]> {
    await this.#load()
    return [...(this.#data.sources[digest] ?? [])]
  }

  async addSources(entries: Array<{ digest: string; repo: string }>): Promise<void> {
    if (entries.length === 0) return
    await this.#load()
    for (const { digest, repo } of entries) {
      const list = (this.#data.sources[digest] ?? []).filter((r) => r !== repo)
      list.unshift(repo)
      this.#data.sources[digest] = list.slice(0, MAX_SOURCES)
    }
    await this.#persist()
  }

  #persist(): Promise<void> {
    const next = this.#writing.then(async () => {
      await mkdir(dirname(this.path), { recursive: true })
      await writeJsonAtomic(this.path, this.#data)
    })
    this.#writing = next.catch(() => {})
    return next
  }
}

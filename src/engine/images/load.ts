import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import { Readable } from 'node:stream'
import tarStream from 'tar-stream'
import { chainIds, sha256, type Digest } from '../../lib/digest.js'
import { EngineError, invalid } from '../../lib/errors.js'
import type { Held } from '../../lib/lock.js'
import { Rollback } from '../../lib/rollback.js'
import { decompressed, detectCompression } from '../../core/decompress.js'
import type { StagedLayer } from '../../core/layer-store.js'
import type { BlobLease } from '../../core/content-store.js'
import { parseNormalizedNamed, referenceString, tagNameOnly, familiarString } from '../../distribution/reference.js'
import type { ImageDeps } from './service.js'
import { MEDIA_TYPE_LAYER, MEDIA_TYPE_LAYER_GZIP, MEDIA_TYPE_LAYER_ZSTD, MEDIA_TYPE_DOCKER_LIST, MEDIA_TYPE_OCI_INDEX, type ImageConfigFile, type ImageRecord, type LayerBlob } from './types.js'

/** Small entries are kept in memory; larger ones go to the content store as they stream. */
const SMALL = 1 << 20
const MAX_JSON = 16 << 20

interface ArchivedFile {
  /** In memory when small. */
  data?: Buffer
  /** In the content store when large (or once stored). */
  blob?: { digest: Digest; size: number }
  /** Extracted while streaming, if it looked like a layer. */
  staged?: Promise<StagedLayer | undefined>
  compression?: string
}

export interface LoadResult {
  /** Lines as Docker prints them: `Loaded image: busybox:latest`, `Loaded image ID: sha256:...`. */
  messages: string[]
  imageIds: Digest[]
}

interface ManifestEntry {
  Config: string
  RepoTags?: string[] | null
  Layers: string[]
  Parent?: string
  /** The config itself (a pre-1.10 archive's, made from its v1 JSON), instead of a file. */
  configData?: Buffer
  /** A pre-1.10 archive's untagged parent: loaded without a message, as Docker does. */
  silent?: boolean
}

/**
 * Load a Docker archive (`docker save`, legacy or 25+) or an OCI image layout tarball that may
 * hold several images. Layers are extracted while the archive streams in; nothing is visible
 * until every layer of an image is in place, and a failure removes all that this load staged.
 */
export async function loadImages(deps: ImageDeps, body: AsyncIterable<Buffer>, { signal }: { signal?: AbortSignal } = {}): Promise<LoadResult> {
  const files = new Map<string, ArchivedFile>()
  const links = new Map<string, string>()
  const rb = new Rollback((err) => deps.log(`load rollback: ${String(err)}`))
  const createdBlobs: Digest[] = []
  const createdLayers: Digest[] = []
  const staged: Array<Promise<StagedLayer | undefined>> = []
  rb.defer(async () => {
    for (const s of await Promise.allSettled(staged)) if (s.status === 'fulfilled' && s.value) await deps.layers.discard(s.value)
  })
  // Blobs this load wrote are leased until an image references them, so a concurrent prune keeps them.
  const lease = deps.content.lease()
  // Layers this load published for an image that then failed (a later layer was bad): no image uses them.
  rb.defer(async () => {
    const used = deps.store.layersInUse(deps.users.layersInUse())
    for (const c of [...createdLayers].reverse()) if (!used.has(c)) await deps.layers.remove(c)
  })
  try {
    await readArchive(deps, body, files, links, createdBlobs, staged, lease, signal)
    const result = await registerImages(deps, files, links, createdBlobs, createdLayers, lease)
    rb.commit()
    // Staged layers that no image needed (or that already existed) are dropped.
    for (const s of await Promise.allSettled(staged)) if (s.status === 'fulfilled' && s.value) await deps.layers.discard(s.value)
    return result
  } finally {
    await rb.close()
    // Whatever no image references now (all of it after a failure) goes, unless another operation leased it.
    lease.release()
    for (const d of createdBlobs) await deps.content.deleteUnused(d, (x) => !!deps.store.get(x) || isBlobReferenced(deps, x))
  }
}

function isBlobReferenced(deps: ImageDeps, d: string): boolean {
  return deps.store.all().some((i) => i.record.blobs.some((b) => b.digest === d))
}

async function readArchive(
  deps: ImageDeps,
  body: AsyncIterable<Buffer>,
  files: Map<string, ArchivedFile>,
  links: Map<string, string>,
  createdBlobs: Digest[],
  staged: Array<Promise<StagedLayer | undefined>>,
  lease: BlobLease,
  signal?: AbortSignal,
): Promise<void> {
  const extract = tarStream.extract()
  const input = Readable.from(decompressed(body, signal))
  input.on('error', (err) => extract.destroy(err))
  input.pipe(extract)
  let entries = 0
  try {
    for await (const entry of extract) {
      signal?.throwIfAborted()
      entries++
      const name = normalize(entry.header.name)
      if (entry.header.type === 'symlink' || entry.header.type === 'link') {
        const target = entry.header.linkname ?? ''
        links.set(name, entry.header.type === 'symlink' ? normalize(posix.join(posix.dirname(name), target)) : normalize(target))
        entry.resume()
        continue
      }
      if (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file') {
        entry.resume()
        continue
      }
      const size = entry.header.size ?? 0
      if (size <= SMALL) {
        const chunks: Buffer[] = []
        for await (const c of entry) chunks.push(c as Buffer)
        files.set(name, { data: Buffer.concat(chunks) })
        continue
      }
      files.set(name, await streamLargeEntry(deps, entry as AsyncIterable<Buffer>, createdBlobs, staged, lease))
    }
  } catch (err) {
    if (err instanceof EngineError) throw err
    throw invalid('ERR_BAD_ARCHIVE', archiveErrorMessage(err))
  }
  if (entries === 0) throw invalid('ERR_BAD_ARCHIVE', 'unexpected EOF')
}

function archiveErrorMessage(err: unknown): string {
  const m = (err as Error)?.message ?? String(err)
  if (/Unexpected end|unexpected end|premature close/i.test(m)) return 'unexpected EOF'
  if (/Invalid tar header/i.test(m)) return 'archive/tar: invalid tar header'
  return m
}

/** Store a large entry as a blob; when it looks like a layer, extract it at the same time. */
async function streamLargeEntry(
  deps: ImageDeps,
  entry: AsyncIterable<Buffer>,
  createdBlobs: Digest[],
  staged: Array<Promise<StagedLayer | undefined>>,
  lease: BlobLease,
): Promise<ArchivedFile> {
  const writer = deps.content.writer(lease)
  let extractor: Awaited<ReturnType<typeof deps.layers.extractor>> | undefined
  let feed: ((c: Buffer | null) => Promise<void>) | undefined
  let stagedP: Promise<StagedLayer | undefined> | undefined
  let compression = 'none'
  try {
    let first = true
    for await (const chunk of entry) {
      if (first) {
        first = false
        compression = detectCompression(chunk)
        if (compression !== 'none' || looksLikeTar(chunk)) {
          extractor = await deps.layers.extractor()
          const queue = new ChunkQueue()
          feed = (c) => queue.push(c)
          const ex = extractor
          stagedP = (async () => {
            try {
              for await (const u of decompressed(queue, undefined)) await ex.write(u)
              return await ex.finish()
            } catch (err) {
              await ex.abort()
              // Not a layer after all, or a bad one: decided when an image refers to it.
              return Promise.reject(err)
            }
          })()
          stagedP.catch(() => {})
          staged.push(stagedP.catch(() => undefined))
        }
      }
      await Promise.all([writer.write(chunk), feed?.(chunk)])
    }
    await feed?.(null)
    const blob = await writer.commit()
    createdBlobs.push(blob.digest)
    return { blob, ...(stagedP ? { staged: stagedP } : {}), compression }
  } catch (err) {
    void feed?.(null)
    await writer.abort()
    await extractor?.abort()
    throw err
  }
}

/** A push-based async iterable of chunks; `push` waits while more than 8 MB is queued. */
class ChunkQueue implements AsyncIterable<Buffer> {
  #items: Array<Buffer | null> = []
  #bytes = 0
  #wake?: () => void
  #drained?: () => void
  async push(c: Buffer | null): Promise<void> {
    this.#items.push(c)
    if (c) this.#bytes += c.length
    this.#wake?.()
    while (this.#bytes > 8 << 20) await new Promise<void>((r) => (this.#drained = r))
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        while (this.#items.length === 0) await new Promise<void>((r) => (this.#wake = r))
        this.#wake = undefined
        const c = this.#items.shift()!
        if (c === null) return
        this.#bytes -= c.length
        if (this.#bytes <= 8 << 20) this.#drained?.()
        yield c
      }
    } finally {
      // Consumer gone (error): never leave the producer waiting.
      this.#bytes = 0
      this.#drained?.()
    }
  }
}

function looksLikeTar(head: Buffer): boolean {
  return head.length >= 263 && head.toString('latin1', 257, 262) === 'ustar'
}

function normalize(p: string): string {
  return posix.normalize(p.replace(/^\.?\/+/, '')).replace(/^\.\//, '').replace(/\/+$/, '')
}

async function registerImages(deps: ImageDeps, files: Map<string, ArchivedFile>, links: Map<string, string>, createdBlobs: Digest[], createdLayers: Digest[], lease: BlobLease): Promise<LoadResult> {
  const resolvePath = (p: string): ArchivedFile | undefined => {
    let name = normalize(p)
    for (let i = 0; i < 16 && !files.has(name) && links.has(name); i++) name = links.get(name)!
    return files.get(name)
  }
  const readJsonFile = async (p: string): Promise<unknown> => {
    const f = resolvePath(p)
    if (!f) throw invalid('ERR_BAD_ARCHIVE', `file ${p} not found in archive`)
    const buf = f.data ?? (f.blob && f.blob.size <= MAX_JSON ? await deps.content.read(f.blob.digest) : undefined)
    if (!buf) throw invalid('ERR_BAD_ARCHIVE', `${p} is too large`)
    try {
      return JSON.parse(buf.toString('utf8'))
    } catch {
      throw invalid('ERR_BAD_ARCHIVE', `invalid JSON in ${p}`)
    }
  }

  let entries: ManifestEntry[]
  if (files.has('manifest.json')) {
    const m = await readJsonFile('manifest.json')
    if (!Array.isArray(m)) throw invalid('ERR_BAD_ARCHIVE', 'invalid manifest.json')
    entries = m as ManifestEntry[]
  } else if (files.has('index.json')) {
    entries = await entriesFromOciLayout(readJsonFile, deps.platform)
  } else if (files.has('repositories') || [...files.keys()].some((k) => V1_JSON.test(k))) {
    entries = await entriesFromLegacy(deps, files, readJsonFile, resolvePath)
  } else {
    throw invalid('ERR_BAD_ARCHIVE', 'open /var/lib/docker/tmp/manifest.json: no such file or directory'.replace('/var/lib/docker/tmp/', ''))
  }

  const messages: string[] = []
  const imageIds: Digest[] = []
  for (const entry of entries) {
    if (typeof entry?.Config !== 'string' || !Array.isArray(entry.Layers)) throw invalid('ERR_BAD_ARCHIVE', 'invalid manifest.json entry')
    const configFile = entry.configData ? undefined : resolvePath(entry.Config)
    if (!entry.configData && !configFile) throw invalid('ERR_BAD_ARCHIVE', `file ${entry.Config} not found in archive`)
    const configBytes = entry.configData ?? configFile!.data ?? (await deps.content.read(configFile!.blob!.digest))
    const id = sha256(configBytes)
    let config: ImageConfigFile
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfigFile
    } catch {
      throw invalid('ERR_BAD_ARCHIVE', `invalid image config ${entry.Config}`)
    }
    const diffIds = config.rootfs?.diff_ids ?? []
    if (diffIds.length !== entry.Layers.length) throw invalid('ERR_BAD_ARCHIVE', 'invalid manifest, layers length mismatch: expected ' + diffIds.length + ', got ' + entry.Layers.length)
    const chain = chainIds(diffIds)
    const tags = (entry.RepoTags ?? []).filter((t) => typeof t === 'string' && t).map((t) => tagNameOnly(parseNormalizedNamed(t)))
    const release = deps.store.lease(chain)
    // Held from the moment the record is checked until the tags point at it: an rmi of the same
    // image, running meanwhile, would otherwise delete the record under the new tags.
    let held: Held | undefined
    try {
      const blobs: LayerBlob[] = []
      let size = 0
      for (let i = 0; i < entry.Layers.length; i++) {
        const layerPath = entry.Layers[i]!
        const f = resolvePath(layerPath)
        if (!f) throw invalid('ERR_BAD_ARCHIVE', `file ${layerPath} not found in archive`)
        const blob = f.blob ?? { digest: await storeSmall(deps, f, createdBlobs, lease), size: f.data!.length }
        const compression = f.compression ?? detectCompression(f.data ?? Buffer.alloc(0))
        blobs.push({ digest: blob.digest, size: blob.size, mediaType: compression === 'gzip' ? MEDIA_TYPE_LAYER_GZIP : compression === 'zstd' ? MEDIA_TYPE_LAYER_ZSTD : MEDIA_TYPE_LAYER })
        const chainId = chain[i]!
        const existing = deps.layers.get(chainId)
        if (existing) { size += existing.size; continue }
        let stagedLayer: StagedLayer | undefined
        if (f.staged) {
          try { stagedLayer = await f.staged } catch (err) { throw invalid('ERR_BAD_LAYER', `error loading layer ${layerPath}: ${(err as Error).message}`) }
          f.staged = undefined // consumed; a second use re-extracts from the blob
        }
        if (!stagedLayer) stagedLayer = await extractBlob(deps, f.data ?? null, blob.digest)
        if (stagedLayer.diffId !== diffIds[i]) {
          await deps.layers.discard(stagedLayer)
          throw invalid('ERR_BAD_LAYER', `invalid diffID for layer ${i}: expected "${diffIds[i]}", got "${stagedLayer.diffId}"`)
        }
        const rec = await deps.layers.commit(stagedLayer, i > 0 ? chain[i - 1] : undefined)
        createdLayers.push(rec.chainId)
        size += rec.size
      }
      // Written even when present: an unreferenced copy may be collected at any moment, a leased one not.
      await deps.content.put(configBytes, id, lease)
      createdBlobs.push(id)
      held = await deps.store.locks.acquire(`img:${id}`)
      if (!deps.store.get(id)) {
        const record: ImageRecord = {
          id,
          layers: chain,
          blobs,
          size,
          loadedAt: new Date().toISOString(),
          ...(entry.Parent && /^sha256:[a-f0-9]{64}$/.test(entry.Parent) && deps.store.get(entry.Parent) ? { parent: entry.Parent as Digest } : {}),
        }
        await deps.store.put(record, config)
      }
      for (const ref of tags) {
        const old = deps.store.setRef(referenceString(ref), id)
        if (old) {
          messages.push(`The image ${familiarString(ref)} already exists, renaming the old one with ID ${old} to empty string`)
        }
        messages.push(`Loaded image: ${familiarString(ref)}`)
      }
    } finally {
      held?.release()
      release()
    }
    if (tags.length === 0 && !entry.silent) messages.push(`Loaded image ID: ${id}`)
    await deps.store.persistRefs()
    imageIds.push(id)
    deps.events.emit('image', 'load', id, { name: id, ...labelsOf(config) })
  }
  return { messages, imageIds }
}

export function labelsOf(config: ImageConfigFile): Record<string, string> {
  return { ...(config.config?.Labels ?? {}) }
}

async function storeSmall(deps: ImageDeps, f: ArchivedFile, createdBlobs: Digest[], lease: BlobLease): Promise<Digest> {
  const had = sha256(f.data!)
  await deps.content.put(f.data!, had, lease)
  createdBlobs.push(had)
  f.blob = { digest: had, size: f.data!.length }
  return had
}

/** Extract a layer from bytes in memory or from its blob. */
export async function extractBlob(deps: Pick<ImageDeps, 'layers' | 'content'>, data: Buffer | null, digest: Digest): Promise<StagedLayer> {
  const ex = await deps.layers.extractor()
  try {
    const source: AsyncIterable<Buffer> = data ? (async function* () { yield data })() : deps.content.createReadStream(digest)
    for await (const chunk of decompressed(source)) await ex.write(chunk)
    return await ex.finish()
  } catch (err) {
    await ex.abort()
    throw err
  }
}

type JsonReader = (p: string) => Promise<unknown>

/** A pre-1.10 archive's layer directory: `<v1 id>/json` (with `VERSION` and `layer.tar`). */
const V1_JSON = /^([a-f0-9]{64})\/json$/

/**
 * A pre-1.10 archive (no manifest.json): one directory per v1 image, each a layer with its v1
 * JSON, chained by `parent`; `repositories` names the tagged ones. As Docker's legacy loader, every
 * directory becomes an image (its parent's layers and history plus its own), the config being
 * the v1 JSON without the v1 fields, with `rootfs` and `history` added.
 */
async function entriesFromLegacy(deps: ImageDeps, files: Map<string, ArchivedFile>, read: JsonReader, resolve: (p: string) => ArchivedFile | undefined): Promise<ManifestEntry[]> {
  const v1 = new Map<string, Record<string, unknown>>()
  for (const name of files.keys()) {
    const m = V1_JSON.exec(name)
    if (!m) continue
    const j = await read(name)
    if (!j || typeof j !== 'object' || Array.isArray(j)) throw invalid('ERR_BAD_ARCHIVE', `invalid JSON in ${name}`)
    v1.set(m[1]!, j as Record<string, unknown>)
  }
  if (!files.has('repositories')) throw invalid('ERR_BAD_ARCHIVE', 'open repositories: no such file or directory')
  const repos = await read('repositories')
  if (!repos || typeof repos !== 'object' || Array.isArray(repos)) throw invalid('ERR_BAD_ARCHIVE', 'invalid repositories file')
  const tagsOf = new Map<string, string[]>()
  for (const [repo, tags] of Object.entries(repos as Record<string, unknown>)) {
    if (!tags || typeof tags !== 'object') throw invalid('ERR_BAD_ARCHIVE', 'invalid repositories file')
    for (const [tag, id] of Object.entries(tags as Record<string, unknown>)) {
      if (typeof id !== 'string' || !v1.has(id)) throw invalid('ERR_BAD_ARCHIVE', `invalid image ID ${String(id)} for ${repo}:${tag} in repositories`)
      tagsOf.set(id, [...(tagsOf.get(id) ?? []), `${repo}:${tag}`])
    }
  }
  const out: ManifestEntry[] = []
  const done = new Map<string, { diffIds: string[]; history: unknown[]; layers: string[] }>()
  const visit = async (id: string, depth: number): Promise<{ diffIds: string[]; history: unknown[]; layers: string[] }> => {
    const have = done.get(id)
    if (have) return have
    const json = v1.get(id)
    if (!json || depth > 256) throw invalid('ERR_BAD_ARCHIVE', `invalid image ${id}: missing or looping parent`)
    const parentId = typeof json.parent === 'string' && json.parent ? json.parent : undefined
    const base = parentId ? await visit(parentId, depth + 1) : { diffIds: [], history: [], layers: [] }
    const layerPath = `${id}/layer.tar`
    // A layer.tar may be a link to another directory's (old docker save wrote those).
    const f = resolve(layerPath)
    if (!f) throw invalid('ERR_BAD_ARCHIVE', `file ${layerPath} not found in archive`)
    const diffId = await uncompressedDigest(deps, f)
    const cc = json.container_config as { Cmd?: unknown } | undefined
    const h: Record<string, unknown> = {}
    if (typeof json.created === 'string') h.created = json.created
    if (typeof json.author === 'string' && json.author) h.author = json.author
    const cmd = Array.isArray(cc?.Cmd) ? (cc!.Cmd as unknown[]).join(' ') : ''
    if (cmd) h.created_by = cmd
    if (typeof json.comment === 'string' && json.comment) h.comment = json.comment
    const mine = { diffIds: [...base.diffIds, diffId], history: [...base.history, h], layers: [...base.layers, layerPath] }
    const config: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(json)) if (!['id', 'parent', 'Size', 'parent_id', 'layer_id', 'throwaway'].includes(k)) config[k] = v
    config.rootfs = { type: 'layers', diff_ids: mine.diffIds }
    config.history = mine.history
    const sorted = Object.fromEntries(Object.keys(config).sort().map((k) => [k, config[k]]))
    const configData = Buffer.from(JSON.stringify(sorted))
    const parentImage = parentId ? out.find((e) => e.Config === `${parentId}/json`) : undefined
    out.push({
      Config: `${id}/json`, configData, Layers: mine.layers, RepoTags: tagsOf.get(id) ?? [], silent: !tagsOf.has(id),
      ...(parentImage ? { Parent: sha256(parentImage.configData!) } : {}),
    })
    done.set(id, mine)
    return mine
  }
  for (const id of [...v1.keys()].sort()) await visit(id, 0)
  return out
}

/** The sha256 of a layer file's uncompressed tar (its diff ID). */
async function uncompressedDigest(deps: ImageDeps, f: ArchivedFile): Promise<string> {
  const hh = createHash('sha256')
  const source: AsyncIterable<Buffer> = f.data ? (async function* () { yield f.data! })() : deps.content.createReadStream(f.blob!.digest)
  for await (const c of decompressed(source)) hh.update(c)
  return `sha256:${hh.digest('hex')}`
}

interface OciDescriptor { mediaType?: string; digest: string; size?: number; annotations?: Record<string, string>; platform?: { architecture?: string; os?: string; variant?: string } }

/** Turn an OCI image layout's index into manifest.json-style entries. */
async function entriesFromOciLayout(read: JsonReader, platform: { os: string; architecture: string }): Promise<ManifestEntry[]> {
  const index = (await read('index.json')) as { manifests?: OciDescriptor[] }
  const out: ManifestEntry[] = []
  const blobPath = (d: string) => `blobs/${d.replace(':', '/')}`
  const visit = async (desc: OciDescriptor, name: string | undefined, depth: number): Promise<void> => {
    if (depth > 4) return
    const doc = (await read(blobPath(desc.digest))) as { mediaType?: string; manifests?: OciDescriptor[]; config?: OciDescriptor; layers?: OciDescriptor[] }
    const mt = desc.mediaType ?? doc.mediaType
    if (mt === MEDIA_TYPE_OCI_INDEX || mt === MEDIA_TYPE_DOCKER_LIST || Array.isArray(doc.manifests)) {
      const list = doc.manifests ?? []
      const pick = list.find((m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture) ?? list.find((m) => !m.platform)
      if (!pick) throw invalid('ERR_NO_MATCHING_PLATFORM', `no match for platform in manifest: not found`)
      return visit(pick, name, depth + 1)
    }
    if (!doc.config || !Array.isArray(doc.layers)) throw invalid('ERR_BAD_ARCHIVE', `invalid manifest ${desc.digest}`)
    out.push({ Config: blobPath(doc.config.digest), Layers: doc.layers.map((l) => blobPath(l.digest)), RepoTags: name ? [name] : [] })
  }
  for (const desc of index.manifests ?? []) {
    const full = desc.annotations?.['io.containerd.image.name']
    const refName = desc.annotations?.['org.opencontainers.image.ref.name']
    let name: string | undefined
    if (full) name = full
    else if (refName && /[/:]/.test(refName)) name = refName
    await visit(desc, name, 0)
  }
  return out
}

import { constants as fsc } from 'node:fs'
import { access } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { chainIds, sha256, type Digest } from '../../lib/digest.js'
import { realPlatform, type Spawner } from '../../platform/platform.js'
import { EngineError, invalid, notFound } from '../../lib/errors.js'
import type { Held } from '../../lib/lock.js'
import { Rollback } from '../../lib/rollback.js'
import { decompressed } from '../../core/decompress.js'
import type { StagedLayer } from '../../core/layer-store.js'
import type { BlobLease } from '../../core/content-store.js'
import { DEFAULT_DOMAIN, familiarName, familiarString, referenceString, withTag, type Reference } from '../../distribution/reference.js'
import { RegistryClient, RegistryError, type Descriptor, type RegistryCredentials } from '../../distribution/registry-client.js'
import { Metadata } from '../../distribution/metadata.js'
import type { RegistrySettings } from '../../distribution/hosts.js'
import { isIndex, parseImageManifest, parseIndex, platformMatches, platformString, selectManifest, MT_DOCKER_FOREIGN_LAYER, type Platform } from '../../distribution/manifest.js'
import { progressMsg, statusMsg, throttle, type ProgressSink } from '../../distribution/progress.js'
import type { ImageDeps } from './service.js'
import { labelsOf } from './load.js'
import { MEDIA_TYPE_LAYER_GZIP, type ImageConfigFile, type ImageRecord, type LayerBlob } from './types.js'

export interface PullOptions {
  /** Pull every tag of the repository (`fromImage` without a tag). */
  allTags?: boolean
  /** Wanted platform; the daemon's own when absent. */
  platform?: Platform
  credentials?: RegistryCredentials
  settings: RegistrySettings
  progress: ProgressSink
  signal?: AbortSignal
}

const MAX_CONFIG = 8 << 20

/**
 * Pull an image (or every tag of a repository) from its registry, as dockerd does: resolve the
 * manifest (HEAD then GET, a list narrowed to the platform), fetch the config, then download the
 * missing layers concurrently, each one verified and extracted while it streams, and publish
 * them in order. The record, the tag and the repo digest are written last, so a failure leaves
 * nothing behind.
 */
export async function pullImage(deps: ImageDeps, ref: Reference, opts: PullOptions): Promise<void> {
  const client = new RegistryClient({ domain: ref.domain, settings: opts.settings, ...(opts.credentials ? { credentials: opts.credentials } : {}), ...(opts.signal ? { signal: opts.signal } : {}) })
  // Docker Hub pulls try the mirrors first (without the Hub credentials), as dockerd does.
  const mirrors = ref.domain === DEFAULT_DOMAIN ? opts.settings.mirrors.map((m) => new RegistryClient({ domain: ref.domain, endpoint: m, settings: opts.settings, ...(opts.signal ? { signal: opts.signal } : {}) })) : []
  const clients = [...mirrors, client]
  if (!opts.allTags) {
    const res = await pullOne(deps, clients, ref, opts)
    opts.progress({ status: `Digest: ${res.digest}` })
    opts.progress({ status: `Status: ${res.upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${familiarString(ref)}` })
    return
  }
  let tags: string[]
  try {
    tags = await firstAnswer(clients, (c) => c.tags(ref.path))
  } catch (err) {
    throw translateError(err, ref, !!opts.credentials)
  }
  if (tags.length === 0) throw notFound('ERR_NO_TAGS', `no tags found for ${familiarName(ref)}`)
  let newer = false
  for (const tag of tags.sort()) {
    const r = await pullOne(deps, clients, withTag(ref, tag), opts)
    opts.progress({ status: `Digest: ${r.digest}` })
    if (!r.upToDate) newer = true
  }
  opts.progress({ status: `Status: ${newer ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarName(ref)}` })
}

/** dockerd's words for registry errors (distribution/errors.go). */
function translateError(err: unknown, ref: Reference, hadCreds: boolean): unknown {
  if (!(err instanceof RegistryError)) return err
  if (err.has('MANIFEST_UNKNOWN')) return new EngineError('NotFound', 'ERR_MANIFEST_UNKNOWN', `manifest for ${familiarString(ref)} not found: ${err.message}`, { cause: err })
  if (err.has('NAME_UNKNOWN')) return new EngineError('NotFound', 'ERR_NAME_UNKNOWN', `repository ${familiarName(ref)} not found: ${err.message}`, { cause: err })
  if (err.has('DENIED') || err.has('UNAUTHORIZED') || err.status === 401 || err.status === 403) {
    if (hadCreds && err.message.includes('incorrect username or password')) return new EngineError('Unauthorized', 'ERR_UNAUTHORIZED', err.message, { cause: err })
    return new EngineError('NotFound', 'ERR_PULL_DENIED', `pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${err.message}`, { cause: err })
  }
  if (err.status === 404) return new EngineError('NotFound', 'ERR_NOT_FOUND', `${familiarString(ref)}: not found: ${err.message}`, { cause: err })
  return new EngineError(err.status >= 500 ? 'Unavailable' : 'InvalidArgument', 'ERR_REGISTRY', err.message, { cause: err })
}

interface Resolved { digest: string; configDesc: Descriptor; layers: Descriptor[] }

async function resolveManifest(client: RegistryClient, ref: Reference, platform: Platform): Promise<Resolved> {
  const tagOrDigest = ref.digest ?? ref.tag ?? 'latest'
  let topDigest = ref.digest
  if (!topDigest) {
    const head = await client.headManifest(ref.path, tagOrDigest)
    topDigest = head?.digest
  }
  let m = await client.getManifest(ref.path, topDigest ?? tagOrDigest)
  const digest = topDigest ?? m.digest
  if (isIndex(m.mediaType)) {
    const pick = selectManifest(parseIndex(m.bytes, familiarString(ref)), platform)
    m = await client.getManifest(ref.path, pick.digest)
    if (isIndex(m.mediaType)) throw invalid('ERR_BAD_MANIFEST', `invalid manifest for ${familiarString(ref)}: nested index`)
  }
  const im = parseImageManifest(m.bytes, familiarString(ref))
  return { digest, configDesc: im.config, layers: im.layers }
}

/** The first client's answer; on failure the next one's (mirrors, then the registry itself). */
async function firstAnswer<T>(clients: RegistryClient[], fn: (c: RegistryClient) => Promise<T>): Promise<T> {
  let lastErr: unknown
  for (const c of clients) {
    try { return await fn(c) } catch (err) { rethrowAbort(err); lastErr = err }
  }
  throw lastErr
}
function rethrowAbort(err: unknown): void {
  if ((err as { name?: string })?.name === 'AbortError') throw err
}

async function pullOne(deps: ImageDeps, clients: RegistryClient[], ref: Reference, opts: PullOptions): Promise<{ digest: string; upToDate: boolean }> {
  const platform = opts.platform ?? deps.platform
  const tagOrDigest = ref.digest ?? ref.tag ?? 'latest'
  const repoRef: Reference = { name: ref.name, domain: ref.domain, path: ref.path }
  let resolved: Resolved
  let configBytes: Buffer
  let client: RegistryClient
  try {
    let picked: RegistryClient | undefined
    resolved = await firstAnswer(clients, async (c) => { const r = await resolveManifest(c, ref, platform); picked = c; return r })
    client = picked!
    opts.progress({ status: `Pulling from ${ref.path}`, id: tagOrDigest })
    configBytes = Buffer.concat(await collect(client.readBlob(ref.path, resolved.configDesc.digest, resolved.configDesc.size), MAX_CONFIG))
  } catch (err) {
    throw translateError(err, ref, !!opts.credentials)
  }
  const id = sha256(configBytes)
  let config: ImageConfigFile
  try { config = JSON.parse(configBytes.toString('utf8')) as ImageConfigFile } catch { throw invalid('ERR_BAD_CONFIG', `invalid image config ${id}`) }
  if (opts.platform && config.os && config.architecture && !platformMatches(opts.platform, { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) })) {
    throw notFound('ERR_PLATFORM_MISMATCH', `image with reference ${familiarString(ref)} was found but does not match the specified platform: wanted ${platformString(opts.platform)}, actual: ${platformString({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) })}`)
  }
  const diffIds = config.rootfs?.diff_ids ?? []
  const layerDescs = resolved.layers.filter((l) => l.mediaType !== MT_DOCKER_FOREIGN_LAYER)
  if (diffIds.length !== layerDescs.length) throw invalid('ERR_BAD_MANIFEST', `invalid manifest for ${familiarString(ref)}: ${layerDescs.length} layers, ${diffIds.length} diff IDs in its config`)
  const chain = chainIds(diffIds)
  const digestRef = referenceString({ ...repoRef, digest: resolved.digest })
  const tagRef = ref.digest ? undefined : referenceString(ref)

  const releaseLayers = deps.store.lease(chain)
  const lease = deps.content.lease()
  const rb = new Rollback((e) => deps.log(`pull rollback: ${String(e)}`))
  const createdBlobs: string[] = []
  const createdLayers: Digest[] = []
  let held: Held | undefined
  // Layers this pull published for an image that then failed: dropped unless something else uses them.
  rb.defer(async () => {
    releaseLayers()
    const used = deps.store.layersInUse(deps.users.layersInUse())
    for (const c of [...createdLayers].reverse()) if (!used.has(c)) await deps.layers.remove(c)
  })
  try {
    const existing = deps.store.get(id)
    const upToDate = !!existing && (tagRef ? deps.store.lookupRef(tagRef) === id : deps.store.lookupRef(digestRef) === id)
    if (!existing) {
      await downloadLayers(deps, client, ref, layerDescs, diffIds, chain, opts, lease, createdBlobs, createdLayers, rb)
      await deps.content.put(configBytes, id, lease)
      createdBlobs.push(id)
    }
    held = await deps.store.locks.acquire(`img:${id}`)
    if (!deps.store.get(id)) {
      const blobs: LayerBlob[] = layerDescs.map((l) => ({ digest: l.digest as Digest, size: l.size, mediaType: l.mediaType || MEDIA_TYPE_LAYER_GZIP }))
      const size = chain.reduce((n, c) => n + (deps.layers.get(c)?.size ?? 0), 0)
      const record: ImageRecord = { id, layers: chain, blobs, size, loadedAt: new Date().toISOString() }
      await deps.store.put(record, config)
    }
    if (tagRef) deps.store.setRef(tagRef, id)
    deps.store.setRef(digestRef, id)
    await deps.store.persistRefs()
    rb.commit()
    await Metadata.for(deps.content.root).addSources(layerDescs.map((l) => ({ digest: l.digest, repo: ref.name }))).catch((e) => deps.log(`pull metadata: ${String(e)}`))
    deps.events.emit('image', 'pull', id, { name: familiarString(ref), ...labelsOf(config) })
    return { digest: resolved.digest, upToDate }
  } finally {
    held?.release()
    await rb.close()
    releaseLayers()
    lease.release()
    for (const d of createdBlobs) await deps.content.deleteUnused(d, (x) => deps.store.all().some((i) => i.record.id === x || i.record.blobs.some((b) => b.digest === x)))
  }
}

async function collect(it: AsyncIterable<Buffer>, limit: number): Promise<Buffer[]> {
  const out: Buffer[] = []
  let n = 0
  for await (const c of it) {
    n += c.length
    if (n > limit) throw invalid('ERR_TOO_LARGE', `blob larger than ${limit} bytes`)
    out.push(c)
  }
  return out
}

/** A counting semaphore. */
export class Limiter {
  #active = 0
  #queue: Array<() => void> = []
  constructor(readonly max: number) {}
  get busy(): boolean { return this.#active >= this.max }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.max) await new Promise<void>((r) => this.#queue.push(r))
    this.#active++
    try { return await fn() } finally {
      this.#active--
      this.#queue.shift()?.()
    }
  }
}

const shortDigest = (d: string) => d.replace(/^sha256:/, '').slice(0, 12)

async function downloadLayers(
  deps: ImageDeps, client: RegistryClient, ref: Reference, descs: Descriptor[], diffIds: string[], chain: Digest[],
  opts: PullOptions, lease: BlobLease, createdBlobs: string[], createdLayers: Digest[], rb: Rollback,
): Promise<void> {
  const limiter = new Limiter(Math.max(1, opts.settings.maxConcurrentDownloads))
  const p = opts.progress
  const need: boolean[] = chain.map((c) => !deps.layers.has(c))
  // The same blob twice in one image is downloaded once.
  const announced = new Set<string>()
  for (let i = 0; i < descs.length; i++) {
    const id = shortDigest(descs[i]!.digest)
    if (!need[i]) p(statusMsg(id, 'Already exists'))
    else if (!announced.has(descs[i]!.digest)) { p(statusMsg(id, 'Pulling fs layer')); announced.add(descs[i]!.digest) }
  }
  const controller = new AbortController()
  const onAbort = () => controller.abort(opts.signal?.reason)
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  const downloads = new Map<string, Promise<StagedLayer>>()
  let waitingShown = 0
  for (let i = 0; i < descs.length; i++) {
    if (!need[i]) continue
    const d = descs[i]!
    if (downloads.has(d.digest)) continue
    const id = shortDigest(d.digest)
    if (limiter.busy || waitingShown > 0) { p(statusMsg(id, 'Waiting')); waitingShown++ }
    const expectedDiff = diffIds[i]!
    const job = limiter.run(() => downloadLayer(deps, client, ref, d, expectedDiff, p, lease, createdBlobs, controller.signal))
    job.catch(() => controller.abort())
    downloads.set(d.digest, job)
    rb.defer(async () => {
      const r = await Promise.allSettled([job])
      if (r[0]!.status === 'fulfilled') await deps.layers.discard(r[0]!.value)
    })
  }
  try {
    const committed = new Set<string>()
    for (let i = 0; i < descs.length; i++) {
      if (!need[i]) continue
      const d = descs[i]!
      const id = shortDigest(d.digest)
      let staged = await downloads.get(d.digest)!
      if (committed.has(d.digest)) {
        // The same blob used twice in one image: extract it again from the stored blob.
        const { extractBlob } = await import('./load.js')
        staged = await extractBlob(deps, null, d.digest as Digest)
      }
      committed.add(d.digest)
      p(progressMsg(id, 'Extracting', d.size, d.size))
      const rec = await deps.layers.commit(staged, i > 0 ? chain[i - 1] : undefined)
      if (rec.chainId !== chain[i]) throw invalid('ERR_BAD_LAYER', `layer ${d.digest}: unexpected chain ID`)
      createdLayers.push(rec.chainId)
      p(statusMsg(id, 'Pull complete'))
    }
  } catch (err) {
    controller.abort()
    await Promise.allSettled(downloads.values())
    throw err
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
  }
}

/** Download one layer blob into the content store while decompressing it into a staged layer. */
async function downloadLayer(
  deps: ImageDeps, client: RegistryClient, ref: Reference, d: Descriptor, expectedDiff: string,
  p: ProgressSink, lease: BlobLease, createdBlobs: string[], signal: AbortSignal,
): Promise<StagedLayer> {
  const id = shortDigest(d.digest)
  signal.throwIfAborted()
  const writer = deps.content.writer(lease)
  const ex = await deps.layers.extractor()
  let got = 0
  const tick = throttle(100)
  let sourceError: unknown
  let verified = false
  const source = client.readBlob(ref.path, d.digest, d.size)
  async function* tee(): AsyncGenerator<Buffer> {
    try {
      for await (const c of source) {
        signal.throwIfAborted()
        await writer.write(c)
        got += c.length
        if (tick()) p(progressMsg(id, 'Downloading', got, d.size))
        yield c
      }
      verified = true
    } catch (err) {
      sourceError = err
      throw err
    }
  }
  const t0 = performance.now()
  let tWrite = 0
  try {
    try {
      for await (const u of layerStream(tee(), signal)) { const tw = performance.now(); await ex.write(u); tWrite += performance.now() - tw }
    } catch (err) {
      if (sourceError) throw sourceError
      // A layer that does not decompress or extract may just be corrupt: its digest says which
      // (the rest of the blob is bounded by the descriptor's size).
      if (!signal.aborted) {
        try { for await (const c of source) void c } catch (e) { if (e instanceof EngineError && e.code === 'ERR_DIGEST_MISMATCH') throw e }
      }
      throw err
    }
    if (sourceError) throw sourceError
    if (!verified) throw new EngineError('Unavailable', 'ERR_BLOB_READ', `failed to download ${d.digest}: unexpected EOF`)
    p(progressMsg(id, 'Downloading', got, d.size))
    p(statusMsg(id, 'Verifying Checksum'))
    const blob = await writer.commit(d.digest)
    createdBlobs.push(blob.digest)
    p(statusMsg(id, 'Download complete'))
    const tf = performance.now()
    const staged = await ex.finish()
    deps.log(`pull ${id}: ${got} bytes streamed in ${Math.round(tf - t0)} ms (waiting on tar's stdin ${Math.round(tWrite)} ms), tar finished ${Math.round(performance.now() - tf)} ms later`)
    if (staged.diffId !== expectedDiff) {
      await deps.layers.discard(staged)
      throw invalid('ERR_BAD_LAYER', `failed to register layer: invalid diffID for layer: expected "${expectedDiff}", got "${staged.diffId}"`)
    }
    return staged
  } catch (err) {
    await writer.abort()
    await ex.abort()
    if (err instanceof EngineError && err.code === 'ERR_DIGEST_MISMATCH') throw new EngineError('InvalidArgument', 'ERR_DIGEST_MISMATCH', `filesystem layer verification failed for digest ${d.digest}`, { cause: err })
    throw err
  }
}

let pigzFound: Promise<boolean> | undefined
/** Whether pigz is on PATH (looked up once). */
function havePigz(): Promise<boolean> {
  pigzFound ??= (async () => {
    for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
      if (d && await access(join(d, 'pigz'), fsc.X_OK).then(() => true, () => false)) return true
    }
    return false
  })()
  return pigzFound
}

/**
 * A layer blob's uncompressed bytes. gzip goes through `pigz -d` when it is installed: it
 * inflates in its own process, its reading, writing and CRC check in threads of their own, so
 * it runs beside berthd's hashing and writing instead of in one of its thread-pool threads (2-3
 * times zlib's rate here); without pigz, and for other formats, core's decompressed().
 */
export async function* layerStream(source: AsyncIterable<Buffer>, signal?: AbortSignal, spawner: Spawner = realPlatform().spawner): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]()
  const first = await it.next()
  if (first.done) return
  const head = first.value
  async function* again(): AsyncGenerator<Buffer> {
    yield head
    for (;;) { const r = await it.next(); if (r.done) return; yield r.value }
  }
  if (!(head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) || !(await havePigz())) {
    yield* decompressed(again(), signal, spawner)
    return
  }
  const child = spawner.start('pigz', ['-d', '-c', '-q'], signal ? { signal } : {})
  const stdin = child.stdin!
  let stop = false
  let feedError: unknown
  const feeding = (async () => {
    try {
      for await (const c of again()) {
        if (stop) break
        if (!stdin.write(c)) {
          await new Promise<void>((resolve) => {
            const done = () => { stdin.off('drain', done); stdin.off('close', done); resolve() }
            stdin.once('drain', done)
            stdin.once('close', done)
          })
        }
      }
      stdin.end()
    } catch (err) {
      feedError = err
      child.kill('SIGKILL')
    }
  })()
  let drained = false
  try {
    for await (const chunk of child.stdout!) yield chunk as Buffer
    drained = true
  } finally {
    if (!drained) { stop = true; child.kill('SIGKILL') }
  }
  await feeding
  if (feedError) throw feedError
  const { code, stderr, spawnError } = await child.exit
  if (spawnError) throw invalid('ERR_BAD_COMPRESSION', `cannot decompress gzip: ${spawnError.message}`)
  if (code !== 0) throw invalid('ERR_BAD_COMPRESSION', `unexpected EOF: gzip: ${stderr.trim() || 'invalid data'}`)
}

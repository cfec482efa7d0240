import { createGzip } from 'node:zlib'
import { Readable } from 'node:stream'
import type { Digest } from '../../lib/digest.js'
import type { BlobLease } from '../../core/content-store.js'
import { EngineError, notFound } from '../../lib/errors.js'
import { detectCompression } from '../../core/decompress.js'
import { familiarName, parseNormalizedNamed, referenceString, withTag, type Reference } from '../../distribution/reference.js'
import { RegistryClient, RegistryError, type RegistryCredentials } from '../../distribution/registry-client.js'
import type { RegistrySettings } from '../../distribution/hosts.js'
import { Metadata } from '../../distribution/metadata.js'
import { MT_DOCKER_CONFIG, MT_DOCKER_LAYER_GZIP, MT_DOCKER_MANIFEST } from '../../distribution/manifest.js'
import { progressMsg, statusMsg, throttle, type ProgressSink } from '../../distribution/progress.js'
import { Limiter } from './pull.js'
import type { ImageDeps } from './service.js'
import type { Image } from './types.js'

export interface PushOptions {
  credentials?: RegistryCredentials
  settings: RegistrySettings
  progress: ProgressSink
  signal?: AbortSignal
}

const shortDigest = (d: string) => d.replace(/^sha256:/, '').slice(0, 12)

/**
 * Push a tag (or every tag of a repository when `tag` is empty) as dockerd does: each layer is
 * skipped when the registry has it, mounted from another repository of the same registry when
 * one is known to hold it, else uploaded (POST, then PUT ?digest=); layers that are not gzip are
 * compressed once and the result remembered. The config follows, then the schema2 manifest.
 */
export async function pushImage(deps: ImageDeps, name: string, tag: string, opts: PushOptions): Promise<void> {
  const repo = parseNormalizedNamed(name)
  if (repo.digest) throw new EngineError('InvalidArgument', 'ERR_PUSH_DIGEST', 'cannot push a digest reference')
  const base: Reference = { name: repo.name, domain: repo.domain, path: repo.path }
  let refs: Reference[]
  const t = tag || repo.tag
  if (t) refs = [withTag(base, t)]
  else {
    refs = deps.store.all().flatMap((i) => i.refs).filter((r) => !r.includes('@')).map((r) => parseNormalizedNamed(r)).filter((r) => r.name === base.name).sort((a, b) => (a.tag! < b.tag! ? -1 : 1))
  }
  const images = refs.map((r) => ({ ref: r, id: deps.store.lookupRef(referenceString(r)) }))
  if (images.length === 0 || images.some((x) => !x.id)) throw notFound('ERR_NO_SUCH_TAG', `An image does not exist locally with the tag: ${familiarName(base)}`)
  const client = new RegistryClient({ domain: base.domain, settings: opts.settings, ...(opts.credentials ? { credentials: opts.credentials } : {}), ...(opts.signal ? { signal: opts.signal } : {}) })
  opts.progress({ status: `The push refers to repository [${base.name}]` })
  for (const { ref, id } of images) {
    const img = deps.store.get(id!)
    if (!img) throw notFound('ERR_NO_SUCH_TAG', `An image does not exist locally with the tag: ${familiarName(base)}`)
    const release = deps.store.lease(img.record.layers)
    const lease = deps.content.lease()
    try {
      await pushOne(deps, client, ref, img, opts, lease)
    } catch (err) {
      if (err instanceof RegistryError) {
        if (err.status === 401 || err.has('UNAUTHORIZED') || err.has('DENIED')) throw new EngineError('Unauthorized', 'ERR_PUSH_DENIED', err.message.startsWith('unauthorized') || err.message.startsWith('denied') ? err.message : `denied: ${err.message}`, { cause: err })
        throw new EngineError('Unavailable', 'ERR_PUSH', err.message, { cause: err })
      }
      throw err
    } finally {
      lease.release()
      release()
    }
  }
}

interface PushedBlob { digest: string; size: number }

async function pushOne(deps: ImageDeps, client: RegistryClient, ref: Reference, img: Image, opts: PushOptions, lease: BlobLease): Promise<void> {
  const p = opts.progress
  const meta = Metadata.for(deps.content.root)
  const diffIds = img.config.rootfs?.diff_ids ?? []
  const limiter = new Limiter(Math.max(1, opts.settings.maxConcurrentUploads))
  const n = img.record.blobs.length
  // Top layer first, as docker prints them.
  const order = [...Array(n).keys()].reverse()
  const ids = img.record.blobs.map((b, i) => shortDigest(diffIds[i] ?? b.digest))
  const shown = new Set<string>()
  for (const i of order) if (!shown.has(ids[i]!)) { shown.add(ids[i]!); p(statusMsg(ids[i]!, 'Preparing')) }
  const started = new Map<string, Promise<PushedBlob>>()
  for (const i of order) {
    const id = ids[i]!
    if (started.has(id)) continue
    if (limiter.busy) p(statusMsg(id, 'Waiting'))
    const job = limiter.run(() => pushLayer(deps, client, ref, img, i, id, meta, p, lease, opts.signal))
    job.catch(() => {})
    started.set(id, job)
  }
  const results = await Promise.allSettled([...started.values()])
  const failed = results.find((r) => r.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
  const layers: PushedBlob[] = []
  for (let i = 0; i < n; i++) layers.push(await started.get(ids[i]!)!)
  // The config, then the manifest.
  const configBytes = await deps.content.read(img.record.id)
  if ((await client.blobSize(ref.path, img.record.id)) === undefined) {
    await client.uploadBlob(ref.path, img.record.id, configBytes.length, () => Readable.from([configBytes]))
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: MT_DOCKER_MANIFEST,
    config: { mediaType: MT_DOCKER_CONFIG, size: configBytes.length, digest: img.record.id },
    layers: layers.map((l) => ({ mediaType: MT_DOCKER_LAYER_GZIP, size: l.size, digest: l.digest })),
  }
  const bytes = Buffer.from(JSON.stringify(manifest, null, 3))
  const digest = await client.putManifest(ref.path, ref.tag!, bytes, MT_DOCKER_MANIFEST)
  await meta.addSources(layers.map((l) => ({ digest: l.digest, repo: ref.name })))
  // The image now has a digest in this repository.
  const digestRef = referenceString({ name: ref.name, domain: ref.domain, path: ref.path, digest })
  if (deps.store.get(img.record.id)) {
    deps.store.setRef(digestRef, img.record.id)
    await deps.store.persistRefs()
  }
  p({ status: `${ref.tag}: digest: ${digest} size: ${bytes.length}` })
  p({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: bytes.length } })
  deps.events.emit('image', 'push', img.record.id, { name: `${familiarName(ref)}:${ref.tag}` })
}

/** The gzip blob to push for layer i: the stored blob when it is gzip, else a gzip made (once) from it. */
async function gzipBlobOf(deps: ImageDeps, img: Image, i: number, meta: Metadata): Promise<{ digest: string; size: number; local: boolean }> {
  const b = img.record.blobs[i]!
  const size = await deps.content.size(b.digest)
  if (size === undefined) {
    const known = await meta.compressedOf(b.digest)
    if (known) return { ...known, local: (await deps.content.size(known.digest)) !== undefined }
    throw notFound('ERR_BLOB_MISSING', `layer blob ${b.digest} is not available locally`)
  }
  const head = await readHead(deps, b.digest)
  if (detectCompression(head) === 'gzip') return { digest: b.digest, size, local: true }
  const known = await meta.compressedOf(b.digest)
  if (known) return { ...known, local: (await deps.content.size(known.digest)) !== undefined }
  return { digest: '', size: 0, local: false }
}

async function readHead(deps: ImageDeps, digest: string): Promise<Buffer> {
  for await (const c of deps.content.createReadStream(digest)) return (c as Buffer).subarray(0, 16)
  return Buffer.alloc(0)
}

/** Compress a stored (uncompressed or zstd) layer blob to gzip into the content store, once. */
async function compressLayer(deps: ImageDeps, digest: Digest, meta: Metadata, lease: BlobLease): Promise<{ digest: string; size: number }> {
  const { decompressed } = await import('../../core/decompress.js')
  // Leased until the push ends: nothing references the gzip, a prune meanwhile must keep it.
  const writer = deps.content.writer(lease)
  try {
    const gz = createGzip()
    const input = Readable.from(decompressed(deps.content.createReadStream(digest) as AsyncIterable<Buffer>))
    input.on('error', (e) => gz.destroy(e))
    input.pipe(gz)
    for await (const c of gz) await writer.write(c as Buffer)
    const out = await writer.commit()
    await meta.setCompressed(digest, out)
    return out
  } catch (err) {
    await writer.abort()
    throw err
  }
}

async function pushLayer(deps: ImageDeps, client: RegistryClient, ref: Reference, img: Image, i: number, id: string, meta: Metadata, p: ProgressSink, lease: BlobLease, signal?: AbortSignal): Promise<PushedBlob> {
  signal?.throwIfAborted()
  let blob = await gzipBlobOf(deps, img, i, meta)
  // Known compressed digest: maybe the registry has it already, then nothing to read or compress.
  if (blob.digest) {
    const have = await client.blobSize(ref.path, blob.digest)
    if (have !== undefined) { p(statusMsg(id, 'Layer already exists')); return { digest: blob.digest, size: blob.size } }
  }
  if (!blob.local) {
    const out = await compressLayer(deps, img.record.blobs[i]!.digest, meta, lease)
    blob = { ...out, local: true }
    const have = await client.blobSize(ref.path, blob.digest)
    if (have !== undefined) { p(statusMsg(id, 'Layer already exists')); return { digest: blob.digest, size: blob.size } }
  }
  // Another repository of the same registry holds it: mount.
  for (const src of await meta.sourcesOf(blob.digest)) {
    const from = parseNormalizedNamed(src)
    if (from.domain !== ref.domain || from.path === ref.path) continue
    if (await client.mountBlob(ref.path, blob.digest, from.path).catch(() => false)) {
      p(statusMsg(id, `Mounted from ${from.path}`))
      return { digest: blob.digest, size: blob.size }
    }
  }
  const total = blob.size
  const tick = throttle(100)
  const digest = blob.digest
  await client.uploadBlob(ref.path, digest, total, () => (async function* () {
    let sent = 0
    for await (const c of deps.content.createReadStream(digest)) {
      sent += (c as Buffer).length
      if (tick()) p(progressMsg(id, 'Pushing', sent, total))
      yield c as Buffer
    }
    p(progressMsg(id, 'Pushing', sent, total))
  })())
  p(statusMsg(id, 'Pushed'))
  return { digest, size: total }
}

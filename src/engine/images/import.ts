import { decompressed, detectCompression } from '../../core/decompress.js'
import { chainIds, sha256, type Digest } from '../../lib/digest.js'
import { invalid } from '../../lib/errors.js'
import { Rollback } from '../../lib/rollback.js'
import { familiarString, parseNormalizedNamed, referenceString, tagNameOnly, withTag, type Reference } from '../../distribution/reference.js'
import { applyChanges } from './changes.js'
import type { ImageDeps } from './deps.js'
import { parsePlatform } from './platform.js'
import { MEDIA_TYPE_LAYER, MEDIA_TYPE_LAYER_GZIP, MEDIA_TYPE_LAYER_ZSTD, type ImageConfigFile, type ImageRecord } from './types.js'

/** `docker import` options: the reference to tag, the commit message, Dockerfile changes, platform. */
export interface ImportOptions {
  repo?: string
  tag?: string
  message?: string
  changes?: string[]
  platform?: string
  source?: string
  signal?: AbortSignal
}

/**
 * `docker import`: make a one-layer image from a (possibly compressed) tarball; returns its ID.
 * A failure halfway leaves no layer, blob or record behind.
 */
export async function importImage(deps: ImageDeps, body: AsyncIterable<Buffer>, opts: ImportOptions = {}): Promise<Digest> {
  let ref: Reference | undefined
  if (opts.repo) {
    ref = parseNormalizedNamed(opts.repo)
    if (opts.tag) ref = withTag(ref, opts.tag)
    ref = tagNameOnly(ref)
    if (ref.digest) throw invalid('ERR_INVALID_REFERENCE', 'cannot import digest reference')
  }
  const plat = opts.platform ? parsePlatform(opts.platform) : deps.platform
  const baseConfig = applyChanges({}, opts.changes ?? [])
  const rb = new Rollback((e) => deps.log(`import rollback: ${String(e)}`))
  // The layer and config blobs stay leased until the record references them (a prune may run meanwhile).
  const lease = deps.content.lease()
  try {
    const writer = deps.content.writer(lease)
    rb.defer(() => writer.abort())
    const ex = await deps.layers.extractor()
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
    rb.defer(() => deps.layers.discard(staged))
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
    const release = deps.store.lease(chain)
    try {
      const layer = await deps.layers.commit(staged, undefined)
      await deps.content.put(configBytes, id, lease)
      const record: ImageRecord = {
        id,
        layers: chain,
        blobs: [{ digest: blob.digest, size: blob.size, mediaType: compression === 'gzip' ? MEDIA_TYPE_LAYER_GZIP : compression === 'zstd' ? MEDIA_TYPE_LAYER_ZSTD : MEDIA_TYPE_LAYER }],
        size: layer.size,
        loadedAt: created,
      }
      await deps.store.put(record, config)
    } finally {
      release()
    }
    rb.commit()
    if (ref) {
      deps.store.setRef(referenceString(ref), id)
      await deps.store.persistRefs()
      // Docker tags the new image through TagImage, which logs a tag event before the import one.
      deps.events.emit('image', 'tag', id, { name: familiarString(ref), ...(baseConfig.Labels ?? {}) })
    }
    deps.events.emit('image', 'import', id, { name: id, ...(baseConfig.Labels ?? {}) })
    return id
  } finally {
    await rb.close()
    lease.release()
  }
}

import tarStream from 'tar-stream'
import { sha256, digestHex, type Digest } from '../../lib/digest.js'
import { familiarString, parseNormalizedNamed } from '../../distribution/reference.js'
import type { ImageDeps } from './service.js'
import { MEDIA_TYPE_OCI_CONFIG, MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST, type Image } from './types.js'

/**
 * Write images as the archive Docker 25+ `docker save` writes: an OCI image layout
 * (`oci-layout`, `index.json`, `blobs/sha256/...`) that is also a Docker archive
 * (`manifest.json`, `repositories`), so both old and new `docker load` read it.
 */
export async function saveImages(
  deps: ImageDeps,
  wanted: Array<{ img: Image; tags: string[] }>,
  out: (chunk: Buffer) => Promise<void> | void,
  { signal }: { signal?: AbortSignal } = {},
): Promise<void> {
  const pack = tarStream.pack()
  // The writer failing (the client went away) stops the packing: every wait below races it.
  let stop: (err: unknown) => void = () => {}
  const stopped = new Promise<never>((_, reject) => { stop = reject })
  stopped.catch(() => {})
  const pump = (async () => {
    for await (const chunk of pack as unknown as AsyncIterable<Buffer>) await out(chunk)
  })()
  pump.catch((err: unknown) => { stop(err); pack.destroy(err as Error) })
  const mtime = new Date(0)
  const written = new Set<string>()
  const addFile = (name: string, data: Buffer) =>
    Promise.race([stopped, new Promise<void>((resolve, reject) => pack.entry({ name, size: data.length, mode: 0o644, mtime, uid: 0, gid: 0 }, data, (err) => (err ? reject(err) : resolve())))])
  const addBlob = async (digest: Digest, data?: Buffer) => {
    const name = `blobs/sha256/${digestHex(digest)}`
    if (written.has(name)) return
    written.add(name)
    if (data) return addFile(name, data)
    const size = (await deps.content.size(digest))!
    await Promise.race([stopped, new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name, size, mode: 0o644, mtime, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()))
      const src = deps.content.createReadStream(digest)
      signal?.addEventListener('abort', () => src.destroy(signal.reason as Error), { once: true })
      src.on('error', reject)
      // A destroyed pack (the client went away) errors its entry: handled, never uncaught.
      entry.on('error', reject)
      src.pipe(entry)
    })])
  }
  try {
    for (const dir of ['blobs/', 'blobs/sha256/']) {
      await Promise.race([stopped, new Promise<void>((resolve, reject) => pack.entry({ name: dir, type: 'directory', mode: 0o755, mtime, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve())))])
    }
    const manifestJson: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = []
    const index: Array<Record<string, unknown>> = []
    const repositories: Record<string, Record<string, string>> = {}
    const byImage = new Map<string, { img: Image; tags: string[] }>()
    for (const w of wanted) {
      const cur = byImage.get(w.img.record.id)
      if (cur) cur.tags.push(...w.tags.filter((t) => !cur.tags.includes(t)))
      else byImage.set(w.img.record.id, { img: w.img, tags: [...w.tags] })
    }
    for (const { img, tags } of byImage.values()) {
      signal?.throwIfAborted()
      const configBytes = await deps.content.read(img.record.id)
      await addBlob(img.record.id, configBytes)
      for (const b of img.record.blobs) await addBlob(b.digest)
      const manifest = {
        schemaVersion: 2,
        mediaType: MEDIA_TYPE_OCI_MANIFEST,
        config: { mediaType: MEDIA_TYPE_OCI_CONFIG, digest: img.record.id, size: configBytes.length },
        layers: img.record.blobs.map((b) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size })),
      }
      const manifestBytes = Buffer.from(JSON.stringify(manifest))
      const manifestDigest = sha256(manifestBytes)
      await addBlob(manifestDigest, manifestBytes)
      const familiarTags = tags.map((t) => familiarString(parseNormalizedNamed(t)))
      const descriptor = { mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: manifestDigest, size: manifestBytes.length }
      if (tags.length === 0) index.push(descriptor)
      for (const t of tags) {
        const ref = parseNormalizedNamed(t)
        index.push({ ...descriptor, annotations: { 'io.containerd.image.name': t, 'org.opencontainers.image.ref.name': ref.tag ?? 'latest' } })
        const repo = familiarString({ ...ref, tag: undefined, digest: undefined } as typeof ref)
        if (ref.tag !== undefined) (repositories[repo] ??= {})[ref.tag] = digestHex(img.record.layers.at(-1) ?? img.record.id)
      }
      manifestJson.push({ Config: `blobs/sha256/${digestHex(img.record.id)}`, RepoTags: familiarTags.length ? familiarTags : null, Layers: img.record.blobs.map((b) => `blobs/sha256/${digestHex(b.digest)}`) })
    }
    await addFile('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_INDEX, manifests: index })))
    await addFile('manifest.json', Buffer.from(JSON.stringify(manifestJson)))
    await addFile('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })))
    if (Object.keys(repositories).length) await addFile('repositories', Buffer.from(JSON.stringify(repositories)))
    pack.finalize()
  } catch (err) {
    pack.destroy(err as Error)
    await pump.catch(() => {})
    throw err
  }
  await pump
}

import { createHash, randomBytes, randomUUID, type Hash } from 'node:crypto'
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, rm, stat, truncate, unlink, utimes, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { errno, isNotFoundErrno } from '../lib/errors.js'
import { fsyncDir, TMP_MARK, writeFileAtomic } from '../lib/fs.js'
import { KeyedLock } from '../lib/lock.js'
import { regErr } from './errors.js'
import { MAX_MANIFEST, parseManifest, referrerDescriptor, type Descriptor, type ParsedManifest } from './manifest.js'
import { algorithmOf, hexOf, isDigest, isTag } from './names.js'

/**
 * The registry's storage on a local filesystem (see docs/registry-server.md for the layout).
 * Blobs are stored once by digest and linked into each repository that holds them; every
 * file becomes visible by rename after fsync, so a crash leaves the previous or the next
 * state. A blob is visible only after its digest was verified; a manifest is written only
 * after the blobs it references were found (under a GC hold, see gc.ts).
 */
export class Storage {
  readonly root: string
  readonly #uploads = new Map<string, UploadState>()
  readonly #uploadLock = new KeyedLock()
  readonly #manifestCache = new Map<string, Buffer>()

  constructor(root: string) {
    this.root = root
  }

  async init(): Promise<void> {
    for (const d of ['blobs', 'uploads', 'repositories', 'gc-holds', 'gc-trash']) await mkdir(join(this.root, d), { recursive: true })
    // Temp files of atomic writes a killed server left (it serves this root alone): never blobs, never links.
    for (const d of ['blobs', 'repositories']) await removeTempFiles(join(this.root, d))
  }

  blobPath(digest: string): string {
    const hex = hexOf(digest)
    return join(this.root, 'blobs', algorithmOf(digest), hex.slice(0, 2), hex)
  }
  repoDir(name: string): string {
    return join(this.root, 'repositories', name)
  }
  layerLink(name: string, digest: string): string {
    return join(this.repoDir(name), '_layers', algorithmOf(digest), hexOf(digest))
  }
  revisionLink(name: string, digest: string): string {
    return join(this.repoDir(name), '_manifests', 'revisions', algorithmOf(digest), hexOf(digest))
  }
  tagFile(name: string, tag: string): string {
    return join(this.repoDir(name), '_manifests', 'tags', tag)
  }
  referrersDir(name: string, subject: string): string {
    return join(this.repoDir(name), '_referrers', algorithmOf(subject), hexOf(subject))
  }
  uploadDir(uuid: string): string {
    return join(this.root, 'uploads', uuid)
  }

  async repoExists(name: string): Promise<boolean> {
    return exists(join(this.repoDir(name), '_manifests')).then(async (m) => m || exists(join(this.repoDir(name), '_layers')))
  }

  // ---- blobs ----

  /** The size of a blob the repository holds, or undefined. */
  async statBlob(name: string, digest: string): Promise<number | undefined> {
    if (!(await exists(this.layerLink(name, digest))) && !(await exists(this.revisionLink(name, digest)))) return undefined
    try {
      return (await stat(this.blobPath(digest))).size
    } catch (err) {
      if (isNotFoundErrno(err)) return undefined
      throw err
    }
  }

  openBlob(digest: string, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.blobPath(digest), range ? { start: range.start, end: range.end } : {})
  }

  async deleteBlob(name: string, digest: string): Promise<void> {
    try {
      await unlink(this.layerLink(name, digest))
    } catch (err) {
      if (isNotFoundErrno(err)) throw regErr('BLOB_UNKNOWN', undefined, { digest })
      throw err
    }
  }

  /** Link a blob another repository holds into this one (a cross-repository mount). False when it is not there. */
  async mountBlob(name: string, from: string, digest: string): Promise<boolean> {
    if ((await this.statBlob(from, digest)) === undefined) return false
    try {
      // A fresh mtime tells a concurrent GC this blob is in use again (gc.ts restores it).
      const now = new Date()
      await utimes(this.blobPath(digest), now, now)
    } catch (err) {
      if (isNotFoundErrno(err)) return false
      throw err
    }
    await this.#writeLink(this.layerLink(name, digest), '')
    return true
  }

  /** A link file: written whole to a temp file, renamed into place, its directory synced. */
  async #writeLink(path: string, content: string): Promise<void> {
    if (content !== '') return writeFileAtomic(path, content)
    // An empty file has no data to sync: only the rename must be durable.
    await mkdir(dirname(path), { recursive: true })
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
    await (await open(tmp, 'w')).close()
    await rename(tmp, path)
    await fsyncDir(dirname(path))
  }

  // ---- uploads ----

  async startUpload(name: string, algorithm: 'sha256' | 'sha512' = 'sha256'): Promise<string> {
    const uuid = randomUUID()
    const dir = this.uploadDir(uuid)
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'data'), '')
    await writeFile(join(dir, 'info.json'), JSON.stringify({ name, algorithm, startedAt: new Date().toISOString() }))
    this.#uploads.set(uuid, { name, algorithm, size: 0, hash: createHash(algorithm) })
    return uuid
  }

  async #upload(name: string, uuid: string): Promise<UploadState> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)) throw regErr('BLOB_UPLOAD_UNKNOWN', undefined, { uuid })
    let st = this.#uploads.get(uuid)
    if (!st) {
      // Another process (or a restart) left this upload: its hash is recomputed at the end.
      let info: { name: string; algorithm?: 'sha256' | 'sha512' }
      try {
        info = JSON.parse(await readFile(join(this.uploadDir(uuid), 'info.json'), 'utf8')) as typeof info
      } catch (err) {
        if (isNotFoundErrno(err)) throw regErr('BLOB_UPLOAD_UNKNOWN', undefined, { uuid })
        throw err
      }
      const size = (await stat(join(this.uploadDir(uuid), 'data'))).size
      st = { name: info.name, algorithm: info.algorithm ?? 'sha256', size, hash: undefined }
      this.#uploads.set(uuid, st)
    }
    if (st.name !== name) throw regErr('BLOB_UPLOAD_UNKNOWN', undefined, { uuid })
    return st
  }

  async uploadStatus(name: string, uuid: string): Promise<number> {
    await using _ = await this.#uploadLock.acquire(uuid)
    return (await this.#upload(name, uuid)).size
  }

  /**
   * Append a chunk. `start` (from Content-Range) must be the current size, else RANGE_INVALID;
   * a body that ends early is cut off again, so the upload stays at its previous size.
   */
  async appendUpload(name: string, uuid: string, body: Readable, range?: { start: number; end: number }, length?: number, onBytes?: (n: number) => void): Promise<number> {
    await using _ = await this.#uploadLock.acquire(uuid)
    const st = await this.#upload(name, uuid)
    if (range) {
      if (range.start !== st.size || range.end < range.start) throw regErr('RANGE_INVALID', undefined, { size: st.size }, 416)
      if (length !== undefined && length !== range.end - range.start + 1) throw regErr('SIZE_INVALID', undefined, { length, range })
    }
    const before = st.size
    const data = join(this.uploadDir(uuid), 'data')
    const out = createWriteStream(data, { flags: 'a' })
    const hash = st.hash
    let n = 0
    body.on('data', (c: Buffer) => { n += c.length; hash?.update(c); onBytes?.(c.length) })
    try {
      await pipeline(body, out)
      if ((body as { complete?: boolean }).complete === false) throw new Error('request aborted')
    } catch (err) {
      // A client that went away mid-chunk: undo the partial chunk; the running hash is spoilt.
      await truncate(data, before).catch(() => undefined)
      st.size = before
      st.hash = undefined
      throw err
    }
    st.size = before + n
    if (range && st.size !== range.end + 1) {
      await truncate(data, before)
      st.size = before
      st.hash = undefined
      throw regErr('SIZE_INVALID', undefined, { range, received: n })
    }
    return st.size
  }

  /** Verify the upload against `digest` and make it the blob: DIGEST_INVALID (and the upload removed) when it differs. */
  async finishUpload(name: string, uuid: string, digest: string): Promise<number> {
    await using _ = await this.#uploadLock.acquire(uuid)
    const st = await this.#upload(name, uuid)
    const data = join(this.uploadDir(uuid), 'data')
    let actual: string
    if (st.hash && algorithmOf(digest) === st.algorithm) actual = `${st.algorithm}:${st.hash.copy().digest('hex')}`
    else actual = await hashFile(data, algorithmOf(digest))
    if (actual !== digest) {
      await this.cancelUpload(name, uuid, true)
      throw regErr('DIGEST_INVALID', undefined, { expected: digest, actual })
    }
    const fh = await open(data, 'r')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
    const target = this.blobPath(digest)
    await mkdir(dirname(target), { recursive: true })
    // Same content, so replacing an existing copy is harmless, and the fresh mtime tells a
    // concurrent GC that the blob is wanted.
    await rename(data, target)
    await fsyncDir(dirname(target))
    await this.#writeLink(this.layerLink(name, digest), '')
    this.#uploads.delete(uuid)
    await rm(this.uploadDir(uuid), { recursive: true, force: true })
    return st.size
  }

  /** A monolithic upload: the whole blob in one body. */
  async putBlob(name: string, digest: string, body: Readable, length?: number, onBytes?: (n: number) => void): Promise<number> {
    const uuid = await this.startUpload(name, algorithmOf(digest))
    try {
      const size = await this.appendUpload(name, uuid, body, undefined, undefined, onBytes)
      if (length !== undefined && size !== length) throw regErr('SIZE_INVALID', undefined, { length, received: size })
      return await this.finishUpload(name, uuid, digest)
    } catch (err) {
      await this.cancelUpload(name, uuid, true).catch(() => undefined)
      throw err
    }
  }

  async cancelUpload(name: string, uuid: string, locked = false): Promise<void> {
    const held = locked ? undefined : await this.#uploadLock.acquire(uuid)
    try {
      await this.#upload(name, uuid)
      this.#uploads.delete(uuid)
      await rm(this.uploadDir(uuid), { recursive: true, force: true })
    } finally {
      held?.release()
    }
  }

  // ---- manifests ----

  /** Resolve a tag or digest to the manifest digest the repository holds, or undefined. */
  async resolve(name: string, ref: { tag?: string; digest?: string }): Promise<string | undefined> {
    let digest = ref.digest
    if (ref.tag !== undefined) {
      try {
        digest = (await readFile(this.tagFile(name, ref.tag), 'utf8')).trim()
      } catch (err) {
        if (isNotFoundErrno(err)) return undefined
        throw err
      }
    }
    if (!digest || !isDigest(digest)) return undefined
    return (await exists(this.revisionLink(name, digest))) ? digest : undefined
  }

  async getManifest(name: string, ref: { tag?: string; digest?: string }): Promise<{ digest: string; mediaType: string; body: Buffer } | undefined> {
    let digest = ref.digest
    if (ref.tag !== undefined) {
      try {
        digest = (await readFile(this.tagFile(name, ref.tag), 'utf8')).trim()
      } catch (err) {
        if (isNotFoundErrno(err)) return undefined
        throw err
      }
    }
    if (!digest || !isDigest(digest)) return undefined
    // The revision link says both that the repository holds it and its media type.
    let mediaType: string
    try {
      mediaType = (await readFile(this.revisionLink(name, digest), 'utf8')).trim()
    } catch (err) {
      if (isNotFoundErrno(err)) return undefined
      throw err
    }
    let body = this.#manifestCache.get(digest)
    if (!body) {
      try {
        body = await readFile(this.blobPath(digest))
      } catch (err) {
        if (isNotFoundErrno(err)) return undefined
        throw err
      }
      if (this.#manifestCache.size > 4096) this.#manifestCache.clear()
      this.#manifestCache.set(digest, body)
    }
    return { digest, mediaType: mediaType || parseManifest(body, undefined).mediaType, body }
  }

  /**
   * Store a manifest: validated, its blobs and child manifests found in the repository (else
   * MANIFEST_BLOB_UNKNOWN), written under a GC hold, then tagged. Returns its digest and parse.
   */
  async putManifest(name: string, ref: { tag?: string; digest?: string }, body: Buffer, contentType: string | undefined, extraTags: string[] = []): Promise<{ digest: string; manifest: ParsedManifest }> {
    if (body.length > MAX_MANIFEST) throw regErr('MANIFEST_INVALID', 'manifest too big', { size: body.length, limit: MAX_MANIFEST }, 413)
    const alg = ref.digest ? algorithmOf(ref.digest) : 'sha256'
    const digest = `${alg}:${createHash(alg).update(body).digest('hex')}`
    if (ref.digest && ref.digest !== digest) throw regErr('DIGEST_INVALID', undefined, { expected: ref.digest, actual: digest })
    for (const t of extraTags) if (!isTag(t)) throw regErr('TAG_INVALID', 'invalid tag', { tag: t })
    const m = parseManifest(body, contentType)
    const hold = await this.hold(name, [...m.blobs, ...m.manifests, digest])
    try {
      for (const b of m.blobs) {
        if ((await this.statBlob(name, b)) === undefined) throw regErr('MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { digest: b })
      }
      for (const c of m.manifests) {
        if (!(await exists(this.revisionLink(name, c)))) throw regErr('MANIFEST_BLOB_UNKNOWN', 'manifest unknown to registry', { digest: c })
      }
      const path = this.blobPath(digest)
      await writeFileAtomic(path, body)
      await this.#writeLink(this.revisionLink(name, digest), m.mediaType)
      if (m.subject) {
        await writeFileAtomic(join(this.referrersDir(name, m.subject.digest), `${alg}-${hexOf(digest)}`), JSON.stringify(referrerDescriptor(m, digest, body.length)))
      }
      for (const t of [...(ref.tag !== undefined ? [ref.tag] : []), ...extraTags]) await writeFileAtomic(this.tagFile(name, t), digest)
    } finally {
      await hold.release()
    }
    return { digest, manifest: m }
  }

  /** Delete a tag, or a manifest by digest with every tag pointing at it. */
  async deleteManifest(name: string, ref: { tag?: string; digest?: string }): Promise<void> {
    if (ref.tag !== undefined) {
      try {
        await unlink(this.tagFile(name, ref.tag))
      } catch (err) {
        if (isNotFoundErrno(err)) throw regErr('MANIFEST_UNKNOWN', undefined, { tag: ref.tag })
        throw err
      }
      return
    }
    const digest = ref.digest!
    const got = await this.getManifest(name, { digest })
    if (!got) throw regErr('MANIFEST_UNKNOWN', undefined, { digest })
    for (const t of await this.listTags(name)) {
      if ((await readFile(this.tagFile(name, t), 'utf8').catch(() => '')).trim() === digest) await rm(this.tagFile(name, t), { force: true })
    }
    await rm(this.revisionLink(name, digest), { force: true })
    try {
      const m = parseManifest(got.body, got.mediaType)
      if (m.subject) await rm(join(this.referrersDir(name, m.subject.digest), `${algorithmOf(digest)}-${hexOf(digest)}`), { force: true })
    } catch {
      // A manifest stored before is valid; nothing to unindex if it cannot be read as one.
    }
  }

  async listTags(name: string): Promise<string[]> {
    try {
      return (await readdir(join(this.repoDir(name), '_manifests', 'tags'))).filter((t) => isTag(t)).sort()
    } catch (err) {
      if (isNotFoundErrno(err)) return []
      throw err
    }
  }

  async listReferrers(name: string, subject: string): Promise<Descriptor[]> {
    let files: string[]
    try {
      files = await readdir(this.referrersDir(name, subject))
    } catch (err) {
      if (isNotFoundErrno(err)) return []
      throw err
    }
    const out: Descriptor[] = []
    for (const f of files.sort()) {
      if (f.startsWith('.')) continue
      const d = JSON.parse(await readFile(join(this.referrersDir(name, subject), f), 'utf8').catch(() => 'null')) as Descriptor | null
      if (d && (await exists(this.revisionLink(name, d.digest)))) out.push(d)
    }
    return out
  }

  /** Every repository name, sorted. */
  async listRepositories(): Promise<string[]> {
    const out: string[] = []
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await dirEntries(dir)
      if (entries.some((e) => e.name === '_manifests')) out.push(prefix)
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('_') && !e.name.startsWith('.')) await walk(join(dir, e.name), prefix ? `${prefix}/${e.name}` : e.name)
      }
    }
    await walk(join(this.root, 'repositories'), '')
    return out.sort()
  }

  // ---- GC holds ----

  /** Record digests about to be referenced, so a concurrent GC keeps them (see gc.ts). */
  async hold(repo: string, digests: string[]): Promise<{ release(): Promise<void> }> {
    const path = join(this.root, 'gc-holds', `${Date.now()}-${randomBytes(6).toString('hex')}`)
    await writeFileAtomic(path, JSON.stringify({ repo, digests }))
    return { release: () => rm(path, { force: true }) }
  }

  forgetCached(digest: string): void {
    this.#manifestCache.delete(digest)
  }
}

interface UploadState {
  name: string
  algorithm: 'sha256' | 'sha512'
  size: number
  /** The running hash of the data, or undefined when it must be recomputed from the file. */
  hash: Hash | undefined
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if (isNotFoundErrno(err) || errno(err) === 'ENOTDIR') return false
    throw err
  }
}

export async function hashFile(path: string, algorithm: 'sha256' | 'sha512'): Promise<string> {
  const h = createHash(algorithm)
  for await (const c of createReadStream(path)) h.update(c as Buffer)
  return `${algorithm}:${h.digest('hex')}`
}

/** A directory's entries; none when it does not exist. */
async function dirEntries(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true })
  } catch (err) {
    if (isNotFoundErrno(err)) return []
    throw err
  }
}

async function removeTempFiles(dir: string): Promise<void> {
  for (const e of await dirEntries(dir)) {
    if (e.name.startsWith(TMP_MARK)) await rm(join(dir, e.name), { force: true, recursive: true })
    else if (e.isDirectory()) await removeTempFiles(join(dir, e.name))
  }
}

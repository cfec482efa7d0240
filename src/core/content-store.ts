import { createHash, type Hash } from 'node:crypto'
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { digestHex, isDigest, type Digest } from '../lib/digest.js'
import { EngineError, invalid, isNotFoundErrno, notFound } from '../lib/errors.js'
import { TMP_MARK } from '../lib/fs.js'
import { KeyedLock } from '../lib/lock.js'

/**
 * Blobs an operation has written (or found) and not yet referenced from an image record. GC
 * leaves leased blobs alone, so a load or import running next to a prune keeps its blobs.
 * `release` when the blobs are referenced (or the operation failed).
 */
export interface BlobLease {
  add(digest: Digest): void
  release(): void
}

/** A blob being written: bytes are hashed as they arrive; commit verifies and publishes. */
export interface BlobWriter {
  write(chunk: Buffer): Promise<void>
  /** Verify (when `expected` is given) and move the blob into place. Returns its digest and size. */
  commit(expected?: string): Promise<{ digest: Digest; size: number }>
  abort(): Promise<void>
  readonly size: number
}

/**
 * Content-addressed, immutable blobs. The contract (content-store.testsuite.ts checks it):
 * - A blob is named by the sha256 of its bytes; it is either whole or absent: a writer that is
 *   aborted, fails, or does not match `expected` leaves nothing visible, and nothing after a crash
 *   (`init` discards half-written blobs).
 * - Writing a blob that exists already succeeds and changes nothing.
 * - `read` of a missing blob rejects NotFound (ERR_BLOB_NOT_FOUND); a malformed digest is
 *   InvalidArgument (ERR_INVALID_DIGEST); a mismatch with `expected` is InvalidArgument
 *   (ERR_DIGEST_MISMATCH).
 * - A leased blob, or one `inUse` says is referenced, survives `deleteUnused`; `delete` removes
 *   unconditionally; deleting a missing blob is fine.
 */
export interface BlobStore {
  init(): Promise<void>
  has(digest: string): Promise<boolean>
  /** Bytes of the blob, or undefined when absent. */
  size(digest: string): Promise<number | undefined>
  read(digest: string): Promise<Buffer>
  /** Stream a blob (not buffered); a missing blob errors the stream with ENOENT. */
  createReadStream(digest: string): NodeJS.ReadableStream & AsyncIterable<unknown>
  /** Stream bytes in; with a lease, the blob is leased before it becomes visible. */
  writer(lease?: BlobLease): BlobWriter
  put(data: Buffer | string, expected?: string, lease?: BlobLease): Promise<Digest>
  lease(): BlobLease
  /** Delete unless leased or `inUse`; returns whether it was deleted. */
  deleteUnused(digest: string, inUse: (digest: string) => boolean): Promise<boolean>
  delete(digest: string): Promise<void>
  list(): Promise<Digest[]>
}

/**
 * Content-addressed blob store: `content/sha256/<hex>`. Every write goes to a temp file that
 * is renamed into place once its digest is known and verified, so a blob is either whole or
 * absent. Blobs are immutable.
 */
export class ContentStore implements BlobStore {
  readonly root: string
  readonly #ingest: string
  /** digest → number of live leases holding it */
  #leased = new Map<string, number>()
  /** Publishing a blob and deleting it are serialised per digest. */
  #locks = new KeyedLock()

  constructor(dataRoot: string) {
    this.root = join(dataRoot, 'content')
    this.#ingest = join(this.root, 'ingest')
  }

  async init(): Promise<void> {
    await mkdir(join(this.root, 'sha256'), { recursive: true })
    // Half-written blobs from a crash are garbage.
    await rm(this.#ingest, { recursive: true, force: true })
    await mkdir(this.#ingest, { recursive: true })
  }

  path(digest: string): string {
    if (!isDigest(digest) || !digest.startsWith('sha256:')) throw invalid('ERR_INVALID_DIGEST', `invalid digest: ${digest}`)
    return join(this.root, 'sha256', digestHex(digest))
  }

  async has(digest: string): Promise<boolean> {
    return (await this.size(digest)) !== undefined
  }

  async size(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(digest))).size
    } catch (err) {
      if (isNotFoundErrno(err)) return undefined
      throw err
    }
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest))
    } catch (err) {
      if (isNotFoundErrno(err)) throw notFound('ERR_BLOB_NOT_FOUND', `blob ${digest} not found`)
      throw err
    }
  }

  createReadStream(digest: string) {
    return createReadStream(this.path(digest))
  }

  /** A blob writer; with a lease, the blob is leased before it becomes visible. */
  writer(lease?: BlobLease): BlobWriter {
    return new FileBlobWriter(join(this.#ingest, `${TMP_MARK}${randomBytes(8).toString('hex')}`), async (tmp, d) => {
      await using _ = await this.#locks.acquire(d)
      lease?.add(d)
      await rename(tmp, this.path(d))
    })
  }

  async put(data: Buffer | string, expected?: string, lease?: BlobLease): Promise<Digest> {
    const w = this.writer(lease)
    try {
      await w.write(Buffer.isBuffer(data) ? data : Buffer.from(data))
      return (await w.commit(expected)).digest
    } catch (err) {
      await w.abort()
      throw err
    }
  }

  lease(): BlobLease {
    const held: string[] = []
    let released = false
    return {
      add: (d) => {
        if (released) throw new Error('blob lease used after release')
        held.push(d)
        this.#leased.set(d, (this.#leased.get(d) ?? 0) + 1)
      },
      release: () => {
        if (released) return
        released = true
        for (const d of held) {
          const n = (this.#leased.get(d) ?? 1) - 1
          if (n <= 0) this.#leased.delete(d)
          else this.#leased.set(d, n)
        }
      },
    }
  }

  /**
   * Delete a blob unless it is leased or `inUse` (asked at the last moment) says something
   * references it. Serialised with publishing the same digest, so a blob being written again
   * concurrently is never lost. Returns whether it was deleted.
   */
  async deleteUnused(digest: string, inUse: (digest: string) => boolean): Promise<boolean> {
    await using _ = await this.#locks.acquire(digest)
    if (this.#leased.has(digest) || inUse(digest)) return false
    try {
      await unlink(this.path(digest))
      return true
    } catch (err) {
      if (isNotFoundErrno(err)) return false
      throw err
    }
  }

  async delete(digest: string): Promise<void> {
    try {
      await unlink(this.path(digest))
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
  }

  async list(): Promise<Digest[]> {
    const names = await readdir(join(this.root, 'sha256'))
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}` as Digest)
  }
}

class FileBlobWriter implements BlobWriter {
  #hash: Hash = createHash('sha256')
  #out: WriteStream
  #opened: Promise<void>
  #failed?: Error
  #done = false
  size = 0

  constructor(private readonly tmp: string, private readonly publish: (tmp: string, d: Digest) => Promise<void>) {
    this.#out = createWriteStream(tmp, { flags: 'wx' })
    this.#opened = new Promise((resolve, reject) => {
      this.#out.once('open', () => resolve())
      this.#out.once('error', reject)
    })
    this.#out.on('error', (err) => (this.#failed = err))
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.#failed) throw this.#failed
    this.#hash.update(chunk)
    this.size += chunk.length
    if (!this.#out.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onErr = (e: Error) => reject(e)
        this.#out.once('drain', () => { this.#out.off('error', onErr); resolve() })
        this.#out.once('error', onErr)
      })
    }
  }

  async commit(expected?: string): Promise<{ digest: Digest; size: number }> {
    await this.#opened
    await new Promise<void>((resolve, reject) => this.#out.end((err?: Error | null) => (err ? reject(err) : resolve())))
    if (this.#failed) throw this.#failed
    const digest: Digest = `sha256:${this.#hash.digest('hex')}`
    this.#done = true
    if (expected !== undefined && expected !== digest) {
      await rm(this.tmp, { force: true })
      throw new EngineError('InvalidArgument', 'ERR_DIGEST_MISMATCH', `digest mismatch: expected ${expected}, got ${digest}`)
    }
    try {
      await this.publish(this.tmp, digest)
    } catch (err) {
      await rm(this.tmp, { force: true })
      throw err
    }
    return { digest, size: this.size }
  }

  async abort(): Promise<void> {
    if (this.#done) return
    this.#done = true
    this.#out.destroy()
    await rm(this.tmp, { force: true })
  }
}

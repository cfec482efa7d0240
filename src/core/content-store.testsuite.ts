/** The BlobStore contract (content-store.ts) as tests: every implementation must pass them. */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { isKind } from '../lib/errors.js'
import type { BlobStore } from './content-store.js'

export interface BlobStoreFixture {
  store: BlobStore
  /** A second instance over the same storage, as after a restart (init not yet called). */
  reopen(): BlobStore
  cleanup(): Promise<void>
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`
const BAD = `sha256:${'0'.repeat(64)}`

async function readAllStream(s: AsyncIterable<unknown>): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const c of s) out.push(c as Buffer)
  return Buffer.concat(out)
}

export function blobStoreSuite(name: string, make: () => Promise<BlobStoreFixture>): void {
  const withStore = (fn: (fx: BlobStoreFixture) => Promise<void>) => async () => {
    const fx = await make()
    try {
      await fx.store.init()
      await fn(fx)
    } finally {
      await fx.cleanup()
    }
  }

  describe(`BlobStore contract: ${name}`, () => {
    it('put names a blob by its sha256; has, size, read, stream and list agree', withStore(async ({ store }) => {
      const d = await store.put('hello blob')
      assert.equal(d, sha('hello blob'))
      assert.equal(await store.has(d), true)
      assert.equal(await store.size(d), 10)
      assert.equal((await store.read(d)).toString(), 'hello blob')
      assert.equal((await readAllStream(store.createReadStream(d))).toString(), 'hello blob')
      assert.deepEqual(await store.list(), [d])
    }))

    it('a writer hashes streamed chunks and reports the size', withStore(async ({ store }) => {
      const w = store.writer()
      const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(64 * 1024, i))
      for (const c of chunks) await w.write(c)
      assert.equal(w.size, 40 * 64 * 1024)
      const all = Buffer.concat(chunks)
      const r = await w.commit(sha(all))
      assert.deepEqual(r, { digest: sha(all), size: all.length })
      assert.ok((await store.read(r.digest)).equals(all))
    }))

    it('a digest mismatch is InvalidArgument and leaves nothing', withStore(async ({ store }) => {
      await assert.rejects(store.put('x', BAD), (e) => isKind(e, 'InvalidArgument') && (e as { code?: string }).code === 'ERR_DIGEST_MISMATCH')
      assert.equal(await store.has(sha('x')), false)
      assert.equal(await store.has(BAD), false)
      assert.deepEqual(await store.list(), [])
    }))

    it('an aborted writer leaves nothing', withStore(async ({ store }) => {
      const w = store.writer()
      await w.write(Buffer.from('partial'))
      await w.abort()
      await w.abort() // twice is fine
      assert.deepEqual(await store.list(), [])
    }))

    it('writing an existing blob again succeeds, also concurrently', withStore(async ({ store }) => {
      const [a, b, c] = await Promise.all([store.put('same'), store.put('same'), store.put('same', sha('same'))])
      assert.equal(a, b)
      assert.equal(b, c)
      assert.deepEqual(await store.list(), [a])
      assert.equal((await store.read(a)).toString(), 'same')
    }))

    it('missing and malformed digests', withStore(async ({ store }) => {
      await assert.rejects(store.read(BAD), (e) => isKind(e, 'NotFound') && (e as { code?: string }).code === 'ERR_BLOB_NOT_FOUND')
      assert.equal(await store.has(BAD), false)
      assert.equal(await store.size(BAD), undefined)
      await assert.rejects(store.read('sha256:nothex'), (e) => isKind(e, 'InvalidArgument') && (e as { code?: string }).code === 'ERR_INVALID_DIGEST')
      await assert.rejects(readAllStream(store.createReadStream(BAD)), (e: NodeJS.ErrnoException) => e.code === 'ENOENT')
      await store.delete(BAD) // missing: fine
    }))

    it('leased or in-use blobs survive deleteUnused; released ones go', withStore(async ({ store }) => {
      const lease = store.lease()
      const d = await store.put('leased', undefined, lease)
      assert.equal(await store.deleteUnused(d, () => false), false)
      lease.release()
      lease.release() // twice is fine
      assert.throws(() => lease.add(d))
      assert.equal(await store.deleteUnused(d, () => true), false)
      assert.equal(await store.has(d), true)
      assert.equal(await store.deleteUnused(d, () => false), true)
      assert.equal(await store.has(d), false)
      assert.equal(await store.deleteUnused(d, () => false), false)
    }))

    it('a writer holding a lease leases the blob before it is visible', withStore(async ({ store }) => {
      const lease = store.lease()
      const w = store.writer(lease)
      await w.write(Buffer.from('via writer'))
      const { digest } = await w.commit()
      assert.equal(await store.deleteUnused(digest, () => false), false)
      lease.release()
      assert.equal(await store.deleteUnused(digest, () => false), true)
    }))

    it('delete removes unconditionally', withStore(async ({ store }) => {
      const lease = store.lease()
      const d = await store.put('gone', undefined, lease)
      await store.delete(d)
      assert.equal(await store.has(d), false)
      lease.release()
    }))

    it('after a restart: committed blobs are there, half-written ones are not', withStore(async (fx) => {
      const d = await fx.store.put('kept')
      const w = fx.store.writer()
      await w.write(Buffer.from('never committed'))
      const again = fx.reopen()
      await again.init()
      assert.deepEqual(await again.list(), [d])
      assert.equal((await again.read(d)).toString(), 'kept')
      assert.equal(await again.has(sha('never committed')), false)
      await w.abort()
    }))
  })
}

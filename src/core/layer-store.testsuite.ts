/** The LayerStorage contract (layer-store.ts) as tests: every implementation must pass them. */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { lstat, readFile, readlink, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import * as tarStream from 'tar-stream'
import { chainIds, type Digest } from '../lib/digest.js'
import { isKind } from '../lib/errors.js'
import { realPlatform } from '../platform/platform.js'
import type { LayerStorage, StagedLayer } from './layer-store.js'

export interface LayerStorageFixture {
  store: LayerStorage
  /** A second instance over the same storage, as after a restart (init not yet called). */
  reopen(): LayerStorage
  /** Everything the store keeps on disk, to check that failures leave nothing. */
  root: string
  cleanup(): Promise<void>
}

export type TarEntry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string; linkname?: string; uid?: number; gid?: number; mode?: number }

/** An uncompressed tar of these entries. */
export async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const pack = tarStream.pack()
  const out: Buffer[] = []
  pack.on('data', (b: unknown) => { out.push(b as Buffer) })
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()))
  for (const e of entries) {
    const type = e.type ?? 'file'
    const header = { name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: new Date(1_700_000_000_000), ...(e.linkname !== undefined ? { linkname: e.linkname } : {}) }
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      if (type === 'file') pack.entry(header, e.body ?? '', cb)
      else pack.entry(header, cb).end(undefined)
    })
  }
  pack.finalize()
  await ended
  return Buffer.concat(out)
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest

async function extract(store: LayerStorage, tar: Buffer, chunk = 1000): Promise<StagedLayer> {
  const x = await store.extractor()
  try {
    for (let i = 0; i < tar.length; i += chunk) await x.write(tar.subarray(i, i + chunk))
    return await x.finish()
  } catch (err) {
    await x.abort()
    throw err
  }
}

/** Names under the store root other than bookkeeping (`.trash` may hold what is being purged). */
async function entries(root: string): Promise<string[]> {
  return (await readdir(root)).filter((n) => n !== '.trash').sort()
}

export function layerStorageSuite(name: string, make: () => Promise<LayerStorageFixture>, opts: { root: boolean }): void {
  const withStore = (fn: (fx: LayerStorageFixture) => Promise<void>) => async () => {
    const fx = await make()
    try {
      await fx.store.init()
      await fn(fx)
    } finally {
      await fx.store.settle()
      await fx.cleanup()
    }
  }
  const needsRoot = 'needs root: tar keeps owners only as root, and overlay whiteouts are device nodes and trusted.* xattrs'

  describe(`LayerStorage contract: ${name}`, () => {
    it('extracts a layer: diffId is the tar digest, size the regular files, contents kept', withStore(async ({ store }) => {
      const tar = await tarOf([
        { name: 'etc/', type: 'directory' },
        { name: 'etc/motd', body: 'hello\n', mode: 0o640 },
        { name: 'etc/link', type: 'symlink', linkname: 'motd' },
        { name: 'etc/hard', type: 'link', linkname: 'etc/motd' },
        { name: 'bin/tool', body: 'x'.repeat(3000), mode: 0o755 },
      ])
      const staged = await extract(store, tar, 700)
      assert.equal(staged.diffId, sha(tar))
      assert.equal(staged.size, 6 + 3000)
      const rec = await store.commit(staged, undefined)
      assert.deepEqual(rec, { chainId: sha(tar), diffId: sha(tar), size: 3006 })
      assert.equal(store.has(rec.chainId), true)
      assert.deepEqual(store.get(rec.chainId), rec)
      assert.deepEqual(store.list(), [rec])
      const diff = store.diffPath(rec.chainId)
      assert.equal(await readFile(join(diff, 'etc/motd'), 'utf8'), 'hello\n')
      assert.equal((await lstat(join(diff, 'etc/motd'))).mode & 0o7777, 0o640)
      assert.equal(await readlink(join(diff, 'etc/link')), 'motd')
      assert.equal((await lstat(join(diff, 'etc/hard'))).ino, (await lstat(join(diff, 'etc/motd'))).ino)
      assert.equal((await lstat(join(diff, 'bin/tool'))).mode & 0o777, 0o755)
      assert.deepEqual(store.lowerDirs(rec.chainId), [diff])
    }))

    it('keeps numeric owners', async (t) => {
      if (!opts.root) return t.skip(needsRoot)
      await withStore(async ({ store }) => {
        const rec = await store.commit(await extract(store, await tarOf([{ name: 'owned', body: 'o', uid: 1234, gid: 5678 }])), undefined)
        const st = await lstat(join(store.diffPath(rec.chainId), 'owned'))
        assert.deepEqual([st.uid, st.gid], [1234, 5678])
      })()
    })

    it('stacks a child: chainId from the parent, whiteouts become overlay whiteouts, lowerDirs topmost first', async (t) => {
      if (!opts.root) return t.skip(needsRoot)
      await withStore(async ({ store }) => {
        const base = await tarOf([{ name: 'a', body: 'a' }, { name: 'd/', type: 'directory' }, { name: 'd/old', body: 'old' }])
        const parent = await store.commit(await extract(store, base), undefined)
        const top = await tarOf([{ name: '.wh.a', body: '' }, { name: 'd/', type: 'directory' }, { name: 'd/.wh..wh..opq', body: '' }, { name: 'd/new', body: 'new' }])
        const child = await store.commit(await extract(store, top), parent.chainId)
        assert.equal(child.chainId, chainIds([parent.chainId, sha(top)])[1])
        assert.equal(child.parent, parent.chainId)
        assert.equal(child.size, 3, 'whiteout markers are empty files; only d/new counts')
        const diff = store.diffPath(child.chainId)
        const wh = await lstat(join(diff, 'a'))
        assert.ok(wh.isCharacterDevice())
        assert.equal(wh.rdev, 0)
        await assert.rejects(lstat(join(diff, '.wh.a')), { code: 'ENOENT' })
        await assert.rejects(lstat(join(diff, 'd/.wh..wh..opq')), { code: 'ENOENT' })
        assert.deepEqual(await realPlatform().fileTools.findOpaque(diff), [join(diff, 'd')])
        assert.deepEqual(store.lowerDirs(child.chainId), [diff, store.diffPath(parent.chainId)])
      })()
    })

    it('committing an existing chain returns the existing record and drops the staged copy', withStore(async ({ store, root }) => {
      const tar = await tarOf([{ name: 'f', body: 'same' }])
      const first = await store.commit(await extract(store, tar), undefined)
      const before = await entries(root)
      const second = await store.commit(await extract(store, tar), undefined)
      assert.deepEqual(second, first)
      assert.deepEqual(store.list(), [first])
      await store.settle()
      assert.deepEqual(await entries(root), before)
    }))

    it('a malformed or truncated tar is InvalidArgument ERR_BAD_LAYER and leaves nothing', withStore(async ({ store, root }) => {
      const before = await entries(root)
      const good = await tarOf([{ name: 'big', body: 'y'.repeat(5000) }])
      for (const bad of [Buffer.alloc(1024, 7), good.subarray(0, 2048)]) {
        await assert.rejects(extract(store, bad), (e) => isKind(e, 'InvalidArgument') && (e as { code?: string }).code === 'ERR_BAD_LAYER')
      }
      await store.settle()
      assert.deepEqual(await entries(root), before)
      assert.deepEqual(store.list(), [])
    }))

    it('nothing is written outside the layer', withStore(async ({ store, root }) => {
      const escape = await tarOf([{ name: '../escaped', body: 'no' }, { name: 'in', body: 'yes' }])
      const staged = await extract(store, escape).catch((e: unknown) => e)
      if (!(staged instanceof Error)) await store.commit(staged as StagedLayer, undefined)
      await assert.rejects(lstat(join(root, 'escaped')), { code: 'ENOENT' })
      for (const n of await readdir(root)) await assert.rejects(lstat(join(root, n, 'escaped')), { code: 'ENOENT' })
    }))

    it('a whiteout behind a symlink does not redirect outside the layer', async (t) => {
      if (!opts.root) return t.skip(needsRoot)
      await withStore(async ({ store, root }) => {
        const tar = await tarOf([{ name: 'out', type: 'symlink', linkname: root }, { name: 'out/.wh.victim', body: '' }])
        const { mkdir, writeFile } = await import('node:fs/promises')
        await mkdir(join(root, 'victim-dir'), { recursive: true })
        await writeFile(join(root, 'victim'), 'still here')
        // Refusing the layer (tar will not write through the link) or taking it: either way the victim stays.
        const staged = await extract(store, tar).catch((e: unknown) => e)
        if (staged instanceof Error) assert.ok(isKind(staged, 'InvalidArgument'), String(staged))
        else await store.commit(staged as StagedLayer, undefined)
        assert.equal(await readFile(join(root, 'victim'), 'utf8'), 'still here')
      })()
    })

    it('abort leaves nothing', withStore(async ({ store, root }) => {
      const before = await entries(root)
      const x = await store.extractor()
      await x.write((await tarOf([{ name: 'f', body: 'z'.repeat(20000) }])).subarray(0, 4096))
      await x.abort()
      await x.abort()
      await store.settle()
      assert.deepEqual(await entries(root), before)
    }))

    it('remove makes a layer absent at once and its files go', withStore(async ({ store, root }) => {
      const before = await entries(root)
      const rec = await store.commit(await extract(store, await tarOf([{ name: 'f', body: 'bye' }])), undefined)
      await store.remove(rec.chainId)
      assert.equal(store.has(rec.chainId), false)
      assert.equal(store.get(rec.chainId), undefined)
      await store.settle()
      assert.deepEqual(await entries(root), before)
      await store.remove(rec.chainId) // absent: fine
    }))

    it('after a restart exactly the committed layers are there', withStore(async (fx) => {
      const rec = await fx.store.commit(await extract(fx.store, await tarOf([{ name: 'kept', body: 'k' }])), undefined)
      const staged = await extract(fx.store, await tarOf([{ name: 'never', body: 'n' }]))
      const again = fx.reopen()
      await again.init()
      await again.settle()
      assert.deepEqual(again.list(), [rec])
      assert.equal(await readFile(join(again.diffPath(rec.chainId), 'kept'), 'utf8'), 'k')
      assert.equal(again.has(staged.diffId), false)
      await fx.store.discard(staged)
    }))
  })
}

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tarStream from 'tar-stream'
import { extractContext, MemContext } from './context.js'
import { globSources, walkDir } from './files.js'

type E = { name: string; type?: 'file' | 'directory' | 'symlink'; mode?: number; data?: string; linkname?: string }

async function tarOf(entries: E[]): Promise<Buffer> {
  const pack = tarStream.pack()
  for (const e of entries) {
    const type = e.type ?? 'file'
    await new Promise<void>((res, rej) => pack.entry({ name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), mtime: new Date(1e12), ...(e.linkname ? { linkname: e.linkname } : {}) }, type === 'file' ? e.data ?? '' : '', (err) => (err ? rej(err) : res())))
  }
  pack.finalize()
  const out: Buffer[] = []
  for await (const c of pack as AsyncIterable<Buffer>) out.push(c)
  return Buffer.concat(out)
}

async function* body(b: Buffer): AsyncGenerator<Buffer> { yield b }

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

describe('in-memory build context', () => {
  it('indexes files and directories without writing any, and answers lstat/readdir/globs as the unpacked directory would', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-ctx-'))
    try {
      const mem = new MemContext(dir)
      const hashes = new Map<string, string>()
      const tar = await tarOf([
        { name: 'Dockerfile', data: 'FROM busybox\n' },
        { name: 'files/', type: 'directory', mode: 0o750 },
        { name: 'files/a.txt', data: 'a', mode: 0o600 },
        { name: 'files/b.txt', data: 'bb' },
        { name: 'deep/er/c.txt', data: 'c' }, // parents not in the tar
        { name: 'gone/x', data: 'x' },
        { name: 'gone', data: 'now a file' }, // a later entry replaces a directory
        { name: 'files/b.txt', data: 'b2' }, // and a file
      ])
      const n = await extractContext(body(tar), dir, undefined, hashes, mem)
      assert.equal(n, 8)
      assert.equal(mem.spilled, false)
      assert.deepEqual(await readdir(dir), [], 'nothing was written')
      assert.equal(hashes.get(`${dir}/files/b.txt`), sha('b2'))
      assert.equal(mem.readFile('Dockerfile').toString(), 'FROM busybox\n')
      const a = await mem.lstat(`${dir}/files/a.txt`)
      assert.equal(a.mode, 0o100600)
      assert.equal(a.size, 1)
      assert.ok(a.isFile() && !a.isDirectory())
      assert.equal((await mem.lstat(`${dir}/files`)).mode, 0o040750)
      assert.ok((await mem.lstat(`${dir}/deep/er`)).isDirectory())
      assert.ok((await mem.lstat(`${dir}/gone`)).isFile())
      await assert.rejects(mem.lstat(`${dir}/gone/x`), { code: 'ENOTDIR' })
      await assert.rejects(mem.lstat(`${dir}/nope`), { code: 'ENOENT' })
      assert.throws(() => mem.readFile('files'), { code: 'EISDIR' })
      assert.deepEqual((await mem.readdir(`${dir}/`)).sort(), ['Dockerfile', 'deep', 'files', 'gone'])
      assert.deepEqual(await globSources(dir, 'files/*.txt', [], mem), ['files/a.txt', 'files/b.txt'])
      const walked: string[] = []
      await walkDir(`${dir}/`, '.', [], true, async (rel, abs, st) => { walked.push(`${rel} ${st.isDirectory() ? 'd' : mem.data(abs)!.toString()}`) }, '', mem)
      assert.deepEqual(walked, ['Dockerfile FROM busybox\n', 'deep d', 'deep/er d', 'deep/er/c.txt c', 'files d', 'files/a.txt a', 'files/b.txt b2', 'gone now a file'])
      assert.equal(mem.bytes, 'FROM busybox\n'.length + 1 + 2 + 1 + 'now a file'.length)
    } finally { await rm(dir, { recursive: true, force: true }) }
  })

  it('a symlink sends the context to disk: what was indexed and what follows are all unpacked there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-ctx-'))
    try {
      const mem = new MemContext(dir)
      const hashes = new Map<string, string>()
      const tar = await tarOf([
        { name: 'files/a.txt', data: 'a', mode: 0o600 },
        { name: 'link', type: 'symlink', linkname: 'files/a.txt' },
        { name: 'files/b.txt', data: 'b' },
      ])
      await extractContext(body(tar), dir, undefined, hashes, mem)
      assert.equal(mem.spilled, true)
      assert.equal(await readFile(join(dir, 'files/a.txt'), 'utf8'), 'a')
      assert.equal((await lstat(join(dir, 'files/a.txt'))).mode & 0o7777, 0o600)
      assert.equal(await readlink(join(dir, 'link')), 'files/a.txt')
      assert.equal(await readFile(join(dir, 'files/b.txt'), 'utf8'), 'b')
      assert.equal(hashes.get(`${dir}/files/a.txt`), sha('a'))
      assert.equal(hashes.get(`${dir}/files/b.txt`), sha('b'))
    } finally { await rm(dir, { recursive: true, force: true }) }
  })

  it('spill writes an in-memory context to its directory with modes and content', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-ctx-'))
    try {
      const mem = new MemContext(dir)
      await extractContext(body(await tarOf([{ name: 'd/', type: 'directory', mode: 0o700 }, { name: 'd/x', data: 'xyz', mode: 0o640 }])), dir, undefined, undefined, mem)
      assert.deepEqual(await readdir(dir), [])
      await mem.spill()
      assert.equal(mem.spilled, true)
      assert.equal((await lstat(join(dir, 'd'))).mode & 0o7777, 0o700)
      assert.equal((await lstat(join(dir, 'd/x'))).mode & 0o7777, 0o640)
      assert.equal(await readFile(join(dir, 'd/x'), 'utf8'), 'xyz')
    } finally { await rm(dir, { recursive: true, force: true }) }
  })
})

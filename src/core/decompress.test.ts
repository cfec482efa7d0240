import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { describe, it } from 'node:test'
import { isKind } from '../lib/errors.js'
import { FakePlatform } from '../platform/fake.js'
import { decompressed, detectCompression } from './decompress.js'

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd])
async function* chunks(...bufs: Buffer[]): AsyncGenerator<Buffer> { for (const b of bufs) yield b }
async function all(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const c of it) out.push(c)
  return Buffer.concat(out)
}

describe('decompressed', () => {
  it('detects formats by their magic bytes', () => {
    assert.equal(detectCompression(gzipSync('x')), 'gzip')
    assert.equal(detectCompression(Buffer.concat([ZSTD_MAGIC, Buffer.alloc(4)])), 'zstd')
    assert.equal(detectCompression(Buffer.from('BZh91AY')), 'bzip2')
    assert.equal(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz')
    assert.equal(detectCompression(Buffer.from('plain tar')), 'none')
  })

  it('passes uncompressed bytes through and gunzips in-process, without spawning', async () => {
    const p = new FakePlatform()
    assert.equal((await all(decompressed(chunks(Buffer.from('ab'), Buffer.from('cdefg')), undefined, p.spawner))).toString(), 'abcdefg')
    const gz = gzipSync('hello layer')
    assert.equal((await all(decompressed(chunks(gz.subarray(0, 3), gz.subarray(3)), undefined, p.spawner))).toString(), 'hello layer')
    assert.deepEqual(p.spawner.calls, [])
  })

  it('hands zstd to the tool, with every byte, and yields its output', async () => {
    const p = new FakePlatform()
    p.spawner.on('zstd', (c) => ({ stdout: `decoded ${c.input.length} bytes` }))
    const body = Buffer.concat([ZSTD_MAGIC, Buffer.alloc(10_000, 1)])
    const out = await all(decompressed(chunks(body.subarray(0, 2), body.subarray(2, 5000), body.subarray(5000)), undefined, p.spawner))
    assert.equal(out.toString(), 'decoded 10004 bytes')
    assert.deepEqual(p.spawner.calls.map((c) => [c.via, c.cmd, c.args]), [['start', 'zstd', ['-d', '-c', '-q']]])
  })

  it('a failing tool is InvalidArgument ERR_BAD_COMPRESSION with its message', async () => {
    const p = new FakePlatform()
    p.spawner.on('xz', { code: 1, stderr: 'xz: (stdin): Unexpected end of input' })
    await assert.rejects(all(decompressed(chunks(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1])), undefined, p.spawner)),
      (e) => isKind(e, 'InvalidArgument') && (e as { code?: string }).code === 'ERR_BAD_COMPRESSION' && /Unexpected end of input/.test((e as Error).message))
  })

  it('a missing tool says it cannot decompress', async () => {
    const p = new FakePlatform() // bzip2 not scripted: not installed
    await assert.rejects(all(decompressed(chunks(Buffer.from('BZh91AY&SY')), undefined, p.spawner)), /cannot decompress bzip2: spawn bzip2 ENOENT/)
  })
})

describe('decompressed on the host', () => {
  for (const tool of ['zstd', 'xz', 'bzip2'] as const) {
    it(`${tool}: round trip through the real tool, streamed`, async (t) => {
      const { spawnSync } = await import('node:child_process')
      const data = Buffer.alloc(3 * 1024 * 1024, 'layer bytes ')
      const packed = spawnSync(tool, ['-c', '-q'], { input: data, maxBuffer: 64 * 1024 * 1024 })
      if (packed.error && (packed.error as NodeJS.ErrnoException).code === 'ENOENT') return t.skip(`${tool} is not installed`)
      assert.equal(packed.status, 0)
      const parts: Buffer[] = []
      for (let i = 0; i < packed.stdout.length; i += 64 * 1024) parts.push(packed.stdout.subarray(i, i + 64 * 1024))
      const out = await all(decompressed(chunks(...parts)))
      assert.ok(out.equals(data))
      // Truncated input: the tool's complaint, as InvalidArgument.
      await assert.rejects(all(decompressed(chunks(packed.stdout.subarray(0, Math.floor(packed.stdout.length / 2))))), (e) => isKind(e, 'InvalidArgument'))
    })
  }
})

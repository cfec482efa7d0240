import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { layerStream } from './pull.js'

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const c of it) out.push(c)
  return Buffer.concat(out)
}
async function* chunks(b: Buffer, size = 7000): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size)
}

describe('layerStream (pull decompression)', () => {
  const plain = Buffer.concat([randomBytes(300_000), Buffer.alloc(2_000_000, 'a')])
  it('inflates gzip (pigz when installed) to the same bytes, in chunks', async () => {
    assert.ok((await collect(layerStream(chunks(gzipSync(plain))))).equals(plain))
  })
  it('passes an uncompressed layer through', async () => {
    assert.ok((await collect(layerStream(chunks(plain)))).equals(plain))
  })
  it('a truncated gzip stream fails with ERR_BAD_COMPRESSION', async () => {
    const gz = gzipSync(plain)
    await assert.rejects(collect(layerStream(chunks(gz.subarray(0, gz.length - 5000)))), { code: 'ERR_BAD_COMPRESSION' })
  })
  it('an error of the source is the error the stream throws', async () => {
    async function* failing(): AsyncGenerator<Buffer> { yield gzipSync(plain).subarray(0, 100_000); throw new Error('digest mismatch') }
    await assert.rejects(collect(layerStream(failing())), /digest mismatch/)
  })
})

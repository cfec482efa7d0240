import { test } from 'node:test'
import assert from 'node:assert/strict'
import tarStream from 'tar-stream'
import { TarScanner, type TarEntry } from './tar-scan.js'

async function makeTar(entries: Array<{ header: Partial<tarStream.Header> & { name: string }; body?: string | Buffer }>): Promise<Buffer> {
  const pack = tarStream.pack()
  const chunks: Buffer[] = []
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer) })
  const done = new Promise<void>((r) => pack.on('end', () => r()))
  for (const e of entries) pack.entry(e.header as tarStream.Header, e.body ?? '')
  pack.finalize()
  await done
  return Buffer.concat(chunks)
}

test('reports entries across any chunking, including pax long names', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(120)}`
  const tar = await makeTar([
    { header: { name: 'a', size: 5 }, body: 'hello' },
    { header: { name: 'dir', type: 'directory' } },
    { header: { name: 'dir/.wh.gone', size: 0 } },
    { header: { name: long, size: 1000 }, body: Buffer.alloc(1000, 1) },
    { header: { name: 'ln', type: 'symlink', linkname: '/etc' } },
  ])
  for (const chunk of [1, 7, 512, 513, 4096, tar.length]) {
    const seen: TarEntry[] = []
    const s = new TarScanner((e) => seen.push(e))
    for (let i = 0; i < tar.length; i += chunk) s.write(tar.subarray(i, i + chunk))
    assert.equal(s.ended, true, `chunk ${chunk}`)
    assert.deepEqual(seen.map((e) => e.path), ['a', 'dir', 'dir/.wh.gone', long, 'ln'], `chunk ${chunk}`)
    assert.equal(seen[0]!.size, 5)
    assert.equal(seen[3]!.size, 1000)
    assert.equal(seen[4]!.type, '2')
    assert.equal(seen[4]!.linkname, '/etc')
  }
})

test('rejects a corrupt header', () => {
  const s = new TarScanner(() => {})
  const junk = Buffer.alloc(512, 0x41)
  assert.throws(() => s.write(junk), /invalid header checksum/)
})

import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { invalid } from '../lib/errors.js'
import { realPlatform, type Spawner } from '../platform/platform.js'
import { startDecompressor } from '../platform/tar.js'

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd'

/** Detect the compression of a stream from its first bytes, as Docker's archive.DetectCompression does. */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip'
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2'
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz'
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd'
  return 'none'
}

/**
 * Turn a possibly compressed byte stream into its uncompressed bytes. gzip runs in zlib (the
 * thread pool); bzip2, xz and zstd run in their own processes.
 */
export async function* decompressed(source: AsyncIterable<Buffer>, signal?: AbortSignal, spawner: Spawner = realPlatform().spawner): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]()
  // Gather enough bytes to sniff the format.
  const headChunks: Buffer[] = []
  let headLen = 0
  let done = false
  while (headLen < 6) {
    const r = await it.next()
    if (r.done) { done = true; break }
    headChunks.push(r.value)
    headLen += r.value.length
  }
  const head = Buffer.concat(headChunks)
  const kind = detectCompression(head)
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head
    if (done) return
    for (;;) {
      const r = await it.next()
      if (r.done) return
      yield r.value
    }
  }
  if (kind === 'none') {
    yield* rest()
    return
  }
  if (kind === 'gzip') {
    const gunzip = createGunzip()
    const input = Readable.from(rest(), { objectMode: false })
    input.on('error', (err) => gunzip.destroy(err))
    input.pipe(gunzip)
    try {
      for await (const chunk of gunzip) yield chunk as Buffer
    } catch (err) {
      throw invalid('ERR_BAD_COMPRESSION', `unexpected EOF: ${(err as Error).message}`)
    }
    return
  }
  const child = startDecompressor(spawner, kind, signal ? { signal } : {})
  const feeding = Readable.from(rest()).pipe(child.stdin!)
  feeding.on('error', () => {})
  let drained = false
  try {
    for await (const chunk of child.stdout!) yield chunk as Buffer
    drained = true
  } finally {
    // The consumer stopped early (or failed): the tool must not outlive the stream.
    if (!drained) child.kill('SIGKILL')
  }
  const { code, stderr, spawnError } = await child.exit
  if (spawnError) throw invalid('ERR_BAD_COMPRESSION', `cannot decompress ${kind}: ${spawnError.message}`)
  if (code !== 0) throw invalid('ERR_BAD_COMPRESSION', `${kind}: ${stderr.trim() || 'unexpected EOF'}`)
}

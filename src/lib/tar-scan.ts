/**
 * A streaming tar header scanner. It is fed the bytes of a tar archive chunk by chunk (the
 * same bytes go to GNU tar for extraction) and reports each entry's path, type, size and link
 * target, without copying file data. Understands ustar, pax ('x' and 'g') and GNU long
 * names ('L', 'K') and old GNU sparse headers.
 */
export interface TarEntry {
  path: string
  /** The typeflag character: '0' file, '1' hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo. */
  type: string
  size: number
  linkname: string
  mode: number
}

const BLOCK = 512

export class TarScanner {
  #pending: Buffer[] = []
  #pendingLen = 0
  /** Bytes of entry data still to skip (data blocks, rounded up). */
  #skip = 0
  /** Bytes of a meta entry (pax or long name) to collect. */
  #collect = 0
  #collectPad = 0
  #collectType = ''
  #collected: Buffer[] = []
  #pax: Record<string, string> = {}
  #longName?: string
  #longLink?: string
  #sparseExt = false
  #zeroBlocks = 0
  ended = false
  /** Number of bytes consumed so far. */
  offset = 0

  constructor(private readonly onEntry: (e: TarEntry) => void) {}

  write(chunk: Buffer): void {
    let pos = 0
    while (pos < chunk.length && !this.ended) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - pos)
        this.#skip -= n
        pos += n
        continue
      }
      if (this.#collect > 0) {
        const n = Math.min(this.#collect, chunk.length - pos)
        this.#collected.push(chunk.subarray(pos, pos + n))
        this.#collect -= n
        pos += n
        if (this.#collect === 0) {
          this.#finishMeta(Buffer.concat(this.#collected))
          this.#collected = []
          this.#skip = this.#collectPad
        }
        continue
      }
      // Need a whole header block.
      const need = BLOCK - this.#pendingLen
      const n = Math.min(need, chunk.length - pos)
      this.#pending.push(chunk.subarray(pos, pos + n))
      this.#pendingLen += n
      pos += n
      if (this.#pendingLen === BLOCK) {
        const block = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending)
        this.#pending = []
        this.#pendingLen = 0
        this.#header(block)
      }
    }
    this.offset += chunk.length
  }

  #header(block: Buffer): void {
    if (this.#sparseExt) {
      this.#sparseExt = block[504] !== 0
      return
    }
    if (isZero(block)) {
      if (++this.#zeroBlocks >= 2) this.ended = true
      return
    }
    this.#zeroBlocks = 0
    if (!verifyChecksum(block)) throw new TarFormatError('tar: invalid header checksum')
    const type = String.fromCharCode(block[156] || 48)
    const size = parseNumber(block, 124, 12)
    const padded = Math.ceil(size / BLOCK) * BLOCK
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > 16 << 20) throw new TarFormatError('tar: metadata entry too large')
      this.#collectType = type
      this.#collect = size
      this.#collectPad = padded - size
      if (size === 0) this.#finishMeta(Buffer.alloc(0))
      return
    }
    const magic = block.toString('latin1', 257, 263)
    let name = cstring(block, 0, 100)
    if (magic.startsWith('ustar')) {
      const prefix = cstring(block, 345, magic === 'ustar\x00' ? 155 : 131)
      if (prefix && magic === 'ustar\x00') name = `${prefix}/${name}`
    }
    const path = this.#pax.path ?? this.#longName ?? name
    const linkname = this.#pax.linkpath ?? this.#longLink ?? cstring(block, 157, 100)
    const realSize = this.#pax.size !== undefined ? Number(this.#pax.size) : size
    const dataSize = this.#pax.size !== undefined ? Number(this.#pax.size) : size
    this.#pax = {}
    this.#longName = undefined
    this.#longLink = undefined
    if (type === 'S' && block[482] !== 0) this.#sparseExt = true
    const mode = parseNumber(block, 100, 8)
    this.onEntry({ path, type, size: type === 'S' ? parseNumber(block, 483, 12) : realSize, linkname, mode })
    // Hard links, symlinks, dirs, devices carry no data (whatever their size field says, per ustar only
    // regular files, contiguous files and sparse files have data blocks; GNU tar writes size 0 for the others).
    const hasData = type === '0' || type === '7' || type === 'S' || type === '\0' || !'123456'.includes(type)
    this.#skip = hasData ? Math.ceil(dataSize / BLOCK) * BLOCK : 0
  }

  #finishMeta(data: Buffer): void {
    if (this.#collectType === 'x') {
      Object.assign(this.#pax, parsePax(data))
    } else if (this.#collectType === 'L') {
      this.#longName = cstring(data, 0, data.length)
    } else if (this.#collectType === 'K') {
      this.#longLink = cstring(data, 0, data.length)
    }
    // 'g' (global pax) headers are ignored: no layer format relies on them for paths.
  }
}

export class TarFormatError extends Error {}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i += 8) if (b.readBigUInt64LE(i) !== 0n) return false
  return true
}

function cstring(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off)
  return b.toString('utf8', off, end === -1 || end > off + len ? off + len : end)
}

function parseNumber(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    // base-256 (GNU): big-endian, top bit is the marker.
    let v = 0
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!
    return v
  }
  const s = b.toString('latin1', off, off + len).replace(/[\0 ]+/g, ' ').trim()
  return s ? parseInt(s, 8) : 0
}

function verifyChecksum(b: Buffer): boolean {
  const want = parseNumber(b, 148, 8)
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 32 : b[i]!
    unsigned += c
    signed += c > 127 ? c - 256 : c
  }
  return want === unsigned || want === signed
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let pos = 0
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos)
    if (sp === -1) break
    const len = parseInt(data.toString('latin1', pos, sp), 10)
    if (!(len > 0)) break
    const record = data.toString('utf8', sp + 1, pos + len - 1)
    const eq = record.indexOf('=')
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1)
    pos += len
  }
  return out
}

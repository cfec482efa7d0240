/**
 * Offline, deterministic Docker image fixtures.
 *
 * Everything here is built without the network and without a compiler: layer tars are written
 * byte by byte (ustar + PAX, like Go's archive/tar that Docker uses), the hello-world program is a
 * hand-assembled static ELF, and the big benchmark image is filled from a seeded PRNG. The output
 * is the archive format of `docker save` in Docker 25+: an OCI image layout (oci-layout,
 * index.json, blobs/sha256/...) that is also a Docker archive (manifest.json, repositories), which
 * every `docker load` from 20.10 on accepts, as do skopeo's docker-archive: and oci-archive:.
 *
 * Same inputs → same bytes: fixed mtimes and owners, sorted entries, no host-dependent fields other
 * than the architecture (and the busybox binary that goes in).
 */
import { createHash, type Hash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { join, posix, resolve } from 'node:path'

/** Bump whenever the output of any generator changes: it is part of every cache key. */
export const SCRIPT_VERSION = 'berth-fixtures/1'

/** The fixed creation time of every fixture image, and the mtime of every tar entry. */
export const FIXED_CREATED = '2024-01-01T00:00:00Z'
export const FIXED_EPOCH = Date.parse(FIXED_CREATED) / 1000

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

export type Arch = 'amd64' | 'arm64'

export function hostArch(): Arch {
  switch (process.arch) {
    case 'x64':
      return 'amd64'
    case 'arm64':
      return 'arm64'
    default:
      throw new Error(`unsupported host architecture ${process.arch} (need x64 or arm64)`)
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

export function sha256File(path: string): string {
  const h = createHash('sha256')
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(1 << 20)
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null)
      if (n === 0) break
      h.update(buf.subarray(0, n))
    }
  } finally {
    closeSync(fd)
  }
  return h.digest('hex')
}

// ---------------------------------------------------------------------------------------------
// PRNG (xoshiro128**, seeded from a string through sha256): identical on every platform.

export class Prng {
  private s0: number
  private s1: number
  private s2: number
  private s3: number

  constructor(seed: string) {
    const h = createHash('sha256').update(seed).digest()
    this.s0 = h.readUInt32LE(0)
    this.s1 = h.readUInt32LE(4)
    this.s2 = h.readUInt32LE(8)
    this.s3 = h.readUInt32LE(12)
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0
    const t = this.s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** An integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    const span = max - min + 1
    if (span <= 0x1_0000_0000) return min + Math.floor((this.next() / 0x1_0000_0000) * span)
    return min + Math.floor(((this.next() * 0x1_0000_0000 + this.next()) / 2 ** 64) * span)
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p
  }

  pick<T>(items: readonly T[]): T {
    const v = items[this.int(0, items.length - 1)]
    if (v === undefined) throw new Error('pick from an empty list')
    return v
  }

  /** Fills buf with random bytes. */
  fill(buf: Buffer): void {
    const words = buf.length >>> 2
    // Aligned fast path through a Uint32Array view when the buffer allows it.
    if ((buf.byteOffset & 3) === 0) {
      const u32 = new Uint32Array(buf.buffer, buf.byteOffset, words)
      for (let i = 0; i < words; i++) u32[i] = this.next()
    } else {
      for (let i = 0; i < words; i++) buf.writeUInt32LE(this.next(), i * 4)
    }
    for (let i = words * 4; i < buf.length; i++) buf[i] = this.next() & 0xff
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

// ---------------------------------------------------------------------------------------------
// Tar writing.

/** A sequential byte sink: a file (with a running sha256 and size) or memory. */
export class Sink {
  private readonly fd: number | null
  private readonly hash: Hash = createHash('sha256')
  private readonly chunks: Buffer[] = []
  private buf = Buffer.allocUnsafe(4 << 20)
  private used = 0
  size = 0

  /** With a path, writes to that file (created or truncated); without, collects in memory. */
  constructor(path?: string) {
    this.fd = path === undefined ? null : openSync(path, 'w', 0o644)
  }

  write(data: Uint8Array): void {
    this.hash.update(data)
    this.size += data.length
    if (this.fd === null) {
      this.chunks.push(Buffer.from(data))
      return
    }
    if (data.length >= this.buf.length) {
      this.flush()
      writeAll(this.fd, data)
      return
    }
    if (this.used + data.length > this.buf.length) this.flush()
    this.buf.set(data, this.used)
    this.used += data.length
  }

  private flush(): void {
    if (this.fd !== null && this.used > 0) writeAll(this.fd, this.buf.subarray(0, this.used))
    this.used = 0
  }

  /** Closes the sink; returns the sha256 hex of everything written (and the bytes, in memory). */
  finish(): { hex: string; size: number; data: Buffer | null } {
    this.flush()
    if (this.fd !== null) closeSync(this.fd)
    this.buf = Buffer.alloc(0)
    return { hex: this.hash.digest('hex'), size: this.size, data: this.fd === null ? Buffer.concat(this.chunks) : null }
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0
  while (off < data.length) off += writeSync(fd, data, off, data.length - off)
}

export type TarType = 'file' | 'dir' | 'symlink' | 'hardlink'

export interface TarHeader {
  /** Path without leading "/" or "./"; directories may end with "/" (added if missing). */
  name: string
  type: TarType
  /** Permission bits, including setuid/setgid/sticky. */
  mode: number
  size?: number
  linkname?: string
  mtime?: number
  uid?: number
  gid?: number
}

const ZERO_BLOCK = Buffer.alloc(512)

function isAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s)
}

function putString(block: Buffer, off: number, len: number, s: string): void {
  block.write(s, off, len, 'utf8')
}

function putOctal(block: Buffer, off: number, len: number, n: number): void {
  const s = n.toString(8)
  if (s.length > len - 1) throw new Error(`tar field overflow: ${n} in ${len} bytes`)
  block.write(s.padStart(len - 1, '0') + '\0', off, len, 'ascii')
}

function paxRecord(key: string, value: string): string {
  const base = Buffer.byteLength(` ${key}=${value}\n`)
  let len = base + String(base).length
  if (String(len).length !== String(len - base).length) len = base + String(len).length
  return `${len} ${key}=${value}\n`
}

/** Splits a long path into ustar prefix (≤155) + name (≤100), or returns null. */
function splitUstar(path: string): [string, string] | null {
  if (!isAscii(path)) return null
  if (path.length <= 100) return ['', path]
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue
    const prefix = path.slice(0, i)
    const name = path.slice(i + 1)
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return [prefix, name]
    if (name.length > 100) return null
  }
  return null
}

function encodeBlock(h: {
  name: string
  prefix: string
  mode: number
  uid: number
  gid: number
  size: number
  mtime: number
  typeflag: string
  linkname: string
}): Buffer {
  const b = Buffer.alloc(512)
  putString(b, 0, 100, h.name)
  putOctal(b, 100, 8, h.mode)
  putOctal(b, 108, 8, h.uid)
  putOctal(b, 116, 8, h.gid)
  putOctal(b, 124, 12, h.size)
  putOctal(b, 136, 12, h.mtime)
  b.fill(0x20, 148, 156) // checksum placeholder: spaces
  b.write(h.typeflag, 156, 1, 'ascii')
  putString(b, 157, 100, h.linkname)
  b.write('ustar\x0000', 257, 8, 'ascii')
  // uname (265) and gname (297) stay empty: numeric owners only.
  putOctal(b, 329, 8, 0)
  putOctal(b, 337, 8, 0)
  putString(b, 345, 155, h.prefix)
  let sum = 0
  for (let i = 0; i < 512; i++) sum += b[i] ?? 0
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii')
  return b
}

/**
 * Writes a tar stream: ustar headers, with a PAX extended header (GNU-style name
 * `dir/PaxHeaders/base`) only when a path or link target does not fit ustar. No trailing
 * record padding: the archive ends with two zero blocks, as Go's archive/tar writes it.
 */
export class TarWriter {
  constructor(private readonly sink: Sink) {}

  private header(h: TarHeader): void {
    let name = h.name.replace(/^\/+/, '')
    if (h.type === 'dir' && !name.endsWith('/')) name += '/'
    const size = h.type === 'file' ? (h.size ?? 0) : 0
    const linkname = h.linkname ?? ''
    const mtime = h.mtime ?? FIXED_EPOCH
    const typeflag = { file: '0', hardlink: '1', symlink: '2', dir: '5' }[h.type]
    const split = splitUstar(name)
    const linkFits = isAscii(linkname) && linkname.length <= 100
    let pax = ''
    if (split === null) pax += paxRecord('path', name)
    if (!linkFits) pax += paxRecord('linkpath', linkname)
    if (pax !== '') {
      const data = Buffer.from(pax, 'utf8')
      const bare = name.replace(/\/$/, '')
      const dir = posix.dirname(bare)
      const paxName = ((dir === '.' ? '' : dir + '/') + 'PaxHeaders/' + posix.basename(bare)).slice(0, 100)
      this.sink.write(
        encodeBlock({ name: asciiClip(paxName), prefix: '', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime, typeflag: 'x', linkname: '' }),
      )
      this.writeData(data)
    }
    const [prefix, short] = split ?? ['', asciiClip(name).slice(0, 100)]
    this.sink.write(
      encodeBlock({
        name: short,
        prefix,
        mode: h.mode & 0o7777,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        size,
        mtime,
        typeflag,
        linkname: linkFits ? linkname : asciiClip(linkname).slice(0, 100),
      }),
    )
  }

  private writeData(data: Uint8Array): void {
    this.sink.write(data)
    const pad = (512 - (data.length % 512)) % 512
    if (pad > 0) this.sink.write(ZERO_BLOCK.subarray(0, pad))
  }

  /** Adds an entry; files take their bytes in `data` (its length is the size). */
  add(h: TarHeader, data?: Uint8Array): void {
    if (h.type === 'file') {
      const body = data ?? new Uint8Array(0)
      this.header({ ...h, size: body.length })
      this.writeData(body)
    } else {
      this.header(h)
    }
  }

  /** Adds a file whose bytes are streamed from a file on disk. */
  addFromFile(h: TarHeader, path: string): void {
    const size = statSync(path).size
    this.header({ ...h, type: 'file', size })
    const fd = openSync(path, 'r')
    try {
      const buf = Buffer.allocUnsafe(4 << 20)
      let left = size
      while (left > 0) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, left), null)
        if (n === 0) throw new Error(`${path}: file shrank while archiving`)
        this.sink.write(buf.subarray(0, n))
        left -= n
      }
    } finally {
      closeSync(fd)
    }
    const pad = (512 - (size % 512)) % 512
    if (pad > 0) this.sink.write(ZERO_BLOCK.subarray(0, pad))
  }

  end(): void {
    this.sink.write(ZERO_BLOCK)
    this.sink.write(ZERO_BLOCK)
  }
}

function asciiClip(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_')
}

// ---------------------------------------------------------------------------------------------
// Layers: a list of filesystem entries, serialized in GNU `--sort=name` order.

export interface LayerEntry {
  /** Path without leading "/" (e.g. "bin/busybox", "etc"). */
  path: string
  type: 'file' | 'dir' | 'symlink'
  mode: number
  /** File bytes, or a generator so that big contents are made only while they are written. */
  data?: Uint8Array | (() => Uint8Array)
  /** Symlink target. */
  target?: string
  /**
   * Files with the same inode key are hard links to one another: the first in archive order
   * carries the data, the others are hardlink entries pointing at it (as GNU tar writes them).
   */
  inode?: string
}

function comparePaths(a: string, b: string): number {
  const pa = a.split('/')
  const pb = b.split('/')
  const n = Math.min(pa.length, pb.length)
  for (let i = 0; i < n; i++) {
    const x = pa[i] ?? ''
    const y = pb[i] ?? ''
    if (x !== y) return Buffer.compare(Buffer.from(x), Buffer.from(y))
  }
  return pa.length - pb.length
}

/** Sorts entries depth-first by name (parents first) and adds missing parent directories (0755). */
export function normalizeEntries(entries: readonly LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>()
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, '').replace(/\/+$/, '')
    if (path === '' || path.split('/').some((c) => c === '' || c === '.' || c === '..')) {
      throw new Error(`bad layer path ${JSON.stringify(e.path)}`)
    }
    byPath.set(path, { ...e, path })
  }
  for (const path of [...byPath.keys()]) {
    let dir = posix.dirname(path)
    while (dir !== '.' && !byPath.has(dir)) {
      byPath.set(dir, { path: dir, type: 'dir', mode: 0o755 })
      dir = posix.dirname(dir)
    }
  }
  return [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path))
}

/** Writes a layer tar (uncompressed) for the entries to a sink. */
export function writeLayer(sink: Sink, entries: readonly LayerEntry[]): void {
  const tar = new TarWriter(sink)
  const firstOfInode = new Map<string, string>()
  // The member of each hard-link group that defines its contents and mode.
  const inodeSource = new Map<string, LayerEntry>()
  for (const e of entries) {
    if (e.type === 'file' && e.inode !== undefined && e.data !== undefined && !inodeSource.has(e.inode)) inodeSource.set(e.inode, e)
  }
  for (const e of normalizeEntries(entries)) {
    if (e.type === 'dir') {
      tar.add({ name: e.path, type: 'dir', mode: e.mode })
    } else if (e.type === 'symlink') {
      tar.add({ name: e.path, type: 'symlink', mode: e.mode, linkname: e.target ?? '' })
    } else {
      const src = (e.inode === undefined ? undefined : inodeSource.get(e.inode)) ?? e
      const primary = e.inode === undefined ? undefined : firstOfInode.get(e.inode)
      if (primary !== undefined) {
        tar.add({ name: e.path, type: 'hardlink', mode: src.mode, linkname: primary })
        continue
      }
      if (e.inode !== undefined) firstOfInode.set(e.inode, e.path)
      const data = typeof src.data === 'function' ? src.data() : (src.data ?? new Uint8Array(0))
      tar.add({ name: e.path, type: 'file', mode: src.mode }, data)
    }
  }
  tar.end()
}

// ---------------------------------------------------------------------------------------------
// Image archives (docker save format of Docker 25+: OCI layout + manifest.json + repositories).

export interface HistoryItem {
  created_by: string
  comment?: string
  /** True for history lines that made no layer (CMD, ENV, ...). */
  empty_layer?: boolean
}

export interface ImageSpec {
  /** Repository as in RepoTags, e.g. "busybox" or "berth-bench/big". */
  repo: string
  tag: string
  arch: Arch
  layers: Array<readonly LayerEntry[]>
  config: Record<string, unknown>
  /** One item per layer plus the empty ones, in build order. */
  history: HistoryItem[]
}

export interface ArchiveResult {
  path: string
  /** Image ID: the sha256 digest of the config blob. */
  imageId: string
  manifestDigest: string
  diffIds: string[]
  layerSizes: number[]
  archiveSha256: string
  archiveSize: number
}

export const MEDIA_OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const MEDIA_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const MEDIA_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
export const MEDIA_OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar'

/** The fully qualified name Docker puts in `io.containerd.image.name`. */
export function qualifiedName(repo: string, tag: string): string {
  const first = repo.split('/')[0] ?? ''
  const hasDomain = repo.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
  if (hasDomain) return `${repo}:${tag}`
  return repo.includes('/') ? `docker.io/${repo}:${tag}` : `docker.io/library/${repo}:${tag}`
}

/**
 * Builds an image archive at outPath. Layers are staged as files in tmpDir (which the caller
 * owns and removes); the archive is written next to outPath and renamed into place.
 */
export function writeImageArchive(spec: ImageSpec, outPath: string, tmpDir: string): ArchiveResult {
  const created = FIXED_CREATED
  const layerFiles: Array<{ hex: string; size: number; file: string }> = []
  spec.layers.forEach((entries, i) => {
    const file = join(tmpDir, `layer-${i}.tar`)
    const sink = new Sink(file)
    writeLayer(sink, entries)
    const { hex, size } = sink.finish()
    layerFiles.push({ hex, size, file })
  })
  const diffIds = layerFiles.map((l) => `sha256:${l.hex}`)

  const layerHistory = spec.history.filter((h) => h.empty_layer !== true).length
  if (layerHistory !== spec.layers.length) {
    throw new Error(`history has ${layerHistory} layer items for ${spec.layers.length} layers`)
  }
  const config: Record<string, unknown> = {
    architecture: spec.arch,
    config: spec.config,
    created,
    history: spec.history.map((h) => ({ created, ...h })),
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: diffIds },
  }
  if (spec.arch === 'arm64') config['variant'] = 'v8'
  const configBytes = Buffer.from(JSON.stringify(config))
  const configHex = sha256Hex(configBytes)

  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_OCI_MANIFEST,
    config: { mediaType: MEDIA_OCI_CONFIG, digest: `sha256:${configHex}`, size: configBytes.length },
    layers: layerFiles.map((l) => ({ mediaType: MEDIA_OCI_LAYER, digest: `sha256:${l.hex}`, size: l.size })),
  }
  const manifestBytes = Buffer.from(JSON.stringify(manifest))
  const manifestHex = sha256Hex(manifestBytes)

  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_OCI_INDEX,
    manifests: [
      {
        mediaType: MEDIA_OCI_MANIFEST,
        digest: `sha256:${manifestHex}`,
        size: manifestBytes.length,
        annotations: {
          'io.containerd.image.name': qualifiedName(spec.repo, spec.tag),
          'org.opencontainers.image.ref.name': spec.tag,
        },
      },
    ],
  }
  const dockerManifest = [
    {
      Config: `blobs/sha256/${configHex}`,
      RepoTags: [`${spec.repo}:${spec.tag}`],
      Layers: layerFiles.map((l) => `blobs/sha256/${l.hex}`),
    },
  ]
  const topLayer = layerFiles[layerFiles.length - 1]
  const repositories = topLayer === undefined ? {} : { [spec.repo]: { [spec.tag]: topLayer.hex } }

  // Blobs, deduplicated and sorted by digest.
  const blobs = new Map<string, { data?: Buffer; file?: string }>()
  blobs.set(configHex, { data: configBytes })
  blobs.set(manifestHex, { data: manifestBytes })
  for (const l of layerFiles) if (!blobs.has(l.hex)) blobs.set(l.hex, { file: l.file })

  const partial = join(tmpDir, 'archive.tar')
  const sink = new Sink(partial)
  const tar = new TarWriter(sink)
  tar.add({ name: 'blobs/', type: 'dir', mode: 0o755 })
  tar.add({ name: 'blobs/sha256/', type: 'dir', mode: 0o755 })
  for (const hex of [...blobs.keys()].sort()) {
    const b = blobs.get(hex)
    const name = `blobs/sha256/${hex}`
    if (b?.file !== undefined) tar.addFromFile({ name, type: 'file', mode: 0o644 }, b.file)
    else tar.add({ name, type: 'file', mode: 0o644 }, b?.data)
  }
  tar.add({ name: 'index.json', type: 'file', mode: 0o644 }, Buffer.from(JSON.stringify(index) + '\n'))
  tar.add({ name: 'manifest.json', type: 'file', mode: 0o644 }, Buffer.from(JSON.stringify(dockerManifest) + '\n'))
  tar.add({ name: 'oci-layout', type: 'file', mode: 0o644 }, Buffer.from('{"imageLayoutVersion":"1.0.0"}'))
  tar.add({ name: 'repositories', type: 'file', mode: 0o644 }, Buffer.from(JSON.stringify(repositories) + '\n'))
  tar.end()
  const { hex: archiveSha256, size: archiveSize } = sink.finish()
  renameSync(partial, outPath)

  return {
    path: outPath,
    imageId: `sha256:${configHex}`,
    manifestDigest: `sha256:${manifestHex}`,
    diffIds,
    layerSizes: layerFiles.map((l) => l.size),
    archiveSha256,
    archiveSize,
  }
}

// ---------------------------------------------------------------------------------------------
// busybox:latest

/** /etc/passwd of the official busybox image (buildroot's skeleton). */
export const BUSYBOX_PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`

/** /etc/group of the official busybox image. */
export const BUSYBOX_GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`

export interface BusyboxInfo {
  path: string
  sha256: string
  /** Applet names (basenames), sorted, from `busybox --list-full`. */
  applets: string[]
  /** e.g. "1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)" */
  version: string
}

export function inspectBusybox(path = '/bin/busybox'): BusyboxInfo {
  if (!existsSync(path)) {
    throw new Error(`${path} not found: install Debian's busybox-static (apt-get install -y busybox-static)`)
  }
  const list = execFileSync(path, ['--list-full'], { encoding: 'utf8' })
  const applets = [...new Set(list.split('\n').map((l) => posix.basename(l.trim())).filter((a) => a !== '' && a !== 'busybox'))].sort()
  if (applets.length === 0) throw new Error(`${path} --list-full listed no applets`)
  // `busybox` with no arguments prints its banner on stdout and exits 0 (or 1 on some builds).
  let banner = ''
  try {
    banner = execFileSync(path, [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    banner = String((err as { stdout?: unknown }).stdout ?? '')
  }
  const m = /BusyBox v(\S+)(?: \(([^)]*)\))?/.exec(banner)
  const version = m ? (m[2] ? `${m[1]} (${m[2]})` : (m[1] ?? 'unknown')) : 'unknown'
  return { path, sha256: sha256File(path), applets, version }
}

/**
 * The root filesystem of busybox:latest: /bin/busybox with a hard link in /bin for every applet
 * (as the official image has them), the official passwd/group, and the usual empty directories.
 */
export function busyboxRootfs(bb: BusyboxInfo): LayerEntry[] {
  const binary = readFileSync(bb.path)
  const entries: LayerEntry[] = [
    { path: 'bin', type: 'dir', mode: 0o755 },
    { path: 'bin/busybox', type: 'file', mode: 0o755, data: binary, inode: 'busybox' },
    { path: 'dev', type: 'dir', mode: 0o755 },
    { path: 'etc', type: 'dir', mode: 0o755 },
    { path: 'etc/group', type: 'file', mode: 0o644, data: Buffer.from(BUSYBOX_GROUP) },
    { path: 'etc/passwd', type: 'file', mode: 0o644, data: Buffer.from(BUSYBOX_PASSWD) },
    { path: 'home', type: 'dir', mode: 0o755 },
    { path: 'proc', type: 'dir', mode: 0o755 },
    { path: 'root', type: 'dir', mode: 0o700 },
    { path: 'sbin', type: 'dir', mode: 0o755 },
    { path: 'sys', type: 'dir', mode: 0o755 },
    { path: 'tmp', type: 'dir', mode: 0o1777 },
    { path: 'usr', type: 'dir', mode: 0o755 },
    { path: 'usr/bin', type: 'dir', mode: 0o755 },
    { path: 'usr/sbin', type: 'dir', mode: 0o755 },
    { path: 'var', type: 'dir', mode: 0o755 },
    { path: 'var/spool', type: 'dir', mode: 0o755 },
    { path: 'var/spool/mail', type: 'dir', mode: 0o755 },
    { path: 'var/www', type: 'dir', mode: 0o755 },
  ]
  for (const applet of bb.applets) {
    if (applet.includes('/')) continue
    entries.push({ path: `bin/${applet}`, type: 'file', mode: 0o755, data: binary, inode: 'busybox' })
  }
  return entries
}

export function busyboxImage(bb: BusyboxInfo, arch: Arch): ImageSpec {
  const rootfs = busyboxRootfs(bb)
  return {
    repo: 'busybox',
    tag: 'latest',
    arch,
    layers: [rootfs],
    config: { Env: [DEFAULT_PATH_ENV], Cmd: ['sh'], WorkingDir: '/', OnBuild: null },
    history: [
      { created_by: `BusyBox ${bb.version}, static, from Debian's busybox-static (berth fixtures)` },
      { created_by: 'CMD ["sh"]', comment: 'buildkit.dockerfile.v0', empty_layer: true },
    ],
  }
}

// ---------------------------------------------------------------------------------------------
// hello-world:latest — a static ELF written byte by byte.

export function helloMessage(arch: Arch): string {
  return `
Hello from Berth!
This message shows that your installation appears to be working correctly.

To generate this message, Berth took the following steps:
 1. The berth client contacted the berth daemon.
 2. The daemon found the "hello-world" image in its local image store
    (or pulled it from a registry).
    (${arch})
 3. The daemon created a new container from that image which runs the
    executable that produced the output you are currently reading.
 4. The daemon streamed that output to the berth client, which sent it
    to your terminal.

To try something more ambitious, you can run a busybox container with:
 $ berth run -it busybox sh

For more examples and ideas, see:
 $ berth --help

`
}

const ELF_BASE = 0x400000
const EHDR_SIZE = 64
const PHDR_SIZE = 56

function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]
}

/** Machine code for write(1, msgAddr, len); exit(0). */
function helloCode(arch: Arch, codeAddr: number, msgAddr: number, len: number): Buffer {
  if (arch === 'amd64') {
    return Buffer.from([
      0xb8, ...u32le(1), //          mov eax, 1        (SYS_write)
      0xbf, ...u32le(1), //          mov edi, 1        (stdout)
      0xbe, ...u32le(msgAddr), //    mov esi, msg
      0xba, ...u32le(len), //        mov edx, len
      0x0f, 0x05, //                 syscall
      0xb8, ...u32le(60), //         mov eax, 60       (SYS_exit)
      0x31, 0xff, //                 xor edi, edi
      0x0f, 0x05, //                 syscall
    ])
  }
  if (len > 0xffff) throw new Error('message too long for movz')
  const movz = (rd: number, imm16: number): number => (0xd2800000 | (imm16 << 5) | rd) >>> 0
  const adrAt = 4 // the adr is the second instruction
  const rel = msgAddr - (codeAddr + adrAt)
  const adr = (rd: number): number => ((((rel & 3) << 29) | 0x10000000 | (((rel >> 2) & 0x7ffff) << 5) | rd) >>> 0)
  const svc0 = 0xd4000001
  const words = [
    movz(0, 1), //   mov x0, #1         (stdout)
    adr(1), //       adr x1, msg
    movz(2, len), // mov x2, #len
    movz(8, 64), //  mov x8, #64        (SYS_write)
    svc0, //         svc #0
    movz(0, 0), //   mov x0, #0
    movz(8, 93), //  mov x8, #93        (SYS_exit)
    svc0, //         svc #0
  ]
  const b = Buffer.alloc(words.length * 4)
  words.forEach((w, i) => b.writeUInt32LE(w, i * 4))
  return b
}

/**
 * A minimal static ELF64 executable (ET_EXEC, one PT_LOAD mapping the whole file R+X, plus a
 * PT_GNU_STACK marking the stack non-executable) that prints `message` to stdout and exits 0.
 */
export function buildHelloElf(arch: Arch, message: string): Buffer {
  const msg = Buffer.from(message, 'utf8')
  const phnum = 2
  const codeOff = EHDR_SIZE + PHDR_SIZE * phnum
  const codeLen = arch === 'amd64' ? 31 : 32
  const msgOff = codeOff + codeLen
  const fileSize = msgOff + msg.length
  const code = helloCode(arch, ELF_BASE + codeOff, ELF_BASE + msgOff, msg.length)
  if (code.length !== codeLen) throw new Error('internal: code length mismatch')

  const out = Buffer.alloc(fileSize)
  // e_ident
  out.write('\x7fELF', 0, 'latin1')
  out[4] = 2 // ELFCLASS64
  out[5] = 1 // ELFDATA2LSB
  out[6] = 1 // EV_CURRENT
  out[7] = 0 // ELFOSABI_SYSV
  out.writeUInt16LE(2, 16) // e_type = ET_EXEC
  out.writeUInt16LE(arch === 'amd64' ? 62 : 183, 18) // e_machine = EM_X86_64 / EM_AARCH64
  out.writeUInt32LE(1, 20) // e_version
  out.writeBigUInt64LE(BigInt(ELF_BASE + codeOff), 24) // e_entry
  out.writeBigUInt64LE(BigInt(EHDR_SIZE), 32) // e_phoff
  out.writeBigUInt64LE(0n, 40) // e_shoff
  out.writeUInt32LE(0, 48) // e_flags
  out.writeUInt16LE(EHDR_SIZE, 52) // e_ehsize
  out.writeUInt16LE(PHDR_SIZE, 54) // e_phentsize
  out.writeUInt16LE(phnum, 56) // e_phnum
  out.writeUInt16LE(64, 58) // e_shentsize
  out.writeUInt16LE(0, 60) // e_shnum
  out.writeUInt16LE(0, 62) // e_shstrndx

  // PT_LOAD: the whole file at ELF_BASE, R+X.
  let p = EHDR_SIZE
  out.writeUInt32LE(1, p) // p_type = PT_LOAD
  out.writeUInt32LE(5, p + 4) // p_flags = PF_R | PF_X
  out.writeBigUInt64LE(0n, p + 8) // p_offset
  out.writeBigUInt64LE(BigInt(ELF_BASE), p + 16) // p_vaddr
  out.writeBigUInt64LE(BigInt(ELF_BASE), p + 24) // p_paddr
  out.writeBigUInt64LE(BigInt(fileSize), p + 32) // p_filesz
  out.writeBigUInt64LE(BigInt(fileSize), p + 40) // p_memsz
  out.writeBigUInt64LE(0x10000n, p + 48) // p_align (64 KiB: fine for 4K/16K/64K pages)
  // PT_GNU_STACK: RW, not executable.
  p += PHDR_SIZE
  out.writeUInt32LE(0x6474e551, p)
  out.writeUInt32LE(6, p + 4) // PF_R | PF_W
  out.writeBigUInt64LE(16n, p + 48)

  code.copy(out, codeOff)
  msg.copy(out, msgOff)
  return out
}

export function helloWorldImage(arch: Arch): ImageSpec {
  return {
    repo: 'hello-world',
    tag: 'latest',
    arch,
    layers: [[{ path: 'hello', type: 'file', mode: 0o755, data: buildHelloElf(arch, helloMessage(arch)) }]],
    config: { Env: [DEFAULT_PATH_ENV], Cmd: ['/hello'], WorkingDir: '/', OnBuild: null },
    history: [
      { created_by: 'COPY hello / # buildkit', comment: 'buildkit.dockerfile.v0' },
      { created_by: 'CMD ["/hello"]', comment: 'buildkit.dockerfile.v0', empty_layer: true },
    ],
  }
}

// ---------------------------------------------------------------------------------------------
// berth-bench/big:latest — many files from a seeded PRNG on top of the busybox rootfs.

export interface BigParams {
  seed: string
  /** Total layers including the busybox one. */
  layers: number
  /** Regular files generated in the layers above busybox (small + big + per-layer extras). */
  files: number
  /** Target uncompressed size of all layer tars together. */
  totalBytes: number
  smallMin: number
  smallMax: number
  bigMin: number
  bigMax: number
}

export const BIG_DEFAULT: BigParams = {
  seed: 'berth-bench/big v1',
  layers: 7,
  files: 19_700,
  totalBytes: 200 * 1024 * 1024,
  smallMin: 1024,
  smallMax: 8 * 1024,
  bigMin: 1024 * 1024,
  bigMax: 20 * 1024 * 1024,
}

/** A scaled-down variant for tests: same shape, a few MB. */
export const BIG_SMALL: BigParams = {
  ...BIG_DEFAULT,
  seed: 'berth-bench/small v1',
  files: 240,
  totalBytes: 6 * 1024 * 1024,
  bigMin: 64 * 1024,
  bigMax: 512 * 1024,
}

const SYLLABLES = ['ba', 'be', 'ri', 'th', 'on', 'ka', 'mu', 'lo', 'ne', 'st', 'or', 'ix', 'qu', 'ze', 'an', 'ti', 'po', 'lu', 'dr', 'ey']

/** Generates text-like bytes (words, spaces, newlines) and random bytes. */
class ContentGen {
  private readonly words: Buffer[]

  constructor(private readonly rng: Prng) {
    const words: Buffer[] = []
    for (let i = 0; i < 1024; i++) {
      let w = ''
      const n = rng.int(1, 4)
      for (let j = 0; j < n; j++) w += rng.pick(SYLLABLES)
      words.push(Buffer.from(w))
    }
    this.words = words
  }

  text(size: number): Buffer {
    const out = Buffer.allocUnsafe(size)
    let pos = 0
    let col = 0
    const words = this.words
    while (pos < size) {
      const r = this.rng.next()
      const w = words[r & 1023] ?? words[0]!
      const n = Math.min(w.length, size - pos)
      w.copy(out, pos, 0, n)
      pos += n
      col += n
      if (pos < size) {
        out[pos++] = col > 60 + ((r >>> 10) & 15) ? 0x0a : 0x20
        if (out[pos - 1] === 0x0a) col = 0
        else col++
      }
    }
    return out
  }

  random(size: number): Buffer {
    const out = Buffer.allocUnsafeSlow(size)
    this.rng.fill(out)
    return out
  }

  /** Blocks of 256 KiB, each text or random (about half each). */
  mixed(size: number): Buffer {
    const out = Buffer.allocUnsafeSlow(size)
    const block = 256 * 1024
    for (let off = 0; off < size; off += block) {
      const n = Math.min(block, size - off)
      const chunk = this.rng.chance(0.5) ? this.text(n) : this.random(n)
      chunk.copy(out, off)
    }
    return out
  }
}

/** Estimated tar bytes of a regular file of `size` bytes (header + padded data). */
function tarCost(size: number): number {
  return 512 + Math.ceil(size / 512) * 512
}

/**
 * The layers above busybox. Contents are made lazily while each layer is written, so memory
 * stays bounded by the biggest file.
 */
export function bigLayers(params: BigParams, busyboxLayerBytes: number): Array<LayerEntry[]> {
  const rng = new Prng(params.seed)
  const gen = new ContentGen(new Prng(params.seed + '/content'))
  const extra = params.layers - 1
  if (extra < 1) throw new Error('big image needs at least 2 layers')
  const perLayerBytes = Math.max(0, (params.totalBytes - busyboxLayerBytes) / extra)
  const layers: Array<LayerEntry[]> = []
  let filesLeft = params.files
  const subdirs = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta']

  for (let k = 0; k < extra; k++) {
    const layerNo = k + 2
    const root = `opt/bench/layer${layerNo}`
    const entries: LayerEntry[] = []
    let bytes = 0
    const fixedFiles = 2 // etc/bench-layer + README
    const hardlinks = 3
    const count = Math.max(0, Math.round(filesLeft / (extra - k)) - fixedFiles)
    filesLeft -= count + fixedFiles

    entries.push({
      path: 'etc/bench-layer',
      type: 'file',
      mode: 0o644,
      data: Buffer.from(`berth-bench/big layer ${layerNo} of ${params.layers}\n`),
    })
    entries.push({ path: 'etc', type: 'dir', mode: 0o755 })
    entries.push({
      path: `${root}/README`,
      type: 'file',
      mode: 0o644,
      data: Buffer.from(`Generated by berth scripts/make-fixtures (seed ${JSON.stringify(params.seed)}).\n`),
    })

    // Small files in a nested tree, 1–4 directory levels deep.
    const small: string[] = []
    const smallBudget = Math.max(0, count - hardlinks)
    for (let i = 0; i < smallBudget; i++) {
      const depth = rng.int(1, 4)
      const parts: string[] = []
      for (let d = 0; d < depth; d++) parts.push(d === 0 ? rng.pick(subdirs) : `d${rng.int(0, 5)}`)
      const isText = rng.chance(0.5)
      const size = rng.int(params.smallMin, params.smallMax)
      const path = `${root}/${parts.join('/')}/f${String(i).padStart(5, '0')}.${isText ? 'txt' : 'bin'}`
      const exec = rng.chance(0.05)
      entries.push({
        path,
        type: 'file',
        mode: exec ? 0o755 : 0o644,
        data: isText ? () => gen.text(size) : () => gen.random(size),
        inode: path,
      })
      small.push(path)
      bytes += tarCost(size)
    }
    bytes += 512 * 64 // directories, roughly

    // Hard links to a few small files (same layer), and symlinks: relative, absolute, to a dir.
    for (let j = 0; j < hardlinks && small.length > 0; j++) {
      const target = rng.pick(small)
      entries.push({ path: `${root}/links/hardlink-${j}`, type: 'file', mode: 0o644, inode: target })
      bytes += 512
    }
    if (small.length > 0) {
      const target = rng.pick(small)
      entries.push({ path: `${root}/links/latest`, type: 'symlink', mode: 0o777, target: posix.relative(`${root}/links`, target) })
    }
    entries.push({ path: `${root}/links/shell`, type: 'symlink', mode: 0o777, target: '/bin/busybox' })
    entries.push({ path: `${root}/links/first-dir`, type: 'symlink', mode: 0o777, target: `../${subdirs[0]}` })

    // Big files (mixed text/random blocks) filling the layer up to its share of the total.
    let budget = perLayerBytes - bytes
    let j = 0
    while (budget >= params.bigMin + 512) {
      let size = rng.int(params.bigMin, params.bigMax)
      if (size > budget - 512) size = Math.floor((budget - 512) / 512) * 512
      if (size < params.bigMin) break
      entries.push({ path: `${root}/big/blob-${j}.dat`, type: 'file', mode: 0o644, data: () => gen.mixed(size) })
      budget -= tarCost(size)
      j++
    }
    layers.push(entries)
  }
  return layers
}

export function bigImage(bb: BusyboxInfo, arch: Arch, params: BigParams, busyboxLayerBytes: number, repo = 'berth-bench/big'): ImageSpec {
  const upper = bigLayers(params, busyboxLayerBytes)
  return {
    repo,
    tag: 'latest',
    arch,
    layers: [busyboxRootfs(bb), ...upper],
    config: {
      Env: [DEFAULT_PATH_ENV],
      Cmd: ['sh'],
      WorkingDir: '/',
      Labels: { 'org.opencontainers.image.description': 'berth benchmark image (generated, deterministic)' },
      OnBuild: null,
    },
    history: [
      { created_by: `BusyBox ${bb.version}, static, from Debian's busybox-static (berth fixtures)` },
      ...upper.map((_, i) => ({ created_by: `COPY layer${i + 2} / # buildkit`, comment: 'buildkit.dockerfile.v0' })),
      { created_by: 'CMD ["sh"]', comment: 'buildkit.dockerfile.v0', empty_layer: true },
    ],
  }
}

// ---------------------------------------------------------------------------------------------
// Generation with a cache.

export interface FixtureResult extends Partial<ArchiveResult> {
  name: string
  path: string
  cached: boolean
  key: string
}

export interface GenerateOptions {
  outDir: string
  big?: boolean
  /** Parameters of the big image (defaults to BIG_DEFAULT). */
  bigParams?: BigParams
  busyboxPath?: string
  arch?: Arch
  /** Rebuild even when the cache key matches. */
  force?: boolean
  log?: (msg: string) => void
}

function cacheKey(parts: Record<string, unknown>): string {
  return sha256Hex(JSON.stringify({ version: SCRIPT_VERSION, ...parts }))
}

function cachedOk(tarPath: string, key: string): boolean {
  try {
    return existsSync(tarPath) && readFileSync(`${tarPath}.key`, 'utf8').trim() === key
  } catch {
    return false
  }
}

/**
 * Generates busybox.tar and hello-world.tar (and bench-big.tar with `big`) in outDir, skipping any
 * whose `<name>.tar.key` sidecar matches the hash of its inputs.
 */
export function generateFixtures(opts: GenerateOptions): FixtureResult[] {
  const outDir = resolve(opts.outDir)
  const arch = opts.arch ?? hostArch()
  const log = opts.log ?? (() => {})
  mkdirSync(outDir, { recursive: true })
  const bb = inspectBusybox(opts.busyboxPath)
  const bigParams = opts.bigParams ?? BIG_DEFAULT

  type Job = { name: string; key: string; spec: () => ImageSpec }
  let busyboxLayerBytes: number | undefined
  const jobs: Job[] = [
    { name: 'busybox.tar', key: cacheKey({ image: 'busybox', busybox: bb.sha256, arch }), spec: () => busyboxImage(bb, arch) },
    { name: 'hello-world.tar', key: cacheKey({ image: 'hello-world', arch }), spec: () => helloWorldImage(arch) },
  ]
  if (opts.big === true) {
    jobs.push({
      name: 'bench-big.tar',
      key: cacheKey({ image: 'bench-big', busybox: bb.sha256, arch, params: bigParams }),
      spec: () => {
        if (busyboxLayerBytes === undefined) {
          const s = new Sink()
          writeLayer(s, busyboxRootfs(bb))
          busyboxLayerBytes = s.finish().size
        }
        return bigImage(bb, arch, bigParams, busyboxLayerBytes)
      },
    })
  }

  const results: FixtureResult[] = []
  for (const job of jobs) {
    const path = join(outDir, job.name)
    if (opts.force !== true && cachedOk(path, job.key)) {
      log(`${job.name}: up to date`)
      results.push({ name: job.name, path, cached: true, key: job.key })
      continue
    }
    const started = Date.now()
    const tmp = mkdtempSync(join(outDir, `.tmp-${job.name}-`))
    try {
      rmSync(`${path}.key`, { force: true })
      const r = writeImageArchive(job.spec(), path, tmp)
      writeFileSync(`${path}.key`, job.key + '\n')
      log(`${job.name}: ${r.imageId} (${r.archiveSize} bytes, ${r.diffIds.length} layer(s)) in ${Date.now() - started} ms`)
      results.push({ name: job.name, cached: false, key: job.key, ...r })
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  }
  return results
}

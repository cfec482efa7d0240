import { createHash, randomBytes } from 'node:crypto'
import { lstat, mkdir, readdir, rename, rm, unlink } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { type Digest, chainIds, digestHex } from '../lib/digest.js'
import { invalid, isNotFoundErrno } from '../lib/errors.js'
import { readJson, TMP_MARK, writeJsonAtomic } from '../lib/fs.js'
import { TarFormatError, TarScanner, type TarEntry } from '../lib/tar-scan.js'
import { realPlatform, type FileTools, type Platform, type ToolProcess } from '../platform/platform.js'
import { firstStderrLines, startTarExtract } from '../platform/tar.js'

/** An unpacked layer: its diff directory is an overlay lower dir. */
export interface LayerRecord {
  chainId: Digest
  diffId: Digest
  parent?: Digest
  /** Bytes of regular files in the diff, as Docker reports a layer's size. */
  size: number
}

/** A layer extracted into a staging directory, not yet part of the store. */
export interface StagedLayer {
  readonly dir: string
  readonly diffId: Digest
  readonly size: number
}

/** Receives an uncompressed layer tar; `finish` waits for extraction and applies whiteouts. */
export interface LayerExtractor {
  write(chunk: Buffer): Promise<void>
  finish(): Promise<StagedLayer>
  abort(): Promise<void>
}

const WHITEOUT_PREFIX = '.wh.'
const OPAQUE = '.wh..wh..opq'

/**
 * Unpacked image layers, each an overlay lower dir. The contract (layer-store.testsuite.ts):
 * - A layer tar is streamed into an extractor (never buffered whole); `finish` gives its diffId
 *   (sha256 of the uncompressed tar) and size (bytes of regular files), with OCI whiteouts turned
 *   into overlay ones (`.wh.x` → a 0/0 character device x, `.wh..wh..opq` → the directory marked
 *   opaque). Owners, modes, symlinks, hard links and xattrs are kept.
 * - A tar that is malformed or truncated rejects InvalidArgument (ERR_BAD_LAYER) and leaves
 *   nothing behind; so does `abort`. Nothing in a tar writes outside the layer (`..`, absolute
 *   names, whiteouts behind symlinks).
 * - `commit(staged, parent)` publishes it under chainId(parent, diffId) atomically; committing a
 *   chain that exists returns the existing record and drops the staged copy.
 * - `lowerDirs` lists a chain's diff dirs topmost first. `remove` makes a layer absent at once.
 * - After a restart (`init` on the same root), exactly the committed layers are there.
 */
export interface LayerStorage {
  init(): Promise<void>
  get(chainId: string): LayerRecord | undefined
  has(chainId: string): boolean
  list(): LayerRecord[]
  diffPath(chainId: string): string
  lowerDirs(chainId: string): string[]
  extractor(): Promise<LayerExtractor>
  commit(staged: StagedLayer, parent: Digest | undefined): Promise<LayerRecord>
  discard(staged: StagedLayer | { dir: string }): Promise<void>
  remove(chainId: string): Promise<void>
  /** Resolves once removed layers' files are gone from disk. */
  settle(): Promise<void>
}

/**
 * Unpacked layers, `layers/<chain-hex>/{diff,layer.json}`. A layer is extracted into a staging
 * dir, then published by one rename, so it is either whole or absent. Deletion renames into
 * `layers/.trash` and removes in the background (the disk is mounted with `discard`, which makes
 * large synchronous deletes slow), so a delete is instant and crash-safe.
 */
export class LayerStore implements LayerStorage {
  readonly root: string
  readonly #trash: string
  #layers = new Map<Digest, LayerRecord>()
  #purging?: Promise<void>

  constructor(dataRoot: string, private readonly log: (msg: string) => void = () => {}, private readonly platform: Platform = realPlatform()) {
    this.root = join(dataRoot, 'layers')
    this.#trash = join(this.root, '.trash')
  }

  async init(): Promise<void> {
    await mkdir(this.#trash, { recursive: true })
    for (const name of await readdir(this.root)) {
      if (name.startsWith(TMP_MARK)) {
        await rename(join(this.root, name), join(this.#trash, name))
        continue
      }
      if (!/^[a-f0-9]{64}$/.test(name)) continue
      const rec = await readJson<LayerRecord>(join(this.root, name, 'layer.json'))
      if (!rec) {
        // A directory without its record was never published: discard it.
        await rename(join(this.root, name), join(this.#trash, `${TMP_MARK}${name}`))
        continue
      }
      this.#layers.set(rec.chainId, rec)
    }
    this.#purgeTrash()
  }

  get(chainId: string): LayerRecord | undefined {
    return this.#layers.get(chainId as Digest)
  }

  has(chainId: string): boolean {
    return this.#layers.has(chainId as Digest)
  }

  list(): LayerRecord[] {
    return [...this.#layers.values()]
  }

  diffPath(chainId: string): string {
    return join(this.root, digestHex(chainId), 'diff')
  }

  /** Overlay lower dirs of a chain, topmost first. */
  lowerDirs(chainId: string): string[] {
    const dirs: string[] = []
    for (let rec = this.get(chainId); rec; rec = rec.parent ? this.get(rec.parent) : undefined) dirs.push(this.diffPath(rec.chainId))
    return dirs
  }

  /** Start extracting an uncompressed layer tar into a new staging directory. */
  async extractor(): Promise<LayerExtractor> {
    const dir = join(this.root, `${TMP_MARK}${randomBytes(8).toString('hex')}`)
    await mkdir(join(dir, 'diff'), { recursive: true, mode: 0o755 })
    return new TarExtractor(dir, this.platform)
  }

  /** Publish a staged layer on top of `parent`. When the chain already exists, the staged copy is dropped. */
  async commit(staged: StagedLayer, parent: Digest | undefined): Promise<LayerRecord> {
    const [chainId] = parent ? [chainIds([parent, staged.diffId])[1]!] : [staged.diffId]
    const existing = this.#layers.get(chainId)
    if (existing) {
      await this.discard(staged)
      return existing
    }
    const rec: LayerRecord = { chainId, diffId: staged.diffId, ...(parent ? { parent } : {}), size: staged.size }
    await writeJsonAtomic(join(staged.dir, 'layer.json'), rec)
    try {
      await rename(staged.dir, join(this.root, digestHex(chainId)))
    } catch (err) {
      // Another load published the same chain meanwhile.
      if ((err as { code?: string }).code === 'ENOTEMPTY' || (err as { code?: string }).code === 'EEXIST') {
        await this.discard(staged)
        const rec2 = await readJson<LayerRecord>(join(this.root, digestHex(chainId), 'layer.json'))
        if (rec2) { this.#layers.set(chainId, rec2); return rec2 }
      }
      throw err
    }
    this.#layers.set(chainId, rec)
    return rec
  }

  async discard(staged: StagedLayer | { dir: string }): Promise<void> {
    try {
      await rename(staged.dir, join(this.#trash, `${TMP_MARK}${randomBytes(8).toString('hex')}`))
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
    this.#purgeTrash()
  }

  /** Remove a layer; its files go away in the background. */
  async remove(chainId: string): Promise<void> {
    const rec = this.#layers.get(chainId as Digest)
    if (!rec) return
    this.#layers.delete(rec.chainId)
    try {
      await rename(join(this.root, digestHex(chainId)), join(this.#trash, `${digestHex(chainId)}-${randomBytes(4).toString('hex')}`))
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
    }
    this.#purgeTrash()
  }

  /** Resolves when the trash is empty (tests and shutdown use it). */
  async settle(): Promise<void> {
    while (this.#purging) await this.#purging
  }

  #purgeTrash(): void {
    if (this.#purging) {
      this.#purgeAgain = true
      return
    }
    this.#purging = (async () => {
      do {
        this.#purgeAgain = false
        let names: string[] = []
        try { names = await readdir(this.#trash) } catch (err) { if (!isNotFoundErrno(err)) this.log(`layer trash: ${String(err)}`) }
        for (const n of names) {
          try { await rm(join(this.#trash, n), { recursive: true, force: true }) } catch (err) { this.log(`layer trash: ${String(err)}`) }
        }
      } while (this.#purgeAgain)
    })().finally(() => { this.#purging = undefined })
  }
  #purgeAgain = false
}

/** GNU tar reads the stream; the scanner watches the same bytes for whiteouts and sizes. */
class TarExtractor implements LayerExtractor {
  #hash = createHash('sha256')
  #scanner: TarScanner
  #whiteouts: string[] = []
  #size = 0
  #tar: ToolProcess
  #stdin
  #aborted = false
  #scanError?: Error

  constructor(readonly dir: string, readonly platform: Platform) {
    this.#scanner = new TarScanner((e) => this.#onEntry(e))
    this.#tar = startTarExtract(platform.spawner, join(dir, 'diff'))
    this.#stdin = this.#tar.stdin!
  }

  #onEntry(e: TarEntry): void {
    if (e.type === '0' || e.type === '\0' || e.type === '7' || e.type === 'S') this.#size += e.size
    const base = posix.basename(e.path)
    if (base.startsWith(WHITEOUT_PREFIX)) this.#whiteouts.push(e.path)
  }

  async write(chunk: Buffer): Promise<void> {
    this.#hash.update(chunk)
    if (!this.#scanner.ended && !this.#scanError) {
      try { this.#scanner.write(chunk) } catch (err) { this.#scanError = err as Error }
    }
    const stdin = this.#stdin
    if (stdin.writable && !stdin.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => { stdin.off('drain', done); stdin.off('close', done); resolve() }
        stdin.once('drain', done)
        stdin.once('close', done)
      })
    }
  }

  async finish(): Promise<StagedLayer> {
    this.#stdin.end()
    const { code, stderr, spawnError } = await this.#tar.exit
    const diffId: Digest = `sha256:${this.#hash.digest('hex')}`
    try {
      if (this.#scanError instanceof TarFormatError || this.#scanError) throw invalid('ERR_BAD_LAYER', `invalid layer tar: ${this.#scanError.message}`)
      if (code !== 0) {
        const msg = spawnError ? String(spawnError) : firstStderrLines(stderr)
        throw invalid('ERR_BAD_LAYER', `error extracting layer: ${msg || `tar exit status ${code}`}`)
      }
      if (!this.#scanner.ended && this.#scanner.offset > 0) {
        throw invalid('ERR_BAD_LAYER', 'error extracting layer: unexpected EOF')
      }
      await applyWhiteouts(this.platform.fileTools, join(this.dir, 'diff'), this.#whiteouts)
    } catch (err) {
      await rm(this.dir, { recursive: true, force: true })
      throw err
    }
    return { dir: this.dir, diffId, size: this.#size }
  }

  async abort(): Promise<void> {
    if (this.#aborted) return
    this.#aborted = true
    this.#stdin.destroy()
    this.#tar.kill('SIGKILL')
    await this.#tar.exit
    await rm(this.dir, { recursive: true, force: true })
  }
}

/**
 * Convert OCI whiteouts to overlay whiteouts: `.wh.name` becomes a 0/0 character device
 * `name`, `.wh..wh..opq` marks its directory opaque. Every parent is checked to be a real
 * directory inside the root first, so a symlink in the layer cannot redirect the change.
 */
async function applyWhiteouts(tools: FileTools, root: string, paths: string[]): Promise<void> {
  if (paths.length === 0) return
  const opaque: string[] = []
  const devices: string[] = []
  for (const raw of paths) {
    const rel = posix.normalize(raw.replace(/^\/+/, '')).replace(/\/+$/, '')
    if (rel.startsWith('../') || rel === '..') continue // tar never wrote it
    const parent = posix.dirname(rel)
    const base = posix.basename(rel)
    const parentAbs = await safeDir(root, parent === '.' ? '' : parent)
    if (parentAbs === undefined) continue
    const file = join(parentAbs, base)
    try {
      const st = await lstat(file)
      if (!st.isFile()) continue
      await unlink(file)
    } catch (err) {
      if (isNotFoundErrno(err)) continue
      throw err
    }
    if (base === OPAQUE) opaque.push(parentAbs)
    else if (base.length > WHITEOUT_PREFIX.length) devices.push(join(parentAbs, base.slice(WHITEOUT_PREFIX.length)))
  }
  await tools.makeWhiteouts(devices)
  await tools.markOpaque(opaque)
}

/** Resolve a relative directory under root without following symlinks; undefined if not a real dir. */
async function safeDir(root: string, rel: string): Promise<string | undefined> {
  let cur = root
  for (const part of rel.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') return undefined
    cur = join(cur, part)
    try {
      const st = await lstat(cur)
      if (!st.isDirectory()) return undefined
    } catch (err) {
      if (isNotFoundErrno(err)) return undefined
      throw err
    }
  }
  return cur
}

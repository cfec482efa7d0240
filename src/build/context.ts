/**
 * The build context: the request body (a tar, plain or compressed), kept in memory as an index
 * of its entries (content, metadata and sha256, computed as it streams) while it is small
 * enough, so a build whose COPY steps hit the cache writes no file of it, and a COPY that misses
 * packs its layer straight from memory; a context with symlinks or hard links, or too large to
 * hold, is unpacked into a private directory instead (MemContext.spill). Entries are untrusted: absolute names and `..` are refused, every parent is checked
 * to be a real directory (never a symlink an earlier entry planted), files are created with
 * O_EXCL|O_NOFOLLOW. Symlinks are kept as symlinks and followed only in scope when read.
 */
import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { lstat, mkdir, open, rm, symlink, link, utimes, chmod } from 'node:fs/promises'
import { posix } from 'node:path'
import { Readable } from 'node:stream'
import * as tarStream from 'tar-stream'
import { decompressed } from '../core/decompress.js'
import { EngineError, invalid, isNotFoundErrno } from '../lib/errors.js'

const MAX_ENTRIES = 1_000_000
/** A context held in memory at most this big (file bytes), no file bigger than MEM_FILE_MAX. */
const MEM_BUDGET = 128 << 20
const MEM_FILE_MAX = 16 << 20
const MAX_PENDING = 16
const SMALL_FILE = 1 << 20
const UMASK = (() => { const m = process.umask(0); process.umask(m); return m })()

/** The tar's entries; a body that is not a (complete) tar is the client's error, not berthd's. */
async function* tarEntries<T>(extract: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    for await (const e of extract) yield e
  } catch (err) {
    if (err instanceof EngineError) throw err
    throw invalid('ERR_BAD_TAR', `invalid tar archive: ${(err as Error)?.message ?? String(err)}`)
  }
}

/**
 * Unpack the context into `dir`; returns the number of entries. The sha256 of each regular
 * file's content is recorded in `hashes` (by absolute path) on the way, so COPY need not read
 * the files again to compute its cache key.
 */
export async function extractContext(body: AsyncIterable<Buffer>, dir: string, signal?: AbortSignal, hashes?: Map<string, string>, memory?: MemContext): Promise<number> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  let mem = memory
  const extract = tarStream.extract()
  const source = Readable.from(decompressed(body, signal))
  source.on('error', (e) => extract.destroy(e))
  source.pipe(extract)
  let n = 0
  /** Directories this extraction made or checked (relative names; '.' is the root). */
  const known = new Set<string>(['.'])
  const seen = new Set<string>()
  const pending = new Set<Promise<void>>()
  const dirTimes: Array<[string, Date]> = []
  // The docker CLI's context for a Dockerfile outside it (the file appended under a random name)
  // ends right after the last entry's data, without padding or end blocks; Go's tar reader (so
  // dockerd) accepts that, and so does this once the last entry is complete.
  let entryDone = true
  try {
    for await (const entry of tarEntries(extract)) {
      entryDone = false
      const h = entry.header
      if (++n > MAX_ENTRIES) throw invalid('ERR_CONTEXT_TOO_BIG', 'build context has too many entries')
      const name = posix.normalize(h.name).replace(/\/+$/, '')
      if (name === '.' || name === '') { entry.resume(); entryDone = true; continue }
      if (h.name.startsWith('/') || name === '..' || name.startsWith('../')) throw invalid('ERR_CONTEXT_ENTRY', `invalid build context entry: ${h.name}`)
      const target = `${dir}/${name}`
      if (mem) {
        const size = h.size ?? 0
        const isFile = h.type === 'file' || h.type === 'contiguous-file'
        if (isFile && size <= MEM_FILE_MAX && mem.bytes + size <= MEM_BUDGET) {
          const chunks: Buffer[] = []
          for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk)
          const data = Buffer.concat(chunks)
          if (hashes) hashes.set(target, createHash('sha256').update(data).digest('hex'))
          mem.add(name, { type: 'file', mode: (h.mode ?? 0o644) & 0o7777, mtime: h.mtime ?? new Date(), data })
          seen.add(name)
          entryDone = true
          continue
        }
        if (h.type === 'directory') {
          mem.add(name, { type: 'dir', mode: (h.mode ?? 0o755) & 0o7777, mtime: h.mtime ?? new Date() })
          seen.add(name)
          entry.resume()
          entryDone = true
          continue
        }
        if (!isFile && h.type !== 'symlink' && h.type !== 'link') { entry.resume(); entryDone = true; continue }
        // A symlink, a hard link or a large file: the context goes to disk from here on.
        await mem.spill()
        for (const d of mem.dirs()) known.add(d)
        mem = undefined
      }
      await ensureParents(dir, name, known)
      // A name seen for the first time under a directory this extraction made cannot exist yet.
      if (seen.has(name) || !known.has(posix.dirname(name))) {
        await Promise.all(pending)
        await removeExisting(target, h.type === 'directory')
      }
      seen.add(name)
      const mode = (h.mode ?? 0o644) & 0o7777
      if (h.type === 'directory') {
        await mkdir(target, { mode: 0o700 }).catch((e) => { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e })
        await chmod(target, mode)
        known.add(name)
        if (h.mtime) dirTimes.push([target, h.mtime])
        entry.resume()
      } else if (h.type === 'file' || h.type === 'contiguous-file') {
        if ((h.size ?? 0) > SMALL_FILE) {
          // A large file streams to disk (never held in memory), hashed as it goes.
          const fh = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
          const hh = createHash('sha256')
          try {
            for await (const chunk of entry as AsyncIterable<Buffer>) { hh.update(chunk); await fh.write(chunk) }
            if ((mode & ~UMASK) !== mode) await fh.chmod(mode)
            if (h.mtime) await fh.utimes(h.mtime, h.mtime)
          } finally { await fh.close() }
          hashes?.set(target, hh.digest('hex'))
        } else {
          const chunks: Buffer[] = []
          for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk)
          // Small files are written a few at a time (the thread pool works in parallel) while the tar is read on.
          const writing = writeFile(target, chunks, mode, h.mtime, hashes)
          pending.add(writing)
          void writing.finally(() => pending.delete(writing)).catch(() => undefined)
          if (pending.size >= MAX_PENDING) await Promise.race(pending)
        }
      } else if (h.type === 'symlink') {
        await symlink(h.linkname ?? '', target)
        entry.resume()
      } else if (h.type === 'link') {
        await Promise.all(pending)
        const src = posix.normalize(h.linkname ?? '')
        if (src.startsWith('/') || src === '..' || src.startsWith('../')) throw invalid('ERR_CONTEXT_ENTRY', `invalid hard link in build context: ${h.name}`)
        await ensureParents(dir, src)
        const st = await lstat(`${dir}/${src}`)
        if (!st.isFile()) throw invalid('ERR_CONTEXT_ENTRY', `invalid hard link in build context: ${h.name}`)
        await link(`${dir}/${src}`, target)
        entry.resume()
      } else {
        entry.resume() // devices, fifos: not part of a build context
      }
      entryDone = true
    }
  } catch (err) {
    if (!(entryDone && n > 0 && /Unexpected end of data/i.test((err as Error)?.message ?? ''))) throw err
  }
  await Promise.all(pending)
  for (const [d, t] of dirTimes.reverse()) await utimes(d, t, t).catch(() => undefined)
  return n
}

/** One entry of an in-memory context. */
interface MemNode { type: 'file' | 'dir'; mode: number; mtime: Date; data?: Buffer }

/**
 * A build context held in memory (see the top of this file): entries by relative name, answering
 * lstat/readdir for paths under `dir` as the unpacked directory would. `spill` writes it into
 * `dir` (once); after that the directory is the context.
 */
export class MemContext {
  readonly #nodes = new Map<string, MemNode>([['', { type: 'dir', mode: 0o700, mtime: new Date() }]])
  readonly #children = new Map<string, Set<string>>([['', new Set()]])
  bytes = 0
  spilled = false
  #spilling: Promise<void> | undefined
  constructor(readonly dir: string) {}

  /** Add (or replace, as a later tar entry does) `name`; missing parents are made 0755. */
  add(name: string, node: MemNode): void {
    const parts = name.split('/')
    let parent = ''
    for (const p of parts.slice(0, -1)) {
      const cur = parent ? `${parent}/${p}` : p
      const n = this.#nodes.get(cur)
      if (!n) {
        this.#nodes.set(cur, { type: 'dir', mode: 0o755 & ~UMASK, mtime: new Date() })
        this.#children.set(cur, new Set())
        this.#children.get(parent)!.add(p)
      } else if (n.type !== 'dir') throw invalid('ERR_CONTEXT_ENTRY', `invalid build context entry: ${name} (parent is not a directory)`)
      parent = cur
    }
    const old = this.#nodes.get(name)
    if (old?.type === 'dir' && node.type === 'dir') { old.mode = node.mode; old.mtime = node.mtime; return }
    if (old) this.#remove(name)
    this.#nodes.set(name, node)
    if (node.type === 'dir') this.#children.set(name, new Set())
    else this.bytes += node.data!.length
    this.#children.get(parent)!.add(parts.at(-1)!)
  }

  #remove(name: string): void {
    const n = this.#nodes.get(name)
    if (!n) return
    for (const c of this.#children.get(name) ?? []) this.#remove(`${name}/${c}`)
    this.#children.delete(name)
    if (n.data) this.bytes -= n.data.length
    this.#nodes.delete(name)
    const i = name.lastIndexOf('/')
    this.#children.get(i < 0 ? '' : name.slice(0, i))?.delete(name.slice(i + 1))
  }

  /** The relative name of an absolute path inside the context, or undefined. */
  #rel(path: string): string | undefined {
    if (path === this.dir || path === `${this.dir}/`) return ''
    if (!path.startsWith(`${this.dir}/`)) return undefined
    const r = posix.normalize(path.slice(this.dir.length + 1)).replace(/^\/+|\/+$/g, '')
    return r === '.' || r === '' ? '' : r === '..' || r.startsWith('../') ? undefined : r
  }

  #lookup(path: string, syscall: string): MemNode {
    const rel = this.#rel(path)
    const n = rel === undefined ? undefined : this.#nodes.get(rel)
    if (!n) {
      // A file where a directory is expected reads as ENOTDIR, as the kernel says.
      const parts = (rel ?? '').split('/')
      for (let i = 1; i < parts.length; i++) {
        if (this.#nodes.get(parts.slice(0, i).join('/'))?.type === 'file') throw errno('ENOTDIR', syscall, path)
      }
      throw errno('ENOENT', syscall, path)
    }
    return n
  }

  lstat(path: string): Promise<import('node:fs').Stats> {
    try {
      const n = this.#lookup(path, 'lstat')
      const dir = n.type === 'dir'
      return Promise.resolve({
        mode: (dir ? 0o040000 : 0o100000) | n.mode, size: dir ? 4096 : n.data!.length, mtime: n.mtime, uid: 0, gid: 0,
        isDirectory: () => dir, isFile: () => !dir, isSymbolicLink: () => false,
      } as unknown as import('node:fs').Stats)
    } catch (err) { return Promise.reject(err) }
  }

  readdir(path: string): Promise<string[]> {
    try {
      const n = this.#lookup(path, 'scandir')
      if (n.type !== 'dir') throw errno('ENOTDIR', 'scandir', path)
      return Promise.resolve([...this.#children.get(this.#rel(path)!)!])
    } catch (err) { return Promise.reject(err) }
  }

  /** A file's content (absolute path), or undefined when `path` is no file of this context. */
  data(path: string): Buffer | undefined {
    const rel = this.#rel(path)
    return rel === undefined ? undefined : this.#nodes.get(rel)?.data
  }

  /** The context's file at `rel` (Dockerfile, .dockerignore): errors as readFile gives them. */
  readFile(rel: string): Buffer {
    const n = this.#lookup(`${this.dir}/${rel}`, 'open')
    if (n.type === 'dir') throw errno('EISDIR', 'read', rel)
    return n.data!
  }

  /** Relative names of the directories. */
  dirs(): string[] { return [...this.#nodes].filter(([k, n]) => k !== '' && n.type === 'dir').map(([k]) => k) }

  /** Write the context into `dir` (once); it is then the context, as if unpacked there. */
  spill(): Promise<void> {
    this.#spilling ??= (async () => {
      const times: Array<[string, Date]> = []
      const pending = new Set<Promise<void>>()
      for (const [name, n] of this.#nodes) {
        if (name === '') continue
        const target = `${this.dir}/${name}`
        if (n.type === 'dir') {
          // Parents come before children (insertion order); a replaced directory keeps its place.
          await mkdir(target, { mode: 0o700 }).catch((e) => { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e })
          await chmod(target, n.mode)
          times.push([target, n.mtime])
        }
      }
      for (const [name, n] of this.#nodes) {
        if (n.type !== 'file') continue
        const w = writeFile(`${this.dir}/${name}`, [n.data!], n.mode, n.mtime, undefined)
        pending.add(w)
        void w.finally(() => pending.delete(w)).catch(() => undefined)
        if (pending.size >= MAX_PENDING) await Promise.race(pending)
      }
      await Promise.all(pending)
      for (const [d, t] of times.reverse()) await utimes(d, t, t).catch(() => undefined)
      this.spilled = true
      this.#nodes.clear()
      this.#children.clear()
    })()
    return this.#spilling
  }
}

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${syscall} '${path}'`) as NodeJS.ErrnoException
  e.code = code
  e.syscall = syscall
  e.path = path
  return e
}

async function writeFile(target: string, chunks: Buffer[], mode: number, mtime: Date | undefined, hashes: Map<string, string> | undefined): Promise<void> {
  const fh = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
  try {
    if (chunks.length) await fh.writev(chunks)
    // The umask may have taken bits the archive asked for.
    if ((mode & ~UMASK) !== mode) await fh.chmod(mode)
    if (mtime) await fh.utimes(mtime, mtime)
  } finally { await fh.close() }
  if (hashes) { const hh = createHash('sha256'); for (const c of chunks) hh.update(c); hashes.set(target, hh.digest('hex')) }
}

/** Every parent of `name` inside `root` must be a real directory; missing ones are created. */
async function ensureParents(root: string, name: string, known: Set<string> = new Set()): Promise<void> {
  const parts = name.split('/').slice(0, -1)
  let cur = root
  let rel = ''
  for (const p of parts) {
    cur += `/${p}`
    rel = rel ? `${rel}/${p}` : p
    if (known.has(rel)) continue
    known.add(rel)
    try {
      const st = await lstat(cur)
      if (!st.isDirectory()) throw invalid('ERR_CONTEXT_ENTRY', `invalid build context entry: ${name} (parent is not a directory)`)
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
      await mkdir(cur, { mode: 0o755 })
    }
  }
}

async function removeExisting(target: string, keepDir: boolean): Promise<void> {
  try {
    const st = await lstat(target)
    if (st.isDirectory() && keepDir) return
    await rm(target, { recursive: true, force: true })
  } catch (err) {
    if (!isNotFoundErrno(err)) throw err
  }
}

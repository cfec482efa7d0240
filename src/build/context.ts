/**
 * The build context: the request body (a tar, plain or compressed) unpacked into a private
 * directory. Entries are untrusted: absolute names and `..` are refused, every parent is checked
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
export async function extractContext(body: AsyncIterable<Buffer>, dir: string, signal?: AbortSignal, hashes?: Map<string, string>): Promise<number> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
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

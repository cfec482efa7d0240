/**
 * Files for COPY/ADD: finding sources in the context or an image root (globs, .dockerignore,
 * directory walks), hashing them, and packing the entries into a tar stream.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat as fsLstat, open, readdir as fsReaddir } from 'node:fs/promises'
import { posix } from 'node:path'
import * as tarStream from 'tar-stream'
import { detectCompression } from '../core/decompress.js'
import { isNotFoundErrno } from '../lib/errors.js'
import { isIgnored, type IgnorePattern } from './dockerignore.js'

export interface TarEntry {
  name: string
  type: 'file' | 'directory' | 'symlink'
  mode: number
  uid: number
  gid: number
  size?: number
  mtime?: Date
  linkname?: string
  path?: string
  data?: Buffer
}

export function packEntries(entries: TarEntry[]): AsyncIterable<Buffer> {
  const pack = tarStream.pack()
  void (async () => {
    try {
      for (const e of entries) {
        const header = { name: e.name, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime ?? new Date(), ...(e.linkname !== undefined ? { linkname: e.linkname } : {}) }
        if (e.type !== 'file') {
          await new Promise<void>((res, rej) => pack.entry(header, Buffer.alloc(0), (err) => (err ? rej(err) : res())))
        } else if (e.data) {
          await new Promise<void>((res, rej) => pack.entry({ ...header, size: e.data!.length }, e.data!, (err) => (err ? rej(err) : res())))
        } else {
          await new Promise<void>((res, rej) => {
            const w = pack.entry({ ...header, size: e.size ?? 0 }, (err) => (err ? rej(err) : res()))
            const r = createReadStream(e.path!)
            r.on('error', (err) => { w.destroy(err); rej(err) })
            r.pipe(w)
          })
        }
      }
      pack.finalize()
    } catch (err) {
      pack.destroy(err as Error)
    }
  })()
  return pack as unknown as AsyncIterable<Buffer>
}

/** The two file-system calls source lookups make: the disk's, or an in-memory build context's. */
export interface SourceFs {
  lstat(path: string): Promise<import('node:fs').Stats>
  readdir(path: string): Promise<string[]>
}
export const diskFs: SourceFs = { lstat: (p) => fsLstat(p), readdir: (p) => fsReaddir(p) }
const lstat = fsLstat

/** The directories of `dir` (a followed container path) that do not exist yet, top first. */
export async function missingDirs(root: string, dir: string, uid: number, gid: number): Promise<TarEntry[]> {
  const out: TarEntry[] = []
  const parts = dir.split('/').filter(Boolean)
  let cur = ''
  for (const p of parts) {
    cur += `/${p}`
    const exists = await lstat(root + cur).then(() => true, (e) => { if (isNotFoundErrno(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return false; throw e })
    if (!exists) out.push({ name: cur.slice(1), type: 'directory', mode: 0o755, uid, gid })
  }
  return out
}

export function fakeStat(size: number, mode = 0o644): import('node:fs').Stats {
  return { size, mode: 0o100000 | mode, mtime: new Date(), isDirectory: () => false, isFile: () => true, isSymbolicLink: () => false } as unknown as import('node:fs').Stats
}

export async function fileHash(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer)
  return h.digest('hex')
}

export async function looksLikeArchive(path: string): Promise<boolean> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(512)
    const { bytesRead } = await fh.read(buf, 0, 512, 0)
    const head = buf.subarray(0, bytesRead)
    if (detectCompression(head) !== 'none') return true
    return bytesRead >= 262 && head.subarray(257, 262).toString() === 'ustar'
  } finally { await fh.close() }
}

/** Context paths matching a COPY source (Docker's filepath.Match per element), ignored ones left out. */
export async function globSources(root: string, src: string, ignore: IgnorePattern[], fs: SourceFs = diskFs): Promise<string[]> {
  const clean = posix.normalize('/' + src).slice(1)
  if (clean === '' || clean === '.') return ['.']
  if (!/[*?[]/.test(clean)) {
    if (ignore.length && isIgnored(ignore, clean)) return []
    const ok = await fs.lstat(root + '/' + clean).then(() => true, () => false)
    return ok ? [clean] : []
  }
  let cands = ['']
  for (const part of clean.split('/')) {
    const next: string[] = []
    const re = new RegExp('^' + part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$')
    for (const c of cands) {
      let names: string[]
      try { names = await fs.readdir(root + '/' + c) } catch { continue }
      for (const n of names.sort()) if (re.test(n)) next.push(c ? `${c}/${n}` : n)
    }
    cands = next
  }
  return cands.filter((c) => !isIgnored(ignore, c))
}

/** Everything under a directory, names sorted, ignored paths left out (context only). */
export async function walkDir(abs: string, rel: string, ignore: IgnorePattern[], filter: boolean, fn: (rel: string, abs: string, st: import('node:fs').Stats) => Promise<void>, sub = '', fs: SourceFs = diskFs): Promise<void> {
  for (const n of (await fs.readdir(abs + (sub ? '/' + sub : ''))).sort()) {
    const r = sub ? `${sub}/${n}` : n
    const ctxRel = rel === '.' ? r : `${rel}/${r}`
    const p = `${abs}/${r}`
    const s = await fs.lstat(p)
    // An ignored directory is still walked when an exception may re-include something below it.
    if (filter && isIgnored(ignore, ctxRel) && !(s.isDirectory() && ignore.some((x) => x.exclusion && x.text.startsWith(`${ctxRel}/`)))) continue
    await fn(r, p, s)
    if (s.isDirectory()) await walkDir(abs, rel, ignore, filter, fn, r, fs)
  }
}


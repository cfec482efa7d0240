import { createReadStream } from 'node:fs'
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import * as tarStream from 'tar-stream'
import { isIgnored, parseDockerignore, type IgnorePattern } from '../build/dockerignore.js'
import { invalid, isNotFoundErrno } from '../lib/errors.js'

/**
 * A service's build context as the tar POST /build takes: the directory with `.dockerignore`
 * applied (the Dockerfile and .dockerignore always sent), plus a `dockerfile_inline` as a file.
 */
export async function packContext(service: string, dir: string, inline?: { name: string; data: Buffer }): Promise<Readable> {
  try {
    if (!(await stat(dir)).isDirectory()) throw invalid('ERR_COMPOSE_BUILD_CONTEXT', `services.${service}.build.context: ${dir} is not a directory`)
  } catch (err) {
    if (isNotFoundErrno(err)) throw invalid('ERR_COMPOSE_BUILD_CONTEXT', `services.${service}.build.context: unable to prepare context: path "${dir}" not found`)
    throw err
  }
  let ignore: IgnorePattern[] = []
  try {
    ignore = parseDockerignore(await readFile(join(dir, '.dockerignore'), 'utf8'))
  } catch (err) {
    if (!isNotFoundErrno(err)) throw err
  }
  const pack = tarStream.pack()
  const entry = (h: Partial<tarStream.Header> & { name: string }, data?: Buffer) => new Promise<void>((res, rej) => pack.entry(h as tarStream.Header, data ?? Buffer.alloc(0), (e) => (e ? rej(e) : res())))
  const walk = async (rel: string): Promise<void> => {
    for (const n of (await readdir(rel ? join(dir, rel) : dir)).sort()) {
      const r = rel ? `${rel}/${n}` : n
      const keep = r === 'Dockerfile' || r === '.dockerignore'
      if (isIgnored(ignore, r) && !keep && !ignore.some((p) => p.exclusion && p.text.startsWith(`${r}/`))) continue
      const p = join(dir, r)
      const st = await lstat(p)
      const common = { name: r, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime }
      if (st.isDirectory()) {
        if (!isIgnored(ignore, r)) await entry({ ...common, type: 'directory' })
        await walk(r)
      } else if (st.isSymbolicLink()) await entry({ ...common, type: 'symlink', linkname: await readlink(p) })
      else if (st.isFile()) {
        if (isIgnored(ignore, r) && !keep) continue
        await new Promise<void>((res, rej) => {
          const w = pack.entry({ ...common, type: 'file', size: st.size }, (e) => (e ? rej(e) : res()))
          const rs = createReadStream(p)
          rs.on('error', (e) => { w.destroy(e); rej(e) })
          rs.pipe(w)
        })
      }
    }
  }
  void (async () => {
    try {
      await walk('')
      if (inline) await entry({ name: inline.name, mode: 0o644, size: inline.data.length, mtime: new Date() }, inline.data)
      pack.finalize()
    } catch (err) {
      pack.destroy(err as Error)
    }
  })()
  return pack as unknown as Readable
}

/** A tar of one file (secret or config contents copied into a container). */
export function fileTar(name: string, data: Buffer, mode = 0o444, uid = 0, gid = 0): Promise<Buffer> {
  const pack = tarStream.pack()
  const chunks: Buffer[] = []
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer) })
  return new Promise((resolve, reject) => {
    pack.on('end', () => resolve(Buffer.concat(chunks)))
    pack.on('error', reject)
    pack.entry({ name, mode, uid, gid, size: data.length, mtime: new Date() }, data, (e) => (e ? reject(e) : pack.finalize()))
  })
}

/** `machine scp` over SFTP: files, and directories with -r, in either direction. */
import { mkdir, readdir, stat } from 'node:fs/promises'
import { basename, join, posix } from 'node:path'
import { EngineError } from '../lib/errors.js'

type Sftp = import('ssh2').SFTPWrapper

const p = <T>(fn: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))))

async function remoteStat(sftp: Sftp, path: string): Promise<import('ssh2').Stats | undefined> {
  try {
    return await p<import('ssh2').Stats>((cb) => sftp.stat(path, cb as never))
  } catch (err) {
    if ((err as { code?: number }).code === 2) return undefined
    throw err
  }
}

async function localStat(path: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await stat(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

export async function scpCopy(sftp: Sftp, direction: 'upload' | 'download', src: string, dst: string, recursive: boolean): Promise<void> {
  if (direction === 'upload') {
    const st = await localStat(src)
    if (!st) throw new EngineError('NotFound', 'ERR_SCP', `${src}: No such file or directory`)
    const dstSt = await remoteStat(sftp, dst)
    const target = dstSt?.isDirectory() ? posix.join(dst, basename(src)) : dst
    if (st.isDirectory()) {
      if (!recursive) throw new EngineError('InvalidArgument', 'ERR_SCP', `${src}: not a regular file (use -r)`)
      await upDir(sftp, src, target)
    } else await p((cb) => sftp.fastPut(src, target, { mode: st.mode & 0o777 }, cb as never))
    return
  }
  const st = await remoteStat(sftp, src)
  if (!st) throw new EngineError('NotFound', 'ERR_SCP', `${src}: No such file or directory`)
  const dstSt = await localStat(dst)
  const target = dstSt?.isDirectory() ? join(dst, posix.basename(src)) : dst
  if (st.isDirectory()) {
    if (!recursive) throw new EngineError('InvalidArgument', 'ERR_SCP', `${src}: not a regular file (use -r)`)
    await downDir(sftp, src, target)
  } else await p((cb) => sftp.fastGet(src, target, cb as never))
}

async function upDir(sftp: Sftp, local: string, remote: string): Promise<void> {
  if (!(await remoteStat(sftp, remote))) await p((cb) => sftp.mkdir(remote, cb as never))
  for (const n of await readdir(local)) {
    const l = join(local, n)
    const r = posix.join(remote, n)
    const st = await stat(l)
    if (st.isDirectory()) await upDir(sftp, l, r)
    else if (st.isFile()) await p((cb) => sftp.fastPut(l, r, { mode: st.mode & 0o777 }, cb as never))
  }
}

async function downDir(sftp: Sftp, remote: string, local: string): Promise<void> {
  await mkdir(local, { recursive: true })
  const list = await p<import('ssh2').FileEntryWithStats[]>((cb) => sftp.readdir(remote, cb as never))
  for (const e of list) {
    const r = posix.join(remote, e.filename)
    const l = join(local, e.filename)
    if (e.attrs.isDirectory()) await downDir(sftp, r, l)
    else if (e.attrs.isFile()) await p((cb) => sftp.fastGet(r, l, cb as never))
  }
}

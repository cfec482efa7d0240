import { open, readdir, stat, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { isNotFoundErrno } from '../../lib/errors.js'

/** How much of a log file is read at once. */
export const READ_CHUNK = 1 << 20

/** The hidden hard link the rotator keeps to the file conmon writes (see log-rotate.ts). */
export function keepPath(logPath: string): string {
  return join(dirname(logPath), `.${basename(logPath)}.keep`)
}

/** The name of the n-th rotated file (`container.log.1` is the newest). */
export function rotatedPath(logPath: string, n: number): string {
  return `${logPath}.${n}`
}

/** One open file of the rotated set. */
export interface LogFile {
  fh: FileHandle
  ino: number
  /** Size when opened (rotated files no longer grow; the current one may). */
  size: number
}

/**
 * Open the container's log files, oldest first: `container.log.N` ... `.1`, the rotator's link to
 * the file conmon wrote before a cut of its own, and `container.log`. Files are opened newest
 * first, deduplicated by inode and checked against their names again, so that a rotation
 * running meanwhile cannot make a file appear twice or out of order (the open is retried).
 */
export async function openLogSet(logPath: string): Promise<LogFile[]> {
  for (let attempt = 0; ; attempt++) {
    let names: string[]
    try {
      names = await readdir(dirname(logPath))
    } catch (err) {
      if (isNotFoundErrno(err)) return []
      throw err
    }
    const base = basename(logPath)
    const listed = logNames(names, base)
    const nums = names.map((n) => (n.startsWith(`${base}.`) ? /^\d+$/.exec(n.slice(base.length + 1))?.[0] : undefined)).filter((n): n is string => !!n).map(Number).sort((a, b) => a - b)
    const newestFirst = [logPath, keepPath(logPath), ...nums.map((n) => rotatedPath(logPath, n))]
    const opened: Array<{ path: string; f: LogFile }> = []
    let stable = true
    try {
      for (const p of newestFirst) {
        let fh: FileHandle
        try {
          fh = await open(p, 'r')
        } catch (err) {
          if (isNotFoundErrno(err)) continue
          throw err
        }
        const st = await fh.stat()
        opened.push({ path: p, f: { fh, ino: st.ino, size: st.size } })
      }
      for (const { path, f } of opened) {
        const st = await stat(path).catch((err: unknown) => { if (isNotFoundErrno(err)) return undefined; throw err })
        if (st?.ino !== f.ino) { stable = false; break }
      }
      // A listing taken in the middle of a rotation's renames can miss a file (`.1` moved to
      // `.2` before the current one becomes `.1`) although every file opened checks out: the
      // names must not have changed meanwhile either.
      if (stable) {
        const again = await readdir(dirname(logPath)).catch((err: unknown) => { if (isNotFoundErrno(err)) return []; throw err })
        if (logNames(again, base) !== listed) stable = false
      }
    } catch (err) {
      await Promise.all(opened.map((o) => o.f.fh.close()))
      throw err
    }
    if (!stable && attempt < 5) {
      await Promise.all(opened.map((o) => o.f.fh.close()))
      continue
    }
    const seen = new Set<number>()
    const out: LogFile[] = []
    for (const { f } of opened.reverse()) {
      if (seen.has(f.ino)) await f.fh.close()
      else { seen.add(f.ino); out.push(f) }
    }
    return out
  }
}

/** The log set's names in a directory listing, as one comparable string. */
function logNames(names: string[], base: string): string {
  return names.filter((n) => n === base || n === `.${base}.keep` || (n.startsWith(`${base}.`) && /^\d+$/.test(n.slice(base.length + 1)))).sort().join('/')
}

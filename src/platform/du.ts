import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isNotFoundErrno } from '../lib/errors.js'

/** Bytes used under a directory (apparent sizes of regular files and links), without following links. */
export async function duBytes(dir: string): Promise<number> {
  let total = 0
  const stack = [dir]
  while (stack.length) {
    const d = stack.pop()!
    let entries
    try {
      entries = await readdir(d, { withFileTypes: true })
    } catch (err) {
      if (isNotFoundErrno(err)) continue
      throw err
    }
    for (const e of entries) {
      const p = join(d, e.name)
      if (e.isDirectory()) stack.push(p)
      else {
        try { total += (await lstat(p)).size } catch { /* removed meanwhile */ }
      }
    }
  }
  return total
}

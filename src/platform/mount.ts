import { readFile } from 'node:fs/promises'
import { internal } from '../lib/errors.js'
import { run } from './exec.js'

/** Mount an overlay of `lower` (topmost first) under `upper`/`work` at `target`. */
export async function mountOverlay(lower: string[], upper: string, work: string, target: string): Promise<void> {
  const opts = `lowerdir=${lower.join(':')},upperdir=${upper},workdir=${work}`
  const r = await run('mount', ['-t', 'overlay', 'overlay', '-o', opts, target])
  if (r.code !== 0) throw internal('ERR_MOUNT', `error mounting the container's root filesystem: ${r.stderr.trim()}`)
}

/** Unmount `target` (lazily when busy); a target that is not mounted is fine. */
export async function unmount(target: string): Promise<void> {
  if (!(await isMountPoint(target))) return
  const r = await run('umount', [target])
  if (r.code === 0) return
  const lazy = await run('umount', ['-l', target])
  if (lazy.code !== 0 && (await isMountPoint(target))) throw internal('ERR_UNMOUNT', `error unmounting ${target}: ${lazy.stderr.trim()}`)
}

export async function isMountPoint(target: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8')
  const esc = target.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011').replace(/\n/g, '\\012')
  for (const line of mounts.split('\n')) if (line.split(' ')[4] === esc) return true
  return false
}

/** Mount points under a directory (for start-up repair). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8')
  const prefix = dir.endsWith('/') ? dir : `${dir}/`
  return mounts.split('\n').map((l) => l.split(' ')[4]).filter((p): p is string => !!p && p.startsWith(prefix))
}

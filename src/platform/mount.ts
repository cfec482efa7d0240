import { readFile } from 'node:fs/promises'
import { internal } from '../lib/errors.js'
import { run } from './exec.js'
import type { MountEntry } from './platform.js'

/** Mount an overlay of `lower` (topmost first) under `upper`/`work` at `target`. */
export async function mountOverlay(lower: string[], upper: string, work: string, target: string): Promise<void> {
  const opts = `lowerdir=${lower.join(':')},upperdir=${upper},workdir=${work}`
  const r = await run('mount', ['-t', 'overlay', 'overlay', '-o', opts, target])
  if (r.code !== 0) throw internal('ERR_MOUNT', `error mounting the container's root filesystem: ${r.stderr.trim()}`)
}

/** Bind `source` at `target` (recursively with `recursive`), remounted read-only with `readonly`. */
export async function bindMount(source: string, target: string, opts: { readonly?: boolean; recursive?: boolean } = {}): Promise<void> {
  const r = await run('mount', [opts.recursive ? '--rbind' : '--bind', '--', source, target])
  if (r.code !== 0) throw internal('ERR_MOUNT', `error bind mounting ${source} at ${target}: ${r.stderr.trim()}`)
  if (!opts.readonly) return
  const ro = await run('mount', ['-o', 'remount,bind,ro', '--', target])
  if (ro.code !== 0) {
    await run('umount', ['-l', target])
    throw internal('ERR_MOUNT', `error remounting ${target} read-only: ${ro.stderr.trim()}`)
  }
}

/** `mount -t type [-o options] source target`. */
export async function mountFs(source: string, target: string, opts: { type?: string; options?: string }): Promise<void> {
  const args = ['-t', opts.type ?? 'none', ...(opts.options ? ['-o', opts.options] : []), source, target]
  const r = await run('mount', args)
  if (r.code !== 0) throw internal('ERR_MOUNT', `error mounting ${source} at ${target}: ${r.stderr.trim()}`)
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
  const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'))
  return mounts.some((m) => m.target === target)
}

/** Mount points under a directory (for start-up repair). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')).map((m) => m.target).filter((p) => p.startsWith(prefix))
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountInfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
}

/**
 * /proc/<pid>/mountinfo lines: `id parent major:minor root target options [optional...] - fstype source superopts`.
 */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    const f = line.split(' ')
    const dash = f.indexOf('-', 6)
    if (f.length < 7 || dash < 0) continue
    const options = [...(f[5] ?? '').split(','), ...(f[dash + 3] ?? '').split(',')].filter(Boolean)
    out.push({ target: unescapeMountInfo(f[4]!), source: unescapeMountInfo(f[dash + 2] ?? ''), fsType: f[dash + 1] ?? '', options })
  }
  return out
}

/**
 * A container's filesystem changes, read from its overlay upper dir as Docker's overlay driver
 * does: a 0/0 character device is a deletion, a directory marked opaque is reported deleted
 * (its new contents then appear as added), anything else is modified when a lower layer has
 * the path and added otherwise. What the runtime creates for its mounts (Docker keeps those in
 * its init layer) is left out.
 */
import { lstat, readdir } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import { errno, isNotFoundErrno } from '../../lib/errors.js'
import { realPlatform, type FileTools } from '../../platform/platform.js'

export const CHANGE_MODIFY = 0
export const CHANGE_ADD = 1
export const CHANGE_DELETE = 2

export interface Change {
  path: string
  kind: 0 | 1 | 2
}

/** One reported path of the upper dir, with what commit needs to write it into a layer. */
export interface UpperEntry extends Change {
  /** lstat of the path in the upper dir. */
  stat: Stats
  /** A 0/0 character device: the path was deleted. */
  whiteout: boolean
  /** A directory whose lower contents are hidden. */
  opaque: boolean
}

/** Paths the runtime creates as mount points, as Docker's init layer hides them (and what is under them). */
const HIDDEN = ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/etc/mtab', '/.dockerenv', '/proc', '/sys', '/dev']
/** Directories the runtime may create only to hold those mount points. */
const MOUNT_PARENTS = new Set(['/etc'])

const hidden = (p: string) => HIDDEN.some((h) => p === h || p.startsWith(`${h}/`))

/** Directories of `upper` carrying `trusted.overlay.opaque=y`, as container paths. */
async function opaqueDirs(upper: string, tools: FileTools = realPlatform().fileTools): Promise<Set<string>> {
  const out = new Set<string>()
  for (const file of await tools.findOpaque(upper)) {
    const rel = file.slice(upper.length)
    out.add(rel === '' ? '/' : rel)
  }
  return out
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p)
  } catch (err) {
    if (isNotFoundErrno(err) || errno(err) === 'ENOTDIR') return undefined
    throw err
  }
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0
}

/** The path in the first lower layer that has it (a whiteout there means it is gone). */
async function inLower(lower: string[], p: string): Promise<Stats | undefined> {
  for (const l of lower) {
    const st = await lstatOrUndefined(l + p)
    if (st) return isWhiteout(st) ? undefined : st
  }
  return undefined
}

/**
 * The reported changes of an upper dir over its lower dirs (top first), in Docker's order (a
 * directory before what is in it, names sorted). A directory is reported when something under
 * it is, when it is new or opaque, or when its mode or owner differ from the lower one.
 */
export async function upperChanges(upper: string, lower: string[]): Promise<UpperEntry[]> {
  const opaque = await opaqueDirs(upper)
  const walk = async (dir: string): Promise<UpperEntry[]> => {
    let names: string[]
    try {
      names = (await readdir(upper + dir)).sort()
    } catch (err) {
      if (isNotFoundErrno(err)) return []
      throw err
    }
    const out: UpperEntry[] = []
    for (const name of names) {
      const p = dir === '/' ? `/${name}` : `${dir}/${name}`
      if (hidden(p)) continue
      const st = await lstatOrUndefined(upper + p)
      if (!st) continue
      if (isWhiteout(st)) {
        out.push({ path: p, kind: CHANGE_DELETE, stat: st, whiteout: true, opaque: false })
        continue
      }
      const low = await inLower(lower, p)
      if (!st.isDirectory()) {
        out.push({ path: p, kind: low ? CHANGE_MODIFY : CHANGE_ADD, stat: st, whiteout: false, opaque: false })
        continue
      }
      const children = await walk(p)
      const isOpaque = opaque.has(p)
      const own = isOpaque || !low || !low.isDirectory() || low.mode !== st.mode || low.uid !== st.uid || low.gid !== st.gid
      const runtimeOnly = !low && MOUNT_PARENTS.has(p)
      if (children.length > 0 || (own && !runtimeOnly)) {
        out.push({ path: p, kind: isOpaque ? CHANGE_DELETE : low ? CHANGE_MODIFY : CHANGE_ADD, stat: st, whiteout: false, opaque: isOpaque })
        out.push(...children)
      }
    }
    return out
  }
  return walk('/')
}

/** GET /containers/{id}/changes. */
export async function containerChanges(paths: { upper: string; lower: string[] }): Promise<Change[]> {
  return (await upperChanges(paths.upper, paths.lower)).map(({ path, kind }) => ({ path, kind }))
}

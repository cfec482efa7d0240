import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { invalid, isNotFoundErrno } from '../../lib/errors.js'
import { followInScope } from './archive.js'

export interface ExecUser { uid: number; gid: number; additionalGids: number[]; home: string }

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

async function readLines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'))
  } catch (err) {
    if (isNotFoundErrno(err)) return []
    throw err
  }
}

/**
 * Resolve `user[:group]` against the container's /etc/passwd and /etc/group as Docker
 * (libcontainer's user.GetExecUser) does: names or numbers, HOME from passwd, supplementary
 * groups from group membership.
 */
export async function resolveUser(rootfs: string, spec: string): Promise<ExecUser> {
  // Symlinks in the container's /etc are followed inside its root, never on the host's.
  const passwd: PasswdEntry[] = (await readLines(join(rootfs, await followInScope(rootfs, '/etc/passwd')))).map((l) => {
    const f = l.split(':')
    return { name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' }
  })
  const groups: GroupEntry[] = (await readLines(join(rootfs, await followInScope(rootfs, '/etc/group')))).map((l) => {
    const f = l.split(':')
    return { name: f[0] ?? '', gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }
  })
  const [u = '', g] = spec.split(':')
  let uid = 0
  let gid = 0
  let home = '/'
  let name = ''
  if (u === '') {
    const root = passwd.find((p) => p.uid === 0)
    if (root) { gid = root.gid; home = root.home; name = root.name }
  } else if (/^\d+$/.test(u)) {
    uid = Number(u)
    const p = passwd.find((e) => e.uid === uid)
    if (p) { gid = p.gid; home = p.home; name = p.name }
  } else {
    const p = passwd.find((e) => e.name === u)
    if (!p) throw invalid('ERR_NO_USER', `unable to find user ${u}: no matching entries in passwd file`)
    uid = p.uid; gid = p.gid; home = p.home; name = p.name
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g)
    else {
      const e = groups.find((x) => x.name === g)
      if (!e) throw invalid('ERR_NO_GROUP', `unable to find group ${g}: no matching entries in group file`)
      gid = e.gid
    }
  }
  const additionalGids = name ? groups.filter((e) => e.members.includes(name) && e.gid !== gid).map((e) => e.gid) : []
  return { uid, gid, additionalGids, home }
}

/**
 * `--group-add` as Docker resolves it: a number as it is, a name in the container's
 * /etc/group (libcontainer's GetAdditionalGroups, its words when missing).
 */
export async function resolveGroups(rootfs: string, wanted: string[]): Promise<number[]> {
  if (wanted.length === 0) return []
  const groups: GroupEntry[] = (await readLines(join(rootfs, await followInScope(rootfs, '/etc/group')))).map((l) => {
    const f = l.split(':')
    return { name: f[0] ?? '', gid: Number(f[2]), members: [] }
  })
  const out: number[] = []
  for (const g of wanted) {
    const e = groups.find((x) => x.name === g)
    let gid: number
    if (e) gid = e.gid
    else if (/^\d+$/.test(g)) gid = Number(g)
    else throw invalid('ERR_NO_GROUP', `Unable to find group ${g}: no matching entries in group file`)
    if (gid > 2147483647) throw invalid('ERR_NO_GROUP', `Invalid group ${g}: out of range`)
    if (!out.includes(gid)) out.push(gid)
  }
  return out
}

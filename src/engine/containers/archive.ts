/**
 * docker cp and export on a container's root filesystem: Docker's path resolution (symlinks
 * followed in the scope of the rootfs, `..` stopping at its root), path stats, tar streams out
 * (GNU tar, started in a directory opened and checked beforehand) and tar streams in (extracted
 * entry by entry through directory file descriptors, so nothing is written outside the rootfs
 * even when the container holds symlinks pointing out or swaps a directory meanwhile).
 */
import { constants, type BigIntStats } from 'node:fs'
import { chmod, lchown, lstat, lutimes, mkdir, open, readdir, readlink, rm, symlink, link, type FileHandle } from 'node:fs/promises'
import { posix } from 'node:path'
import { Readable } from 'node:stream'
import * as tarStream from 'tar-stream'
import { EngineError, errno, invalid, isNotFoundErrno, notFound } from '../../lib/errors.js'
import { fdTarget, pathInDirFd } from '../../platform/fd-path.js'
import { realPlatform } from '../../platform/platform.js'
import { startTarCreate } from '../../platform/tar.js'
import type { EventBus } from '../events/bus.js'
import type { ContainerRecord } from './types.js'
import { resolveUser } from './user.js'

/** cp (stat, get, put) sees the volumes and binds of a container that does not run, as Docker mounts them for it. */
const VOLUMES = { volumes: true }

/** What `containers.withRootfs` and friends give the archive functions. */
export interface RootfsProvider {
  withRootfs<T>(ref: string, fn: (rootfs: string, rec: ContainerRecord) => Promise<T>, opts?: { volumes?: boolean }): Promise<T>
  readonly deps: { events: EventBus }
}

/** Docker's ContainerPathStat; `mode` carries Go's os.FileMode bits. */
export interface PathStat {
  name: string
  size: number
  mode: number
  mtime: string
  linkTarget: string
}

const MAX_LINKS = 255

// Go's os.FileMode type bits.
const GO_DIR = 2 ** 31
const GO_SYMLINK = 2 ** 27
const GO_DEVICE = 2 ** 26
const GO_PIPE = 2 ** 25
const GO_SOCKET = 2 ** 24
const GO_SETUID = 2 ** 23
const GO_SETGID = 2 ** 22
const GO_CHARDEV = 2 ** 21
const GO_STICKY = 2 ** 20

/** A unix st_mode as Go's os.FileMode (what Docker puts in the path stat header). */
export function goFileMode(mode: number): number {
  let m = mode & 0o777
  switch (mode & constants.S_IFMT) {
    case constants.S_IFDIR: m += GO_DIR; break
    case constants.S_IFLNK: m += GO_SYMLINK; break
    case constants.S_IFBLK: m += GO_DEVICE; break
    case constants.S_IFCHR: m += GO_DEVICE + GO_CHARDEV; break
    case constants.S_IFIFO: m += GO_PIPE; break
    case constants.S_IFSOCK: m += GO_SOCKET; break
  }
  if (mode & 0o4000) m += GO_SETUID
  if (mode & 0o2000) m += GO_SETGID
  if (mode & 0o1000) m += GO_STICKY
  return m
}

/** Go's RFC 3339 time with nanoseconds, trailing zeros dropped. */
export function goTime(sec: bigint, nsec: bigint): string {
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19)
  const frac = nsec === 0n ? '' : `.${nsec.toString().padStart(9, '0').replace(/0+$/, '')}`
  return `${base}${frac}Z`
}

/** Docker's PreserveTrailingDotOrSeparator: keep a trailing `/` or `/.` that cleaning removed. */
export function preserveTrailing(cleaned: string, original: string): string {
  let p = cleaned
  if (!p.endsWith('/.') && (original === '.' || original.endsWith('/.'))) {
    if (!p.endsWith('/')) p += '/'
    p += '.'
  }
  if (!p.endsWith('/') && original.endsWith('/')) p += '/'
  return p
}

/** The container path as Docker takes it: absolute, cleaned, trailing `/` or `/.` kept. */
export function absContainerPath(path: string): string {
  return preserveTrailing(posix.join('/', path), path)
}

/**
 * Follow a container path inside `root` as Docker's FollowSymlinkInScope does: every symlink
 * (the last component too) is read and resolved as if `root` were `/`, `..` never climbs above
 * it, and missing components are taken literally. Returns the container path (absolute, clean).
 */
export async function followInScope(root: string, path: string): Promise<string> {
  let resolved = ''
  let pending = path.split('/')
  let links = 0
  while (pending.length > 0) {
    const c = pending.shift()!
    if (c === '' || c === '.') continue
    if (c === '..') {
      resolved = resolved.includes('/') ? resolved.slice(0, resolved.lastIndexOf('/')) : ''
      continue
    }
    const cand = resolved ? `${resolved}/${c}` : c
    let isLink = false
    try {
      isLink = (await lstat(`${root}/${cand}`)).isSymbolicLink()
    } catch (err) {
      if (!isNotFoundErrno(err) && errno(err) !== 'ENOTDIR') throw err
    }
    if (!isLink) {
      resolved = cand
      continue
    }
    if (++links > MAX_LINKS) throw invalid('ERR_TOO_MANY_LINKS', `too many links in ${path}`)
    const target = await readlink(`${root}/${cand}`)
    if (target.startsWith('/')) resolved = ''
    pending = [...target.split('/'), ...pending]
  }
  return `/${resolved}`
}

/**
 * Docker's ResolvePath: the directory part followed in scope, the last component kept as given
 * (so a symlink there is the symlink itself), unless the path ends in `/` or `/.`.
 */
export async function resolvePath(root: string, path: string): Promise<{ resolved: string; absPath: string }> {
  const absPath = absContainerPath(path)
  const slash = absPath.lastIndexOf('/')
  const dir = absPath.slice(0, slash + 1)
  const base = absPath.slice(slash + 1)
  const dirResolved = await followInScope(root, dir)
  return { resolved: posix.join(dirResolved, base || '.'), absPath }
}

function fileNotFound(path: string, ref: string): EngineError {
  return notFound('ERR_CONTAINER_FILE_NOT_FOUND', `Could not find the file ${path} in container ${ref}`)
}

async function lstatIn(root: string, cpath: string, path: string, ref: string): Promise<BigIntStats> {
  try {
    return await lstat(`${root}${cpath === '/' ? '' : cpath}`, { bigint: true })
  } catch (err) {
    if (isNotFoundErrno(err) || errno(err) === 'ENOTDIR') throw fileNotFound(path, ref)
    throw err
  }
}

async function statIn(root: string, path: string, ref: string): Promise<{ stat: PathStat; resolved: string; absPath: string; isDir: boolean }> {
  const { resolved, absPath } = await resolvePath(root, path)
  const st = await lstatIn(root, resolved, path, ref)
  let linkTarget = ''
  if (st.isSymbolicLink()) linkTarget = await followInScope(root, absPath)
  const stat: PathStat = {
    name: posix.basename(absPath) || '/',
    size: Number(st.size),
    mode: goFileMode(Number(st.mode)),
    mtime: goTime(st.mtimeNs / 1_000_000_000n, st.mtimeNs % 1_000_000_000n),
    linkTarget,
  }
  return { stat, resolved, absPath, isDir: st.isDirectory() }
}

/** HEAD /containers/{id}/archive. */
export function statContainerPath(containers: RootfsProvider, ref: string, path: string): Promise<PathStat> {
  return containers.withRootfs(ref, async (root) => (await statIn(root, path, ref)).stat, VOLUMES)
}

/**
 * Open a directory of the rootfs by its resolved container path and check that what was opened
 * is inside the rootfs: a component swapped for a symlink after resolution is caught here.
 */
async function openDirIn(root: string, cpath: string): Promise<FileHandle> {
  const fh = await open(`${root}${cpath === '/' ? '' : cpath}`, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
  try {
    const real = await fdTarget(fh.fd)
    if (real !== root && !real.startsWith(`${root}/`)) throw invalid('ERR_PATH_ESCAPE', `path ${cpath} resolves outside the container`)
    return fh
  } catch (err) {
    await fh.close()
    throw err
  }
}

/** GNU tar creating an archive inside an open directory (its fd 3), members as given. */
function tarCreate(dir: FileHandle, members: string[], transform: string | undefined, signal?: AbortSignal): { out: Readable; done: Promise<void> } {
  const child = startTarCreate(realPlatform().spawner, dir.fd, members, { ...(transform ? { transform } : {}), ...(signal ? { signal } : {}) })
  const done = child.exit.then(({ code, stderr, spawnError }) => {
    if (spawnError && !signal?.aborted) throw spawnError
    // 1 is "some files differ/changed while read": a running container's files may.
    if (code === 0 || code === 1 || signal?.aborted) return
    throw new Error(`tar: ${stderr.trim().split('\n').slice(0, 3).join('; ') || `exit status ${code}`}`)
  })
  return { out: child.stdout!, done }
}

/** A sed-style `s` expression replacing a leading member name, for GNU tar's --transform. */
function rebaseTransform(from: string, to: string): string {
  const re = from.replace(/[\\^$.*[\]|]/g, '\\$&')
  const rep = to.replace(/[\\&|]/g, '\\$&')
  // S: not in symlink targets; hard link targets are member names and are rebased too.
  return `s|^${re}\\(/\\|$\\)|${rep}\\1|S`
}

/**
 * GET /containers/{id}/archive: the path's stat (before any byte is sent) and its tar stream,
 * entries named after the path's last element as Docker names them. `send` receives the stat
 * and the stream and must consume the stream; the rootfs stays mounted until it returns.
 */
export function archiveContainerPath(containers: RootfsProvider, ref: string, path: string, send: (stat: PathStat, tar: Readable) => Promise<void>, signal?: AbortSignal): Promise<void> {
  return containers.withRootfs(ref, async (root, rec) => {
    const { stat, resolved, absPath, isDir } = await statIn(root, path, ref)
    let sourceDir = resolved
    let member = '.'
    if (!isDir) {
      sourceDir = posix.dirname(resolved)
      member = posix.basename(resolved)
    }
    const rebase = posix.basename(absPath) || '.'
    const dir = await openDirIn(root, sourceDir)
    try {
      const transform = isDir && rebase !== '.' && rebase !== '/' ? rebaseTransform('.', rebase) : undefined
      const { out, done } = tarCreate(dir, [member], transform, signal)
      await Promise.all([send(stat, out).finally(() => out.destroy()), done])
    } finally {
      await dir.close()
    }
    emitContainer(containers, rec, 'archive-path')
  }, VOLUMES)
}

/** GET /containers/{id}/export: the whole root filesystem as a tar stream. */
export function exportContainer(containers: RootfsProvider, ref: string, send: (tar: Readable) => Promise<void>, signal?: AbortSignal): Promise<void> {
  return containers.withRootfs(ref, async (root, rec) => {
    const dir = await openDirIn(root, '/')
    try {
      const names = (await readdir(root)).sort()
      if (names.length === 0) {
        await send(Readable.from([Buffer.alloc(1024)]))
      } else {
        const { out, done } = tarCreate(dir, names.map((n) => `./${n}`), 's|^\\./||S', signal)
        await Promise.all([send(out).finally(() => out.destroy()), done])
      }
    } finally {
      await dir.close()
    }
    emitContainer(containers, rec, 'export')
  })
}

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory and the reverse. */
  noOverwriteDirNonDir?: boolean
  /** Files take the container user's uid/gid instead of the archive's. */
  copyUIDGID?: boolean
  signal?: AbortSignal
}

/**
 * PUT /containers/{id}/archive: extract a tar stream into a directory of the container. The
 * destination is followed in scope (its last element too); each entry's parent is resolved in
 * scope again, opened, checked to be inside the rootfs, and the entry is created through that
 * directory's descriptor, never through a path that could lead out. Entries that are absolute,
 * climb out with `..`, or link out of the destination refuse the archive.
 */
export function extractToContainer(containers: RootfsProvider, ref: string, path: string, body: AsyncIterable<Buffer>, opts: ExtractOptions = {}): Promise<void> {
  return containers.withRootfs(ref, async (root, rec) => {
    const dest = await followInScope(root, absContainerPath(path))
    const st = await lstatIn(root, dest, path, ref)
    if (!st.isDirectory()) throw invalid('ERR_NOT_A_DIRECTORY', 'extraction point is not a directory')
    if (rec.hostConfig.readonlyRootfs) throw invalid('ERR_READONLY_ROOTFS', 'container rootfs is marked read-only')
    let owner: { uid: number; gid: number } | undefined
    if (opts.copyUIDGID && rec.config.user) {
      const u = await resolveUser(root, rec.config.user)
      owner = { uid: u.uid, gid: u.gid }
    }
    await extractTar(root, dest, body, { ...opts, owner })
    emitContainer(containers, rec, 'extract-to-dir')
  }, VOLUMES)
}

function emitContainer(containers: RootfsProvider, rec: ContainerRecord, action: string): void {
  containers.deps.events.emit('container', action, rec.id, { ...rec.config.labels, image: rec.imageRef, name: rec.name })
}

/** A tar entry name made relative to the destination; undefined for the destination itself. */
export function entryPath(name: string, destAbs: string): string | undefined {
  if (name.startsWith('/')) throw invalid('ERR_TAR_BREAKOUT', `${JSON.stringify(name)} is outside of ${JSON.stringify(destAbs)}: absolute paths are not allowed`)
  const n = posix.normalize(name).replace(/\/+$/, '')
  if (n === '..' || n.startsWith('../')) throw invalid('ERR_TAR_BREAKOUT', `${JSON.stringify(name)} is outside of ${JSON.stringify(destAbs)}`)
  if (n === '.' || n === '') return undefined
  return n
}

interface DirRef { fh: FileHandle; path: string }

async function extractTar(root: string, dest: string, body: AsyncIterable<Buffer>, opts: ExtractOptions & { owner?: { uid: number; gid: number } | undefined }): Promise<void> {
  const extract = tarStream.extract()
  const source = Readable.from(body)
  const onAbort = () => source.destroy(opts.signal?.reason as Error)
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  source.on('error', (e) => extract.destroy(e))
  source.pipe(extract)
  const dirTimes: Array<{ cpath: string; mtime: Date }> = []
  let cached: DirRef | undefined
  const procPath = (d: DirRef, base: string) => pathInDirFd(d.fh.fd, base)
  /** The parent directory of a container path, created as needed, opened and checked. */
  const parentOf = async (cpath: string): Promise<DirRef> => {
    const parent = await followInScope(root, posix.dirname(cpath))
    if (cached?.path === parent) return cached
    await cached?.fh.close()
    cached = undefined
    await mkdirInScope(root, parent)
    cached = { fh: await openDirIn(root, parent), path: parent }
    return cached
  }
  let partial: string | undefined
  try {
    for await (const entry of extract) {
      const h = entry.header
      const rel = entryPath(h.name, dest)
      if (rel === undefined) {
        entry.resume()
        continue
      }
      const cpath = posix.join(dest, rel)
      const dir = await parentOf(cpath)
      const base = posix.basename(cpath)
      const target = procPath(dir, base)
      let existing: BigIntStats | undefined
      try {
        existing = await lstat(target, { bigint: true })
      } catch (err) {
        if (!isNotFoundErrno(err)) throw err
      }
      const isDirEntry = h.type === 'directory'
      if (existing) {
        if (opts.noOverwriteDirNonDir && existing.isDirectory() && !isDirEntry) throw invalid('ERR_OVERWRITE', `cannot overwrite directory "${cpath}" with non-directory "${dest}"`)
        if (opts.noOverwriteDirNonDir && !existing.isDirectory() && isDirEntry) throw invalid('ERR_OVERWRITE', `cannot overwrite non-directory "${cpath}" with directory "${dest}"`)
        if (!(existing.isDirectory() && isDirEntry)) await rm(target, { recursive: true, force: true })
      }
      const uid = opts.owner?.uid ?? h.uid ?? 0
      const gid = opts.owner?.gid ?? h.gid ?? 0
      const mode = (h.mode ?? 0o644) & 0o7777
      switch (h.type) {
        case 'directory':
          if (!existing?.isDirectory()) await mkdir(target, { mode: 0o700 })
          await lchown(target, uid, gid)
          await chmod(target, mode)
          if (h.mtime) dirTimes.push({ cpath, mtime: h.mtime })
          entry.resume()
          break
        case 'file':
        case 'contiguous-file':
        case null:
        case undefined: {
          partial = target
          const fh = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
          try {
            for await (const chunk of entry) await fh.write(chunk as Buffer)
            await fh.chown(uid, gid)
            await fh.chmod(mode)
            if (h.mtime) await fh.utimes(h.mtime, h.mtime)
          } finally {
            await fh.close()
          }
          partial = undefined
          break
        }
        case 'symlink': {
          const linkname = h.linkname ?? ''
          // As Docker: a relative target must stay inside the extraction directory.
          if (!linkname.startsWith('/')) {
            const t = posix.normalize(posix.join(posix.dirname(rel), linkname))
            if (t === '..' || t.startsWith('../')) throw invalid('ERR_TAR_BREAKOUT', `invalid symlink ${JSON.stringify(cpath)} -> ${JSON.stringify(linkname)}`)
          }
          await symlink(linkname, target)
          await lchown(target, uid, gid)
          if (h.mtime) await lutimes(target, h.mtime, h.mtime)
          entry.resume()
          break
        }
        case 'link': {
          const lrel = entryPath(h.linkname ?? '', dest)
          if (lrel === undefined) throw invalid('ERR_TAR_BREAKOUT', `invalid hardlink ${JSON.stringify(cpath)} -> ${JSON.stringify(h.linkname)}`)
          const lpath = posix.join(dest, lrel)
          const lparent = await followInScope(root, posix.dirname(lpath))
          const ldir = await openDirIn(root, lparent)
          try {
            await link(pathInDirFd(ldir.fd, posix.basename(lpath)), target)
          } finally {
            await ldir.close()
          }
          entry.resume()
          break
        }
        case 'character-device':
        case 'block-device':
        case 'fifo': {
          await realPlatform().fileTools.mknod(target, mode, h.type === 'fifo' ? { type: 'p' } : { type: h.type === 'character-device' ? 'c' : 'b', major: h.devmajor ?? 0, minor: h.devminor ?? 0 })
          await lchown(target, uid, gid)
          entry.resume()
          break
        }
        default:
          // pax/GNU meta entries are consumed by the parser; anything else is skipped as Docker does.
          entry.resume()
      }
    }
    // Directory times last: creating their entries changed them.
    for (const d of dirTimes.reverse()) {
      const fh = await openDirIn(root, await followInScope(root, d.cpath)).catch(() => undefined)
      if (!fh) continue
      try { await fh.utimes(d.mtime, d.mtime) } finally { await fh.close() }
    }
  } catch (err) {
    if (partial) await rm(partial, { force: true }).catch(() => {})
    if (opts.signal?.aborted) throw new EngineError('Canceled', 'ERR_CLIENT_GONE', 'client disconnected')
    if (err instanceof EngineError) throw err
    if (/tar|header|Unexpected end/i.test((err as Error).message) && !errno(err)) throw invalid('ERR_BAD_TAR', `invalid tar archive: ${(err as Error).message}`)
    throw err
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
    await cached?.fh.close()
    source.destroy()
  }
}

/** Create the missing directories of a resolved container path, each checked to stay inside. */
async function mkdirInScope(root: string, cpath: string): Promise<void> {
  const parts = cpath.split('/').filter(Boolean)
  let cur = ''
  for (const p of parts) {
    const next = `${cur}/${p}`
    try {
      const st = await lstat(`${root}${next}`)
      if (!st.isDirectory()) throw invalid('ERR_NOT_A_DIRECTORY', `${next}: not a directory`)
    } catch (err) {
      if (!isNotFoundErrno(err)) throw err
      const parent = await openDirIn(root, cur || '/')
      try {
        await mkdir(pathInDirFd(parent.fd, p), { mode: 0o755 })
      } catch (e) {
        if (errno(e) !== 'EEXIST') throw e
      } finally {
        await parent.close()
      }
    }
    cur = next
  }
}

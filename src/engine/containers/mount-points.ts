import { chmod, chown, mkdir, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { internal, invalid, isNotFoundErrno } from '../../lib/errors.js'
import type { Rollback } from '../../lib/rollback.js'
import type { SpecInput } from '../../runtime/spec.js'
import { followInScope } from './archive.js'
import type { Ctx } from './deps.js'
import { mountSpecFromWire, parseBind, parseMountSpec, parseTmpfs, type MountRequest } from './mounts.js'
import type { ContainerRecord, MountPoint } from './types.js'

/** Every mount a host config asks for, parsed (Docker's errors for a bad `-v`, `--mount` or `--tmpfs`). */
export function mountRequests(hc: ContainerRecord['hostConfig']): MountRequest[] {
  const reqs: MountRequest[] = []
  for (const b of hc.binds) reqs.push(parseBind(b))
  for (const m of hc.mounts) reqs.push(parseMountSpec(mountSpecFromWire(m)))
  for (const [dst, opts] of Object.entries(hc.tmpfs)) reqs.push(parseTmpfs(dst, opts))
  return reqs
}

/**
 * The container's mounts as Docker resolves them at create: `-v`, `--mount`, `--tmpfs`,
 * `--volumes-from`, then an anonymous volume for each VOLUME (the image's and `-v /path`) that
 * no other mount covers. Volumes are made (named ones only when missing); a missing bind source
 * is made for `-v` and refused for `--mount`. Whatever was made is undone if create fails.
 */
export async function resolveMounts(ctx: Ctx, rec: ContainerRecord, rb: Rollback): Promise<MountPoint[]> {
  const hc = rec.hostConfig
  const reqs = mountRequests(hc)
  const out: MountPoint[] = []
  const taken = new Set<string>()
  const add = (m: MountPoint) => {
    if (taken.has(m.destination)) throw invalid('ERR_DUPLICATE_MOUNT', `Duplicate mount point: ${m.destination}`)
    taken.add(m.destination)
    out.push(m)
  }
  const vols = ctx.deps.volumes
  const volume = async (r: { name: string; labels?: Record<string, string>; driver?: string; options?: Record<string, string> }): Promise<{ name: string; source: string; anonymous: boolean }> => {
    if (!vols) throw invalid('ERR_VOLUMES', 'volumes are not available in this berthd')
    const anonymous = r.name === ''
    const existed = !anonymous && vols.has(r.name)
    const v = await vols.create({ ...(r.name ? { name: r.name } : {}), ...(r.driver ? { driver: r.driver } : {}), ...(r.labels ? { labels: r.labels } : {}), ...(r.options ? { options: r.options } : {}), anonymous })
    if (!existed) rb.defer(() => vols.remove(v.name, { force: true }))
    return { name: v.name, source: vols.dataPath(v.name), anonymous }
  }
  for (const r of reqs) {
    if (r.type === 'bind') {
      let exists = true
      try { await stat(r.source) } catch (err) { if (!isNotFoundErrno(err)) throw err; exists = false }
      if (!exists) {
        if (!r.createSource) throw invalid('ERR_BIND_SOURCE', `invalid mount config for type "bind": bind source path does not exist: ${r.source}`)
        await mkdir(r.source, { recursive: true, mode: 0o755 })
      }
      add({ type: 'bind', source: r.source, destination: r.destination, readOnly: r.readOnly, mode: r.mode, propagation: r.propagation, noCopy: false })
    } else if (r.type === 'tmpfs') {
      add({ type: 'tmpfs', source: '', destination: r.destination, readOnly: r.readOnly, mode: r.mode, propagation: '', noCopy: false, tmpfsOptions: r.tmpfsOptions ?? [] })
    } else {
      if (taken.has(r.destination)) throw invalid('ERR_DUPLICATE_MOUNT', `Duplicate mount point: ${r.destination}`)
      const v = await volume({ name: r.source, ...(r.volumeLabels ? { labels: r.volumeLabels } : {}), ...(r.volumeDriver ? { driver: r.volumeDriver } : {}), ...(r.volumeDriverOptions ? { options: r.volumeDriverOptions } : {}) })
      add({ type: 'volume', name: v.name, source: v.source, destination: r.destination, readOnly: r.readOnly, mode: r.mode, propagation: '', noCopy: r.noCopy, ...(v.anonymous ? { anonymous: true } : {}) })
    }
  }
  for (const vf of hc.volumesFrom) {
    const [ref = '', mode] = vf.split(':')
    if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw invalid('ERR_VOLUMES_FROM', `invalid mode for volumes-from: ${mode}`)
    const other = ctx.store.resolve(ref)
    for (const m of other.mountPoints ?? []) {
      if (m.type === 'tmpfs' || taken.has(m.destination)) continue
      const { anonymous: _owned, copied: _copied, ...shared } = m
      add({ ...shared, readOnly: mode ? mode === 'ro' : m.readOnly, ...(mode ? { mode } : {}) })
    }
  }
  for (const dst of Object.keys(rec.config.volumes)) {
    const destination = dst.replace(/(.)\/+$/, '$1')
    if (taken.has(destination)) continue
    const v = await volume({ name: '' })
    add({ type: 'volume', name: v.name, source: v.source, destination, readOnly: false, mode: '', propagation: '', noCopy: false, anonymous: true })
  }
  return out
}

/** At start: mount driver-option volumes and copy the image's content into new, empty volumes (copy-up). */
export async function prepareVolumes(ctx: Ctx, rec: ContainerRecord, rootfs: string, rb: Rollback): Promise<void> {
  const vols = ctx.deps.volumes
  if (!vols) return
  for (const m of rec.mountPoints ?? []) {
    if (m.type !== 'volume' || !m.name) continue
    await vols.mountFor(m.name, rec.id)
    rb.defer(() => vols.unmountFor(m.name!, rec.id))
    if (m.noCopy || m.copied) continue
    m.copied = true
    const inRoot = await followInScope(rootfs, m.destination)
    const src = join(rootfs, inRoot)
    let isDir = false
    try { isDir = (await stat(src)).isDirectory() } catch (err) { if (!isNotFoundErrno(err)) throw err }
    if (!isDir) continue
    const data = vols.dataPath(m.name)
    if ((await readdir(data)).length > 0) continue
    // As Docker: contents, ownership and modes of the image's directory (and the directory's own).
    try {
      await ctx.mounts.copyTree(src, data)
    } catch (err) {
      throw internal('ERR_VOLUME_COPY', `failed to copy the image's ${m.destination} into volume ${m.name}: ${(err as Error).message}`)
    }
    const st = await stat(src)
    await chown(data, st.uid, st.gid)
    await chmod(data, st.mode & 0o7777)
  }
}

/** A resolved mount as an OCI spec mount: binds (volumes too) and tmpfs with Docker's options. */
export function specMount(m: MountPoint): SpecInput['mounts'][number] {
  if (m.type === 'tmpfs') {
    const opts = new Set(['nosuid', 'noexec', 'nodev'])
    const extra: string[] = []
    for (const o of m.tmpfsOptions ?? []) {
      if (o === 'exec') opts.delete('noexec')
      else if (o === 'suid') opts.delete('nosuid')
      else if (o === 'dev') opts.delete('nodev')
      else if (o !== 'rw' && o !== 'ro') extra.push(o)
    }
    return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: [...opts, ...(m.readOnly ? ['ro'] : []), ...extra] }
  }
  return { destination: m.destination, type: 'bind', source: m.source, options: ['rbind', m.propagation || 'rprivate', ...(m.readOnly ? ['ro'] : [])] }
}

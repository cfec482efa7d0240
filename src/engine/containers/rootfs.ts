import { mkdir, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { conflict, internal } from '../../lib/errors.js'
import { followInScope } from './archive.js'
import type { Ctx } from './deps.js'
import type { ContainerRecord } from './types.js'

/** The overlay parts of a container's filesystem: its own upper dir and the image's layers, top first. */
export function layerPaths(ctx: Ctx, rec: ContainerRecord): { upper: string; lower: string[] } {
  return { upper: ctx.layout.upper(rec.id), lower: rec.imageTopLayer ? ctx.deps.layers.lowerDirs(rec.imageTopLayer) : [] }
}

/** Mount the container's overlay at its mount point unless it is mounted; returns whether this call mounted it. */
export async function mountRootfs(ctx: Ctx, rec: ContainerRecord): Promise<boolean> {
  const merged = ctx.layout.merged(rec.id)
  if (await ctx.mounts.isMountPoint(merged)) return false
  const { upper, lower } = layerPaths(ctx, rec)
  if (lower.length === 0) throw internal('ERR_NO_LAYERS', `image ${rec.imageId} has no layers`)
  await ctx.mounts.mountOverlay(lower, upper, ctx.layout.work(rec.id), merged)
  return true
}

/**
 * Run `fn` with the container's root filesystem mounted (cp, export, commit): a running
 * container's own mount, or for a stopped one a mount made for the call and undone after the
 * last user, unless the container started meanwhile.
 */
export async function withRootfs<T>(ctx: Ctx, ref: string, fn: (rootfs: string, rec: ContainerRecord) => Promise<T>, opts: { volumes?: boolean } = {}): Promise<T> {
  const rec = ctx.store.resolve(ref)
  const users = ctx.state.rootfsUsers
  {
    await using _ = await ctx.state.locks.acquire(rec.id)
    if (rec.state.status === 'removing' || rec.state.status === 'dead') throw conflict('ERR_CONTAINER_REMOVING', `container ${rec.id} is marked for removal`)
    users.set(rec.id, (users.get(rec.id) ?? 0) + 1)
    try {
      // The clean-up of a run that just ended may still be unmounting it.
      await ctx.state.reaping.get(rec.id)
      await mountRootfs(ctx, rec)
      // As Docker: cp into or out of a container that does not run sees its volumes and binds,
      // mounted for the copy (a running one's are in its own mount namespace).
      if (opts.volumes && !ctx.state.copyMounts.has(rec.id) && !['running', 'paused', 'restarting'].includes(rec.state.status)) await mountForCopy(ctx, rec)
    } catch (err) {
      await releaseRootfs(ctx, rec)
      throw err
    }
  }
  try {
    return await fn(ctx.layout.merged(rec.id), rec)
  } finally {
    await using _ = await ctx.state.locks.acquire(rec.id)
    await releaseRootfs(ctx, rec)
  }
}

async function releaseRootfs(ctx: Ctx, rec: ContainerRecord): Promise<void> {
  const users = ctx.state.rootfsUsers
  const n = (users.get(rec.id) ?? 1) - 1
  if (n > 0) { users.set(rec.id, n); return }
  users.delete(rec.id)
  await unmountForCopy(ctx, rec)
  const s = ctx.store.get(rec.id)?.state.status
  if (s !== 'running' && s !== 'paused' && s !== 'restarting') await ctx.mounts.unmount(ctx.layout.merged(rec.id)).catch((e) => ctx.deps.log(`unmount ${rec.id}: ${String(e)}`))
}

async function mountForCopy(ctx: Ctx, rec: ContainerRecord): Promise<void> {
  const bind = ctx.mounts.bind?.bind(ctx.mounts)
  if (!bind) return
  const merged = ctx.layout.merged(rec.id)
  const done: Array<{ target: string; volume?: string }> = []
  ctx.state.copyMounts.set(rec.id, done)
  const points = [...(rec.mountPoints ?? [])].filter((m) => m.type !== 'tmpfs').sort((a, b) => a.destination.split('/').length - b.destination.split('/').length)
  for (const m of points) {
    if (m.type === 'volume' && m.name) await ctx.deps.volumes?.mountFor(m.name, rec.id)
    const entry: { target: string; volume?: string } = { target: '', ...(m.type === 'volume' && m.name ? { volume: m.name } : {}) }
    done.push(entry)
    const target = join(merged, await followInScope(merged, m.destination))
    const isDir = (await stat(m.source)).isDirectory()
    if (isDir) await mkdir(target, { recursive: true })
    else {
      await mkdir(dirname(target), { recursive: true })
      await writeFile(target, '', { flag: 'a' })
    }
    await bind(m.source, target, { readonly: m.readOnly, recursive: true })
    entry.target = target
  }
}

async function unmountForCopy(ctx: Ctx, rec: ContainerRecord): Promise<void> {
  const done = ctx.state.copyMounts.get(rec.id)
  if (!done) return
  ctx.state.copyMounts.delete(rec.id)
  for (const e of done.reverse()) {
    if (e.target) await ctx.mounts.unmount(e.target).catch((err) => ctx.deps.log(`unmount ${e.target}: ${String(err)}`))
    if (e.volume) await ctx.deps.volumes?.unmountFor(e.volume, rec.id)
  }
}

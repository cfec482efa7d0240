import { conflict, internal } from '../../lib/errors.js'
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
export async function withRootfs<T>(ctx: Ctx, ref: string, fn: (rootfs: string, rec: ContainerRecord) => Promise<T>): Promise<T> {
  const rec = ctx.store.resolve(ref)
  const users = ctx.state.rootfsUsers
  {
    await using _ = await ctx.state.locks.acquire(rec.id)
    if (rec.state.status === 'removing' || rec.state.status === 'dead') throw conflict('ERR_CONTAINER_REMOVING', `container ${rec.id} is marked for removal`)
    users.set(rec.id, (users.get(rec.id) ?? 0) + 1)
    try {
      await mountRootfs(ctx, rec)
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
  const s = ctx.store.get(rec.id)?.state.status
  if (s !== 'running' && s !== 'paused' && s !== 'restarting') await ctx.mounts.unmount(ctx.layout.merged(rec.id)).catch((e) => ctx.deps.log(`unmount ${rec.id}: ${String(e)}`))
}

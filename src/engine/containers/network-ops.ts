import { writeFile } from 'node:fs/promises'
import { isKind, notImplemented } from '../../lib/errors.js'
import type { Ctx } from './deps.js'

type ConnectConfig = { aliases: string[]; ipv4Address: string; macAddress: string; links?: string[]; linkLocalIps?: string[]; driverOpts?: Record<string, string> }

/**
 * `docker network connect`: a container-domain operation. Under the container's lock the
 * network joins it (live when it runs) and returns its new networks; the container records them.
 */
export async function connectNetwork(ctx: Ctx, ctrRef: string, netRef: string, cfg: ConnectConfig): Promise<void> {
  const network = ctx.deps.network
  if (!network) throw notImplemented('ERR_NOT_IMPLEMENTED', 'networks: not supported by this berthd yet')
  const rec0 = ctx.store.resolve(ctrRef)
  await using _ = await ctx.state.locks.acquire(rec0.id)
  const rec = ctx.store.get(rec0.id) ?? rec0
  const change = await network.connectEndpoint(rec, netRef, cfg)
  rec.endpointsConfig = change.endpointsConfig
  rec.network = change.network
  await ctx.store.save(rec)
  // The file is bind-mounted into the container: rewritten in place, the container sees it now.
  if (change.resolvConf !== undefined) await writeFile(ctx.layout.etcFile(rec.id, 'resolv.conf'), change.resolvConf)
}

/** `docker network disconnect` (see connectNetwork); with force, a missing container is not an error. */
export async function disconnectNetwork(ctx: Ctx, ctrRef: string, netRef: string, force: boolean): Promise<void> {
  const network = ctx.deps.network
  if (!network) throw notImplemented('ERR_NOT_IMPLEMENTED', 'networks: not supported by this berthd yet')
  let rec0
  try {
    rec0 = ctx.store.resolve(ctrRef)
  } catch (err) {
    if (force && isKind(err, 'NotFound')) return
    throw err
  }
  await using _ = await ctx.state.locks.acquire(rec0.id)
  const rec = ctx.store.get(rec0.id) ?? rec0
  const change = await network.disconnectEndpoint(rec, netRef)
  rec.endpointsConfig = change.endpointsConfig
  rec.network = change.network
  await ctx.store.save(rec)
}

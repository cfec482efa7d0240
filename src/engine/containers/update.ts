import { rm } from 'node:fs/promises'
import { conflict, EngineError, invalid, notFound } from '../../lib/errors.js'
import { writeFileAtomic } from '../../lib/fs.js'
import { updateResources } from '../../runtime/spec.js'
import { validateRestartPolicy } from './create.js'
import type { Ctx } from './deps.js'
import { cgroupPathOf } from './layout.js'
import { specResources } from './spec-input.js'
import { isRunning } from './state.js'
import type { HostConfig } from './types.js'

/** What `docker update` may change: limits and the restart policy. */
export interface UpdateRequest {
  memory?: number
  memorySwap?: number
  memoryReservation?: number
  nanoCpus?: number
  cpuShares?: number
  cpuQuota?: number
  cpuPeriod?: number
  cpusetCpus?: string
  cpusetMems?: string
  pidsLimit?: number
  blkioWeight?: number
  restartPolicy?: HostConfig['restartPolicy']
}

/**
 * New limits and restart policy, as `docker update`: checked as Docker checks them (the same
 * checks as create, relaxed for update), applied to the running container's cgroup first,
 * recorded only when that worked.
 */
export async function updateContainer(ctx: Ctx, ref: string, u: UpdateRequest): Promise<{ warnings: string[] }> {
  const { layout, state, store } = ctx
  const rec0 = store.resolve(ref)
  await using _ = await state.locks.acquire(rec0.id)
  const rec = store.get(rec0.id)
  if (!rec) throw notFound('ERR_CONTAINER_NOT_FOUND', `No such container: ${ref}`)
  const hc = { ...rec.hostConfig }
  const fail = (m: string) => invalid('ERR_UPDATE', `Cannot update container ${rec.id}: ${m}`)
  if (rec.state.status === 'removing' || rec.state.status === 'dead') throw conflict('ERR_CONTAINER_REMOVING', `Cannot update container ${rec.id}: container is marked for removal and cannot be "update"`)
  if (u.restartPolicy) {
    if (hc.autoRemove && u.restartPolicy.name !== '' && u.restartPolicy.name !== 'no') throw fail('Restart policy cannot be updated because AutoRemove is enabled for the container')
    hc.restartPolicy = validateRestartPolicy(u.restartPolicy)
  }
  // Docker's rules: a new memory limit above the swap limit needs a new swap limit too.
  if (u.memory && u.memory > 0 && !u.memorySwap && hc.memorySwap > 0 && u.memory > hc.memorySwap) {
    throw fail('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time')
  }
  if (u.nanoCpus && u.nanoCpus > 0 && (hc.cpuQuota > 0 || hc.cpuPeriod > 0) && !u.cpuQuota && !u.cpuPeriod) {
    throw fail('Conflicting options: CPU Quota or CPU Period cannot be updated when NanoCPUs is set')
  }
  if ((u.cpuQuota || u.cpuPeriod) && hc.nanoCpus > 0 && !u.nanoCpus) {
    throw fail('Conflicting options: Nano CPUs cannot be updated as CPU Period/Quota has already been set')
  }
  if (u.memory !== undefined && u.memory !== 0) hc.memory = u.memory
  if (u.memorySwap !== undefined && u.memorySwap !== 0) hc.memorySwap = u.memorySwap
  if (u.memoryReservation !== undefined && u.memoryReservation !== 0) hc.memoryReservation = u.memoryReservation
  if (u.nanoCpus !== undefined && u.nanoCpus !== 0) hc.nanoCpus = u.nanoCpus
  if (u.cpuShares !== undefined && u.cpuShares !== 0) hc.cpuShares = u.cpuShares
  if (u.cpuQuota !== undefined && u.cpuQuota !== 0) hc.cpuQuota = u.cpuQuota
  if (u.cpuPeriod !== undefined && u.cpuPeriod !== 0) hc.cpuPeriod = u.cpuPeriod
  if (u.cpusetCpus) hc.cpusetCpus = u.cpusetCpus
  if (u.cpusetMems) hc.cpusetMems = u.cpusetMems
  if (u.pidsLimit !== undefined && u.pidsLimit !== 0) hc.pidsLimit = u.pidsLimit > 0 ? u.pidsLimit : null
  let checked
  try {
    // The same checks as create (runtime/spec.ts verifyResources, in update mode) and the runtime's resources.
    checked = updateResources({
      ...specResources(hc),
      ...(u.blkioWeight ? { blkioWeight: u.blkioWeight } : {}),
      // Only a new PIDs limit is written: the runtime cannot set an unlimited one (see below).
      ...(u.pidsLimit ? { pidsLimit: hc.pidsLimit ?? 0 } : {}),
    }, hc.nanoCpus || undefined, ctx.host())
  } catch (err) {
    if (err instanceof EngineError) throw fail(err.message)
    throw err
  }
  if (isRunning(rec)) {
    const file = layout.updateFile(rec.id)
    const unlimitedPids = (checked.resources.pids?.limit ?? 0) < 0
    if (unlimitedPids) delete checked.resources.pids
    await writeFileAtomic(file, JSON.stringify(checked.resources))
    try {
      await ctx.runtime.update(state.runtimeOf(rec), rec.id, file)
      if (unlimitedPids) await ctx.runtime.unlimitPids(cgroupPathOf(rec.id))
    } catch (err) {
      throw fail((err as Error).message)
    } finally {
      await rm(file, { force: true })
    }
  }
  rec.hostConfig = hc
  await store.save(rec)
  state.emit(rec, 'update')
  return { warnings: checked.warnings }
}

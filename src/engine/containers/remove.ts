import { conflict, notFound } from '../../lib/errors.js'
import type { Ctx } from './deps.js'
import { cancelRestart, finishRemoval } from './exits.js'
import { directPid, isRunning } from './state.js'
import { traceMark } from './trace.js'

export interface RemoveOptions {
  force?: boolean
  /** Also remove its anonymous volumes (`rm -v`). */
  volumes?: boolean
  /** An auto-remove (`run --rm`): a container already gone is not an error, and its anonymous volumes go. */
  internal?: boolean
}

/** `docker rm`: a running (or restarting, or paused) container only with force (killed first). */
export async function removeContainer(ctx: Ctx, ref: string, { force = false, volumes = false, internal: auto = false }: RemoveOptions = {}): Promise<void> {
  const { deps, state, store } = ctx
  const rec = store.resolve(ref)
  traceMark(`remove ${rec.id.slice(0, 12)}`)
  // Docker names the container as the caller did, and counts a restarting container as running.
  if (!force && (isRunning(rec) || rec.state.status === 'restarting')) {
    const why = rec.state.status === 'paused' ? 'container is paused and must be unpaused first' : `container is ${rec.state.status}: stop the container before removing or force remove`
    throw conflict('ERR_CONTAINER_RUNNING', `cannot remove container "${ref}": ${why}`)
  }
  // The states saved on the way (stopped by the user, exited, removing) are overwritten or
  // deleted next: atomic, not fsynced (a crash of berthd still leaves one of them on disk).
  state.removals.add(rec.id)
  try {
    await cancelRestart(ctx, rec, false)
    if (isRunning(rec)) {
      rec.state.stoppedByUser = true
      const exited = state.nextExit(rec.id)
      await ctx.runtime.kill(state.runtimeOf(rec), rec.id, 'SIGKILL', true, directPid(rec, true))
      await Promise.race([exited, ctx.clock.sleep(10_000)])
    }
  } finally {
    state.removals.delete(rec.id)
  }
  await using _ = await state.locks.acquire(rec.id)
  if (!store.get(rec.id)) {
    if (auto) return
    throw notFound('ERR_CONTAINER_NOT_FOUND', `No such container: ${ref}`)
  }
  if (rec.state.status === 'removing') throw conflict('ERR_REMOVAL_IN_PROGRESS', `removal of container ${ref} is already in progress`)
  rec.state.status = 'removing'
  await store.save(rec, { durable: false })
  traceMark(`removing ${rec.id.slice(0, 12)}`)
  await finishRemoval(ctx, rec)
  traceMark(`removed ${rec.id.slice(0, 12)}`)
  // `rm -v` (and `run --rm`) take the container's anonymous volumes with it; named ones stay.
  if (volumes || auto) {
    for (const m of rec.mountPoints ?? []) {
      if (m.anonymous && m.name) await deps.volumes?.remove(m.name).catch((e) => deps.log(`remove volume ${m.name}: ${String(e)}`))
    }
  }
}

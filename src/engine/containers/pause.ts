import { conflict } from '../../lib/errors.js'
import type { Ctx } from './deps.js'

/** `docker pause` (pause true) and `unpause` (false): the cgroup freezer, through the runtime. */
export async function pauseContainer(ctx: Ctx, ref: string, pause: boolean): Promise<void> {
  const rec = ctx.store.resolve(ref)
  await using _ = await ctx.state.locks.acquire(rec.id)
  if (pause) {
    if (rec.state.status === 'paused') throw conflict('ERR_ALREADY_PAUSED', `container ${rec.id} is already paused`)
    if (rec.state.status !== 'running') throw conflict('ERR_NOT_RUNNING', `container ${rec.id} is not running`)
  } else if (rec.state.status !== 'paused') throw conflict('ERR_NOT_PAUSED', `container ${rec.id} is not paused`)
  await ctx.runtime.pause(ctx.state.runtimeOf(rec), rec.id, pause)
  rec.state.status = pause ? 'paused' : 'running'
  await ctx.store.save(rec)
  ctx.state.emit(rec, pause ? 'pause' : 'unpause')
}

import type { Ctx } from './deps.js'
import { startContainer } from './start.js'
import { stopContainer } from './stop.js'

/** `docker restart`: stop (as `docker stop`), start, a `restart` event; the policy applies again. */
export async function restartContainer(ctx: Ctx, ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
  const rec = ctx.store.resolve(ref)
  await stopContainer(ctx, rec.id, opts)
  await startContainer(ctx, rec.id)
  rec.state.stoppedByUser = false
  ctx.state.emit(rec, 'restart')
}

import type { Ctx } from './deps.js'
import { cancelRestart } from './exits.js'
import { parseSignal, signalNumber } from './signals.js'
import { isRunning } from './state.js'

export type StopResult = 'stopped' | 'not-running'

/**
 * `docker stop`: the stop signal, then SIGKILL after the timeout (-1: wait for ever). Ends the
 * restart policy (also during its back-off); a paused container is thawed to receive it.
 * Resolves once the exit is recorded.
 */
export async function stopContainer(ctx: Ctx, ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<StopResult> {
  const { state } = ctx
  const rec = ctx.store.resolve(ref)
  await cancelRestart(ctx, rec)
  if (rec.state.status === 'restarting') {
    // A policy restart under way: wait for its start, then stop what it started (or cancel
    // the back-off its exit began), so the container stays stopped.
    ;(await state.locks.acquire(rec.id)).release()
    await cancelRestart(ctx, rec)
  }
  if (!isRunning(rec)) return 'not-running'
  rec.state.stoppedByUser = true
  const sig = parseSignal(opts.signal || rec.config.stopSignal || 'SIGTERM')
  const timeout = opts.timeout ?? rec.config.stopTimeout ?? 10
  const exited = state.nextExit(rec.id)
  const rt = state.runtimeOf(rec)
  if (rec.state.status === 'paused') await ctx.runtime.pause(rt, rec.id, false).catch(() => {})
  state.emit(rec, 'kill', { signal: String(signalNumber(sig)) })
  await ctx.runtime.kill(rt, rec.id, sig)
  const r = timeout < 0 ? await exited : await Promise.race([exited, ctx.clock.sleep(timeout * 1000).then(() => undefined)])
  if (r === undefined) {
    state.emit(rec, 'kill', { signal: '9' })
    await ctx.runtime.kill(rt, rec.id, 'SIGKILL', true)
    await exited
  }
  state.emit(rec, 'stop')
  return 'stopped'
}

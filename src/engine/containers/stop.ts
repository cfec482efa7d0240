import type { Ctx } from './deps.js'
import { cancelRestart } from './exits.js'
import { parseSignal, signalNumber } from './signals.js'
import { directPid, isRunning } from './state.js'
import { traceMark } from './trace.js'

export type StopResult = 'stopped' | 'not-running'

/**
 * `docker stop`: the stop signal, then SIGKILL after the timeout (-1: wait for ever). Ends the
 * restart policy first (also during its back-off, or while its start is under way), so a
 * crash-looping container always stops and stays stopped; a paused container is thawed to
 * receive the signal. Resolves once the exit is recorded.
 */
export async function stopContainer(ctx: Ctx, ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<StopResult> {
  const { state } = ctx
  const rec0 = ctx.store.resolve(ref)
  traceMark(`stop ${rec0.id.slice(0, 12)}`)
  const between = await cancelRestart(ctx, rec0)
  const rec = ctx.store.get(rec0.id) ?? rec0
  if (!isRunning(rec)) {
    if (between) state.emit(rec, 'stop')
    // As Docker: a container caught between two runs counts as running (204, not 304).
    return between ? 'stopped' : 'not-running'
  }
  const sig = parseSignal(opts.signal || rec.config.stopSignal || 'SIGTERM')
  const timeout = opts.timeout ?? rec.config.stopTimeout ?? 10
  const exited = state.nextExit(rec.id)
  const rt = state.runtimeOf(rec)
  // The process may end on its own meanwhile (a crash loop): its exit is what was waited for.
  const gone = async (err: unknown): Promise<void> => {
    const ended = await Promise.race([exited.then(() => true), ctx.clock.sleep(2000).then(() => false)])
    if (!ended && isRunning(rec)) throw err
  }
  if (rec.state.status === 'paused') await ctx.runtime.pause(rt, rec.id, false).catch(() => {})
  state.emit(rec, 'kill', { signal: String(signalNumber(sig)) })
  await ctx.runtime.kill(rt, rec.id, sig, false, directPid(rec)).catch(gone)
  const r = timeout < 0 ? await exited : await Promise.race([exited, ctx.clock.sleep(timeout * 1000).then(() => undefined)])
  if (r === undefined) {
    state.emit(rec, 'kill', { signal: '9' })
    await ctx.runtime.kill(rt, rec.id, 'SIGKILL', true, directPid(rec, true)).catch(gone)
    await exited
  }
  state.emit(rec, 'stop')
  traceMark(`stopped ${rec.id.slice(0, 12)}`)
  return 'stopped'
}

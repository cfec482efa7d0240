import { conflict } from '../../lib/errors.js'
import type { Ctx } from './deps.js'
import { cancelRestart } from './exits.js'
import { parseSignal, signalNumber } from './signals.js'
import { directPid, isActive, isRunning } from './state.js'

/**
 * As Docker: SIGKILL (the default) returns once the container has stopped; other signals
 * return once sent. A signal meant to stop it (SIGKILL, its stop signal, or any signal when it
 * has none) ends its restart policy, and a paused container is thawed to receive it.
 */
export async function killContainer(ctx: Ctx, ref: string, signal = 'SIGKILL'): Promise<void> {
  const { state } = ctx
  const rec = ctx.store.resolve(ref)
  const sig = parseSignal(signal)
  const isKill = signalNumber(sig) === 9
  const stopping = isKill || !rec.config.stopSignal || signalNumber(parseSignal(rec.config.stopSignal)) === signalNumber(sig)
  // As Docker: a container between two runs of its policy counts as running; a signal meant
  // to stop it ends the policy there and then (also when the run ends meanwhile).
  if (stopping && isActive(rec)) {
    const between = await cancelRestart(ctx, rec)
    if (between && !isRunning(rec)) {
      state.emit(rec, 'kill', { signal: String(signalNumber(sig)) })
      return
    }
  }
  if (!isRunning(rec)) throw conflict('ERR_NOT_RUNNING', `cannot kill container: ${ref}: container ${rec.id} is not running`)
  const exited = isKill ? state.nextExit(rec.id) : undefined
  const rt = state.runtimeOf(rec)
  state.emit(rec, 'kill', { signal: String(signalNumber(sig)) })
  await ctx.runtime.kill(rt, rec.id, sig, false, directPid(rec))
  if (stopping && rec.state.status === 'paused') {
    await ctx.runtime.pause(rt, rec.id, false)
    if (rec.state.status === 'paused') {
      rec.state.status = 'running'
      await ctx.store.save(rec)
      state.emit(rec, 'unpause')
    }
  }
  if (exited) await Promise.race([exited, ctx.clock.sleep(10_000)])
}

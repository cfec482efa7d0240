import { invalid } from '../../lib/errors.js'
import type { Ctx } from './deps.js'
import { isActive, type ExitResult } from './state.js'

export type WaitCondition = 'not-running' | 'next-exit' | 'removed' | ''

/** Docker's wait conditions: not-running (default), next-exit, removed. Aborting the signal rejects. */
export async function waitContainer(ctx: Ctx, ref: string, condition = 'not-running', signal?: AbortSignal): Promise<ExitResult> {
  if (!['not-running', 'next-exit', 'removed', ''].includes(condition)) throw invalid('ERR_INVALID_CONDITION', `invalid condition: "${condition}"`)
  const rec = ctx.store.resolve(ref)
  let p: Promise<ExitResult>
  if (condition === 'removed') p = ctx.state.removal(rec.id)
  else if (condition === 'next-exit' || isActive(rec)) p = ctx.state.nextExit(rec.id)
  else return { statusCode: rec.state.exitCode, ...(rec.state.error ? { error: rec.state.error } : {}) }
  if (!signal) return p
  if (signal.aborted) return Promise.reject(signal.reason)
  return Promise.race([p, new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))])
}

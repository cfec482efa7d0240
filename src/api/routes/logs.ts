import type { ContainerBackend, LogsOptions, LogStream } from '../backend.js'
import { EngineError, invalid } from '../../lib/errors.js'
import { boolParam, versionAtLeast, type Ctx } from '../http.js'
import type { Router } from '../router.js'
import { responseWriter } from '../stream.js'

/** The query of a logs request (containers, services, tasks), checked as Docker does. */
export function logsOptions(ctx: Ctx): LogsOptions {
  const q = ctx.query
  const stdout = boolParam(q, 'stdout')
  const stderr = boolParam(q, 'stderr')
  if (!stdout && !stderr) throw invalid('ERR_LOGS', 'Bad parameters: you must choose at least one stream')
  const tailRaw = q.get('tail')
  // As Docker: anything that is not a number means all lines.
  const tailNum = tailRaw === null || tailRaw === '' || tailRaw === 'all' ? undefined : Number(tailRaw)
  const tail = tailNum === undefined || !Number.isInteger(tailNum) ? undefined : tailNum
  const since = q.get('since')
  const until = q.get('until')
  return {
    stdout, stderr,
    follow: boolParam(q, 'follow'),
    timestamps: boolParam(q, 'timestamps'),
    details: boolParam(q, 'details'),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(tail !== undefined ? { tail } : {}),
    signal: ctx.signal,
  }
}

/** A log stream as Docker sends it: raw with a TTY (or before API 1.42), multiplexed otherwise; ends quietly when the client goes. */
export async function sendLogs(ctx: Ctx, logs: LogStream): Promise<void> {
  const { res } = ctx
  res.writeHead(200, { 'Content-Type': logs.tty || !versionAtLeast(ctx, '1.42') ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' })
  res.flushHeaders()
  const write = responseWriter(res)
  try {
    for await (const chunk of logs.chunks) await write(chunk)
  } catch (err) {
    if (!(err instanceof EngineError && err.code === 'ERR_CLIENT_GONE')) throw err
  }
  res.end()
}

export function logRoutes(r: Router, b: ContainerBackend): void {
  r.add('GET', '/containers/{id}/logs', async (ctx) => sendLogs(ctx, await b.logs(ctx.params[0]!, logsOptions(ctx))))
}

import type { Daemon } from '../../daemon/daemon.js'
import { parseTimestampNano } from '../../engine/filters.js'
import { formatNano, frame, readLogs } from '../../engine/containers/logs.js'
import { invalid } from '../../lib/errors.js'
import { boolParam, versionAtLeast, type Ctx } from '../http.js'
import type { Router } from '../router.js'

export function logRoutes(r: Router, d: Daemon): void {
  r.add('GET', '/containers/{id}/logs', (ctx) => streamLogs(ctx, d))
}

async function streamLogs(ctx: Ctx, d: Daemon): Promise<void> {
  const rec = d.engine.containers.resolve(ctx.params[0]!)
  const q = ctx.query
  const stdout = boolParam(q, 'stdout')
  const stderr = boolParam(q, 'stderr')
  if (!stdout && !stderr) throw invalid('ERR_LOGS', 'Bad parameters: you must choose at least one stream')
  if (rec.hostConfig.logConfig.type === 'none') throw invalid('ERR_LOGS', `configured logging driver does not support reading`)
  const toNano = (v: string | null) => (!v || v === '0' ? undefined : parseTimestampNano(v))
  const tailRaw = q.get('tail')
  const tail = tailRaw === null || tailRaw === '' || tailRaw === 'all' ? undefined : Number(tailRaw)
  if (tail !== undefined && Number.isNaN(tail)) throw invalid('ERR_LOGS', `invalid value for "tail": "${tailRaw}"`)
  const timestamps = boolParam(q, 'timestamps')
  const tty = rec.config.tty
  ctx.res.writeHead(200, { 'Content-Type': tty || !versionAtLeast(ctx, '1.42') ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' })
  ctx.res.flushHeaders()
  const sinceNano = toNano(q.get('since'))
  const untilNano = toNano(q.get('until'))
  const records = readLogs(rec.logPath, {
    stdout, stderr,
    ...(sinceNano !== undefined ? { sinceNano } : {}),
    ...(untilNano !== undefined ? { untilNano } : {}),
    ...(tail !== undefined ? { tail } : {}),
    follow: boolParam(q, 'follow'),
    signal: ctx.signal,
    stopped: () => { const s = d.engine.containers.store.get(rec.id)?.state.status; return s !== 'running' && s !== 'paused' && s !== 'restarting' },
  })
  for await (const r of records) {
    const payload = timestamps ? Buffer.concat([Buffer.from(`${formatNano(r.timeNano)} `), r.data]) : r.data
    const out = tty ? payload : frame(r.stream === 'stdout' ? 1 : 2, payload)
    if (!ctx.res.write(out)) await new Promise<void>((resolve) => ctx.res.once('drain', resolve))
  }
  ctx.res.end()
}

import type { Daemon } from '../../daemon/daemon.js'
import { parseTimestampNano } from '../../engine/filters.js'
import { readLogFrames } from '../../engine/containers/logs.js'
import { logAttributes } from '../../engine/containers/log-rotate.js'
import { invalid, notImplemented } from '../../lib/errors.js'
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
  if (rec.hostConfig.logConfig.type === 'none') throw notImplemented('ERR_LOGS_NOT_SUPPORTED', 'configured logging driver does not support reading')
  const toNano = (v: string | null) => (!v || v === '0' ? undefined : parseTimestampNano(v))
  const tailRaw = q.get('tail')
  // As Docker: anything that is not a number means all lines.
  const tailNum = tailRaw === null || tailRaw === '' || tailRaw === 'all' ? undefined : Number(tailRaw)
  const tail = tailNum === undefined || !Number.isInteger(tailNum) ? undefined : tailNum
  const sinceNano = toNano(q.get('since'))
  const untilNano = toNano(q.get('until'))
  const tty = rec.config.tty
  const details = boolParam(q, 'details') ? logAttributes(rec) : undefined
  ctx.res.writeHead(200, { 'Content-Type': tty || !versionAtLeast(ctx, '1.42') ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' })
  ctx.res.flushHeaders()
  const chunks = readLogFrames(rec.logPath, {
    stdout, stderr,
    ...(sinceNano !== undefined ? { sinceNano } : {}),
    ...(untilNano !== undefined ? { untilNano } : {}),
    ...(tail !== undefined ? { tail } : {}),
    follow: boolParam(q, 'follow'),
    signal: ctx.signal,
    stopped: () => { const s = d.engine.containers.store.get(rec.id)?.state.status; return s !== 'running' && s !== 'paused' && s !== 'restarting' },
  }, { raw: tty, timestamps: boolParam(q, 'timestamps'), ...(details !== undefined ? { details } : {}) })
  for await (const b of chunks) {
    if (ctx.res.destroyed) break
    if (!ctx.res.write(b)) {
      await new Promise<void>((resolve) => {
        const done = () => { ctx.res.off('drain', done); ctx.res.off('close', done); resolve() }
        ctx.res.on('drain', done)
        ctx.res.on('close', done)
      })
    }
  }
  ctx.res.end()
}

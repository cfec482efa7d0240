import type { ContainerBackend } from '../backend.js'
import { invalid } from '../../lib/errors.js'
import { boolParam, versionAtLeast } from '../http.js'
import type { Router } from '../router.js'

export function logRoutes(r: Router, b: ContainerBackend): void {
  r.add('GET', '/containers/{id}/logs', async (ctx) => {
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
    const logs = await b.logs(ctx.params[0]!, {
      stdout, stderr,
      follow: boolParam(q, 'follow'),
      timestamps: boolParam(q, 'timestamps'),
      details: boolParam(q, 'details'),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(tail !== undefined ? { tail } : {}),
      signal: ctx.signal,
    })
    const { res } = ctx
    res.writeHead(200, { 'Content-Type': logs.tty || !versionAtLeast(ctx, '1.42') ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' })
    res.flushHeaders()
    for await (const chunk of logs.chunks) {
      if (res.destroyed) break
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => { res.off('drain', done); res.off('close', done); resolve() }
          res.on('drain', done)
          res.on('close', done)
        })
      }
    }
    res.end()
  })
}

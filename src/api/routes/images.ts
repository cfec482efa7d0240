import type { Daemon } from '../../daemon/daemon.js'
import { Filters } from '../../engine/filters.js'
import { EngineError, invalid, notImplemented } from '../../lib/errors.js'
import { boolParam, startJsonStream, streamError, type Ctx } from '../http.js'
import type { Router } from '../router.js'
import { pullRoute } from './registry.js'
import { toWireDeleteItems, toWireHistory, toWireImageInspect, toWireImageSummary } from '../wire.js'

export function imageRoutes(r: Router, d: Daemon): void {
  const images = () => d.engine.images

  r.add('GET', '/images/json', (ctx) => {
    const filters = Filters.parse(ctx.query.get('filters'))
    // Legacy `filter=<reference>` parameter (API < 1.41).
    const legacy = ctx.query.get('filter')
    const f = legacy ? Filters.parse(JSON.stringify({ ...filters.toJSON(), reference: [...filters.get('reference'), legacy] })) : filters
    return images()
      .list({ all: boolParam(ctx.query, 'all'), filters: f, sharedSize: boolParam(ctx.query, 'shared-size') })
      .map((s) => toWireImageSummary(s, ctx.version))
  })

  r.add('POST', '/images/load', async (ctx) => {
    const result = await images().load(ctx.req as AsyncIterable<Buffer>, { signal: ctx.signal })
    const write = startJsonStream(ctx.res)
    // Only the result lines are printed, with or without quiet.
    for (const m of result.messages) write({ stream: `${m}\n` })
  })

  r.add('GET', '/images/get', (ctx) => saveTo(ctx, d, ctx.query.getAll('names')))
  r.add('POST', '/images/prune', async (ctx) => {
    const filters = Filters.parse(ctx.query.get('filters'))
    const out = await images().prune(filters)
    return { ImagesDeleted: out.deleted.length ? toWireDeleteItems(out.deleted) : null, SpaceReclaimed: out.spaceReclaimed }
  })

  r.add('POST', '/images/create', async (ctx) => {
    const q = ctx.query
    const fromSrc = q.get('fromSrc')
    if (fromSrc === null) {
      if (q.get('fromImage')) return pullRoute(ctx, d)
      throw invalid('ERR_MISSING_PARAM', 'either fromImage or fromSrc is required')
    }
    if (fromSrc !== '-') throw notImplemented('ERR_IMPORT_URL', 'importing from a URL is not implemented in this berthd yet; pipe the archive to `import -` instead')
    let id: string
    try {
      id = await images().import(ctx.req as AsyncIterable<Buffer>, {
        repo: q.get('repo') ?? '',
        tag: q.get('tag') ?? '',
        message: q.get('message') ?? '',
        changes: q.getAll('changes'),
        platform: q.get('platform') ?? '',
        source: fromSrc,
        signal: ctx.signal,
      })
    } catch (err) {
      if (err instanceof EngineError && !ctx.res.headersSent) throw err
      startJsonStream(ctx.res)(streamError(err))
      return
    }
    startJsonStream(ctx.res)({ status: id })
  })

  r.add('GET', '/images/{name*}/json', (ctx) => {
    const img = images().resolve(ctx.params[0]!)
    const dirs = d.engine.layers.lowerDirs(img.record.layers.at(-1) ?? '')
    const graph: Record<string, string> = dirs.length > 1
      ? { LowerDir: dirs.slice(1).join(':'), MergedDir: '', UpperDir: dirs[0]!, WorkDir: '' }
      : dirs.length === 1 ? { MergedDir: '', UpperDir: dirs[0]!, WorkDir: '' } : {}
    return toWireImageInspect(img, { graphDriverData: graph, version: ctx.version })
  })

  r.add('GET', '/images/{name*}/history', (ctx) => images().history(ctx.params[0]!).map(toWireHistory))

  r.add('GET', '/images/{name*}/get', (ctx) => saveTo(ctx, d, [ctx.params[0]!]))

  r.add('POST', '/images/{name*}/tag', async (ctx) => {
    const repo = ctx.query.get('repo')
    if (!repo) throw invalid('ERR_MISSING_PARAM', 'repository name (repo) cannot be empty')
    await images().tag(ctx.params[0]!, repo, ctx.query.get('tag') ?? undefined)
    ctx.res.writeHead(201)
    ctx.res.end()
  })

  r.add('DELETE', '/images/{name*}', async (ctx) => {
    const items = await images().remove(ctx.params[0]!, { force: boolParam(ctx.query, 'force'), noPrune: boolParam(ctx.query, 'noprune') })
    return toWireDeleteItems(items)
  })

}

async function saveTo(ctx: Ctx, d: Daemon, names: string[]): Promise<void> {
  if (names.length === 0) throw invalid('ERR_MISSING_PARAM', 'no images specified')
  // Resolve everything before the first byte, so a bad name is a proper 404.
  for (const n of names) d.engine.images.resolve(n)
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' })
  await d.engine.images.save(names, (chunk) => {
    if (!ctx.res.write(chunk)) return new Promise<void>((resolve) => ctx.res.once('drain', resolve))
  }, { signal: ctx.signal })
  ctx.res.end()
}

import type { ImageBackend, ImageListFilters, RegistryBackend } from '../backend.js'
import { Filters } from '../../lib/filters.js'
import { defined } from '../filters.js'
import { EngineError, invalid, notImplemented } from '../../lib/errors.js'
import { boolParam, startJsonStream, streamError, type Ctx } from '../http.js'
import type { Router } from '../router.js'
import { responseGone, responseWriter } from '../stream.js'
import { pullRoute } from './registry.js'
import { toWireDeleteItems, toWireHistory, toWireImageInspect, toWireImageSummary } from '../wire.js'

/** Image list and prune filters, checked with Docker's messages. */
export function parseImageFilters(f: Filters, allowed: string[]): ImageListFilters {
  f.validate(allowed)
  return defined({
    before: f.opt('before'), since: f.opt('since'), dangling: f.bool('dangling'),
    label: f.opt('label'), labelNot: f.opt('label!'), reference: f.opt('reference'), until: f.opt('until'),
  })
}

export function imageRoutes(r: Router, b: ImageBackend, registry: RegistryBackend): void {
  r.add('GET', '/images/json', async (ctx) => {
    const filters = Filters.parse(ctx.query.get('filters'))
    // Legacy `filter=<reference>` parameter (API < 1.41).
    const legacy = ctx.query.get('filter')
    const f = legacy ? new Filters(Object.entries({ ...filters.toJSON(), reference: [...filters.get('reference'), legacy] })) : filters
    const list = await b.list({ all: boolParam(ctx.query, 'all'), sharedSize: boolParam(ctx.query, 'shared-size'), filters: parseImageFilters(f, ['dangling', 'label', 'label!', 'reference', 'before', 'since', 'until']) })
    return list.map((s) => toWireImageSummary(s, ctx.version))
  })

  r.add('POST', '/images/load', async (ctx) => {
    // As dockerd: the answer is 200 whatever happens, an error is the stream's last message
    // (docker-py raises ImageLoadError on it, the CLI prints it and exits 1).
    let result: Awaited<ReturnType<typeof b.load>>
    try {
      result = await b.load(ctx.req as AsyncIterable<Buffer>, ctx.signal)
    } catch (err) {
      if (ctx.signal.aborted || ctx.res.headersSent) throw err
      startJsonStream(ctx.res)(streamError(err))
      return
    }
    const write = startJsonStream(ctx.res)
    // Only the result lines are printed, with or without quiet.
    for (const m of result.messages) write({ stream: `${m}\n` })
  })

  r.add('GET', '/images/get', (ctx) => saveTo(ctx, b, ctx.query.getAll('names')))

  r.add('POST', '/images/prune', async (ctx) => {
    const out = await b.prune(parseImageFilters(Filters.parse(ctx.query.get('filters')), ['dangling', 'label', 'label!', 'until']))
    return { ImagesDeleted: out.deleted.length ? toWireDeleteItems(out.deleted) : null, SpaceReclaimed: out.spaceReclaimed }
  })

  r.add('POST', '/images/create', async (ctx) => {
    const q = ctx.query
    const fromSrc = q.get('fromSrc')
    if (fromSrc === null) {
      if (q.get('fromImage')) return pullRoute(ctx, registry)
      throw invalid('ERR_MISSING_PARAM', 'either fromImage or fromSrc is required')
    }
    if (fromSrc !== '-') throw notImplemented('ERR_IMPORT_URL', 'importing from a URL is not implemented in this berthd yet; pipe the archive to `import -` instead')
    let id: string
    try {
      id = await b.import(ctx.req as AsyncIterable<Buffer>, {
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

  r.add('GET', '/images/{name*}/json', async (ctx) => toWireImageInspect(await b.inspect(ctx.params[0]!), ctx.version))

  r.add('GET', '/images/{name*}/history', async (ctx) => (await b.history(ctx.params[0]!)).map(toWireHistory))

  r.add('GET', '/images/{name*}/get', (ctx) => saveTo(ctx, b, [ctx.params[0]!]))

  r.add('POST', '/images/{name*}/tag', async (ctx) => {
    const repo = ctx.query.get('repo')
    if (!repo) throw invalid('ERR_MISSING_PARAM', 'repository name (repo) cannot be empty')
    await b.tag(ctx.params[0]!, repo, ctx.query.get('tag') ?? undefined)
    ctx.res.writeHead(201)
    ctx.res.end()
  })

  r.add('DELETE', '/images/{name*}', async (ctx) => toWireDeleteItems(await b.remove(ctx.params[0]!, { force: boolParam(ctx.query, 'force'), noPrune: boolParam(ctx.query, 'noprune') })))
}

async function saveTo(ctx: Ctx, b: ImageBackend, names: string[]): Promise<void> {
  if (names.length === 0) throw invalid('ERR_MISSING_PARAM', 'no images specified')
  // The backend resolves every name before the first byte, so a bad name is a proper 404.
  await b.save(names, () => {
    ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' })
    return responseWriter(ctx.res)
  }, ctx.signal).catch((err: unknown) => {
    // The client went away mid-archive: nothing more to answer.
    if (!ctx.signal.aborted && !responseGone(ctx.res)) throw err
  })
  ctx.res.end()
}

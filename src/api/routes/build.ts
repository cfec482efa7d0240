import type { BuildBackend, BuildRequest } from '../backend.js'
import { invalid, notImplemented } from '../../lib/errors.js'
import { boolParam, startJsonStream } from '../http.js'
import type { Router } from '../router.js'

function jsonParam<T>(q: URLSearchParams, name: string, dflt: T): T {
  const v = q.get(name)
  if (!v) return dflt
  try {
    return JSON.parse(v) as T
  } catch {
    throw invalid('ERR_BUILD_PARAM', `invalid ${name} parameter: ${v}`)
  }
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)
  if (v === null || v === '') return undefined
  const n = Number(v)
  if (!Number.isFinite(n)) throw invalid('ERR_BUILD_PARAM', `invalid ${name} parameter: ${v}`)
  return n
}

/** POST /build (the classic builder's JSON stream) and POST /build/prune. */
export function buildRoutes(r: Router, b: BuildBackend): void {
  r.add('POST', '/build', async (ctx) => {
    const q = ctx.query
    if (q.get('version') === '2') throw notImplemented('ERR_BUILDKIT', 'BuildKit (version=2) is not supported by this berthd; use the classic builder (DOCKER_BUILDKIT=0)')
    if (q.get('remote')) throw notImplemented('ERR_BUILD_REMOTE', 'remote build contexts (remote=...) are not supported by this berthd; send the context as the request body')
    if (q.get('outputs')) throw notImplemented('ERR_BUILD_OUTPUTS', 'build outputs are not supported by the classic builder')
    const opts: BuildRequest = {
      dockerfile: q.get('dockerfile') ?? 'Dockerfile',
      tags: q.getAll('t').filter(Boolean),
      buildArgs: jsonParam<Record<string, string | null>>(q, 'buildargs', {}),
      ...(q.get('target') ? { target: q.get('target')! } : {}),
      noCache: boolParam(q, 'nocache'),
      pull: boolParam(q, 'pull'),
      labels: jsonParam<Record<string, string>>(q, 'labels', {}),
      quiet: boolParam(q, 'q'),
      rm: boolParam(q, 'rm', true),
      forceRm: boolParam(q, 'forcerm'),
      ...(intParam(q, 'memory') ? { memory: intParam(q, 'memory')! } : {}),
      ...(intParam(q, 'memswap') ? { memorySwap: intParam(q, 'memswap')! } : {}),
      ...(intParam(q, 'shmsize') ? { shmSize: intParam(q, 'shmsize')! } : {}),
      ...(q.get('networkmode') ? { networkMode: q.get('networkmode')! } : {}),
      extraHosts: (q.get('extrahosts') ?? '').split(',').filter(Boolean),
      cacheFrom: jsonParam<string[]>(q, 'cachefrom', []),
      ...(q.get('platform') ? { platform: q.get('platform')! } : {}),
      explainCache: boolParam(q, 'explaincache'),
      signal: ctx.signal,
    }
    // The stream starts with the first message: an error before it (a missing Dockerfile, a parse
    // error, an unknown target) is an ordinary error answer, as Docker's classic builder gives.
    let send: ((obj: unknown) => void) | undefined
    await b.build(ctx.req as AsyncIterable<Buffer>, opts, (m) => { send ??= startJsonStream(ctx.res); send(m) })
    ctx.res.end()
  })

  // The classic builder's cache is the index of step → image; the intermediate images are
  // ordinary images (docker image prune removes them). Filters are not supported.
  r.add('POST', '/build/prune', async (ctx) => {
    const filters = ctx.query.get('filters')
    if (filters && filters !== '{}') throw notImplemented('ERR_BUILD_PRUNE_FILTERS', 'build cache prune filters are not supported by this berthd')
    const out = await b.prune({ all: boolParam(ctx.query, 'all') })
    return { CachesDeleted: out.deleted, SpaceReclaimed: out.spaceReclaimed }
  })
}

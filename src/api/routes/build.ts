import type { BuildBackend, BuildCachePruneFilters, BuildRequest } from '../backend.js'
import { Filters, parseTimestamp } from '../../lib/filters.js'
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

const CACHE_FIELDS = ['id', 'parent', 'type', 'description', 'inuse', 'shared', 'private'] as const

/**
 * dockerd's build-cache prune filters: until (or its old name unused-for), label and label!
 * (accepted, unused), and BuildKit's record fields, one value each; anything else is refused.
 */
export function parseCachePruneFilters(raw: string | null): BuildCachePruneFilters {
  const f = Filters.parse(raw)
  f.validate(['until', 'unused-for', 'label', 'label!', ...CACHE_FIELDS])
  if (f.has('until') && f.has('unused-for')) throw invalid('ERR_INVALID_FILTER', 'conflicting filters: "until" and "unused-for"')
  const out: BuildCachePruneFilters = {}
  const key = f.has('unused-for') ? 'unused-for' : 'until'
  const until = f.get(key)
  if (until.length > 1) throw invalid('ERR_INVALID_FILTER', 'filters expect only one value')
  if (until.length === 1) {
    try {
      out.until = parseTimestamp(until[0]!)
    } catch (err) {
      throw invalid('ERR_INVALID_FILTER', `"${key}" filter expects a duration (e.g., '24h') or a timestamp: ${(err as Error).message}`)
    }
  }
  for (const k of CACHE_FIELDS) {
    if (!f.has(k)) continue
    const v = f.get(k)
    if (v.length > 1) throw invalid('ERR_INVALID_FILTER', 'filters expect only one value')
    out[k] = v[0] ?? ''
  }
  return out
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
      // Docker's clients repeat the parameter (one host each); Berth's own join them with commas.
      extraHosts: q.getAll('extrahosts').flatMap((v) => v.split(',')).filter(Boolean),
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

  // BuildKit's session endpoint. dockerd's session manager checks the upgrade protocol before
  // anything else (400 for a request without h2c); the session itself needs BuildKit, which this
  // berthd does not have: the CLI (ping's Builder-Version 1) uses the classic builder instead.
  const session = (proto: string | undefined): never => {
    if (!proto) throw invalid('ERR_SESSION_PROTO', 'no upgrade proto in request')
    if (proto !== 'h2c') throw invalid('ERR_SESSION_PROTO', `protocol ${proto} not supported`)
    throw notImplemented('ERR_BUILDKIT_SESSION', 'BuildKit sessions are not supported by this berthd; use the classic builder (DOCKER_BUILDKIT=0)')
  }
  r.add('POST', '/session', (ctx) => { ctx.req.resume(); session(ctx.req.headers.upgrade) })
  // With `Connection: Upgrade` (as BuildKit's clients send it) the request arrives as an upgrade.
  r.hijack('POST', '/session', async (ctx) => { session(ctx.req.headers.upgrade) })

  // The classic builder's cache is the index of step → image; the intermediate images are
  // ordinary images (docker image prune removes them). The filters are dockerd's.
  r.add('POST', '/build/prune', async (ctx) => {
    const filters = parseCachePruneFilters(ctx.query.get('filters'))
    const out = await b.prune({ all: boolParam(ctx.query, 'all'), filters })
    return { CachesDeleted: out.deleted, SpaceReclaimed: out.spaceReclaimed }
  })
}

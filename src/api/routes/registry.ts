import type { RegistryAuth, RegistryBackend } from '../backend.js'
import { Filters } from '../../lib/filters.js'
import { defined } from '../filters.js'
import { invalid } from '../../lib/errors.js'
import { readJsonBody, startJsonStream, streamError, type Ctx } from '../http.js'
import type { Router } from '../router.js'

/** X-Registry-Auth: base64url JSON; an empty or `{}` header means anonymous. Errors as dockerd's. */
export function decodeRegistryAuthHeader(header: string | string[] | undefined): RegistryAuth | undefined {
  const h = Array.isArray(header) ? header[0] : header
  if (!h) return undefined
  try {
    const j = JSON.parse(Buffer.from(h.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as RegistryAuth
    if (!j || typeof j !== 'object') return undefined
    return j
  } catch {
    throw invalid('ERR_BAD_AUTH_HEADER', 'invalid X-Registry-Auth header: failed to decode credentials')
  }
}

const authOf = (ctx: Ctx) => decodeRegistryAuthHeader(ctx.req.headers['x-registry-auth'])

/**
 * Run a progress-streaming operation as dockerd does: the JSON stream starts with the first
 * message, so an error before it (no such manifest, access denied) is a plain HTTP error with
 * its status; an error after it is the stream's last message.
 */
async function streamed(ctx: Ctx, fn: (progress: (m: object) => void) => Promise<void>): Promise<void> {
  let write: ((o: unknown) => void) | undefined
  const progress = (m: object) => { (write ??= startJsonStream(ctx.res))(m) }
  try {
    await fn(progress)
  } catch (err) {
    if (!write) throw err
    write(streamError(err))
  }
}

/** `POST /images/create?fromImage=`: the pull half of the route (images.ts keeps `fromSrc`). */
export async function pullRoute(ctx: Ctx, b: RegistryBackend): Promise<void> {
  const q = ctx.query
  const platform = q.get('platform')
  const auth = authOf(ctx)
  await streamed(ctx, (progress) => b.pull({ image: q.get('fromImage') ?? '', tag: q.get('tag') ?? '', ...(platform ? { platform } : {}), ...(auth ? { auth } : {}), progress, signal: ctx.signal }))
}

/** `docker search`'s filters, checked with Docker's messages. */
export function parseSearchFilters(raw: string | null): { isOfficial?: boolean; isAutomated?: boolean; stars?: number[] } {
  const f = Filters.parse(raw).validate(['is-automated', 'is-official', 'stars'])
  const stars = f.opt('stars')?.map((s) => {
    const n = Number(s)
    if (!Number.isInteger(n)) throw invalid('ERR_BAD_FILTER', `invalid filter 'stars=${s}'`)
    return n
  })
  return defined({ stars, isOfficial: f.bool('is-official'), isAutomated: f.bool('is-automated') })
}

/** push, login, search, distribution inspect. */
export function registryRoutes(r: Router, b: RegistryBackend): void {
  r.add('POST', '/images/{name*}/push', async (ctx) => {
    if (ctx.query.get('platform')) throw invalid('ERR_PUSH_PLATFORM', 'pushing a single platform of a multi-platform image is not supported by this berthd')
    const auth = authOf(ctx)
    await streamed(ctx, (progress) => b.push({ name: ctx.params[0]!, tag: ctx.query.get('tag') ?? '', ...(auth ? { auth } : {}), progress, signal: ctx.signal }))
  })

  r.add('POST', '/auth', async (ctx) => {
    const body = (await readJsonBody<RegistryAuth>(ctx.req)) ?? {}
    const out = await b.login(body, ctx.signal)
    return { Status: out.status, IdentityToken: out.identityToken }
  })

  r.add('GET', '/images/search', async (ctx) => {
    const term = ctx.query.get('term') ?? ''
    if (!term) throw invalid('ERR_MISSING_PARAM', 'term is required')
    const limitStr = ctx.query.get('limit')
    const limit = limitStr ? Number(limitStr) : 25
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('ERR_SEARCH_LIMIT', `limit ${limitStr} is outside the range of [1, 100]`)
    const filters = parseSearchFilters(ctx.query.get('filters'))
    const auth = authOf(ctx)
    const results = await b.search(term, { limit, filters, ...(auth ? { auth } : {}), signal: ctx.signal })
    return results.map((x) => ({ star_count: x.starCount, is_official: x.isOfficial, name: x.name, is_automated: false, description: x.description }))
  })

  r.add('GET', '/distribution/{name*}/json', async (ctx) => {
    const auth = authOf(ctx)
    const out = await b.distributionInspect(ctx.params[0]!, { ...(auth ? { auth } : {}), signal: ctx.signal })
    return {
      Descriptor: { mediaType: out.descriptor.mediaType, digest: out.descriptor.digest, size: out.descriptor.size },
      Platforms: out.platforms.map((p) => ({ architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) })),
    }
  })
}

import type { Daemon } from '../../daemon/daemon.js'
import { Filters } from '../../engine/filters.js'
import { parsePlatform } from '../../engine/images/service.js'
import { pullImage } from '../../engine/images/pull.js'
import { pushImage } from '../../engine/images/push.js'
import { searchRegistry, distributionInspect } from '../../engine/images/search.js'
import { credentialsOf, decodeRegistryAuth, type AuthConfigWire } from '../../distribution/auth-header.js'
import { domainOfServerAddress, type RegistrySettings } from '../../distribution/hosts.js'
import { RegistryClient } from '../../distribution/registry-client.js'
import { parseNormalizedNamed, withTag, type Reference } from '../../distribution/reference.js'
import { invalid } from '../../lib/errors.js'
import { readJsonBody, startJsonStream, streamError, type Ctx } from '../http.js'
import type { Router } from '../router.js'

export function registrySettingsOf(d: Daemon): RegistrySettings {
  const c = d.config as Partial<Daemon['config']>
  return {
    insecureRegistries: c.insecureRegistries ?? [],
    mirrors: c.registryMirrors ?? [],
    maxConcurrentDownloads: c.maxConcurrentDownloads ?? 3,
    maxConcurrentUploads: c.maxConcurrentUploads ?? 5,
  }
}

function authOf(ctx: Ctx) {
  const h = ctx.req.headers['x-registry-auth']
  return credentialsOf(decodeRegistryAuth(Array.isArray(h) ? h[0] : h))
}

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
export async function pullRoute(ctx: Ctx, d: Daemon): Promise<void> {
  const q = ctx.query
  const fromImage = q.get('fromImage') ?? ''
  let ref: Reference = parseNormalizedNamed(fromImage)
  const tag = q.get('tag') ?? ''
  if (tag) {
    // The "tag" may be a digest (docker pull x@sha256:...).
    if (/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-f0-9]{32,}$/.test(tag)) ref = parseNormalizedNamed(`${ref.name}@${tag}`)
    else ref = withTag(ref, tag)
  }
  const allTags = ref.tag === undefined && ref.digest === undefined
  const platformStr = q.get('platform')
  const platform = platformStr ? parsePlatform(platformStr) : undefined
  const credentials = authOf(ctx)
  const settings = registrySettingsOf(d)
  await streamed(ctx, (progress) => pullImage(d.engine.images.deps, ref, { allTags, ...(platform ? { platform } : {}), ...(credentials ? { credentials } : {}), settings, progress, signal: ctx.signal }))
}

export function registryRoutes(r: Router, d: Daemon): void {
  r.add('POST', '/images/{name*}/push', async (ctx) => {
    const name = ctx.params[0]!
    const tag = ctx.query.get('tag') ?? ''
    const credentials = authOf(ctx)
    const platformStr = ctx.query.get('platform')
    if (platformStr) throw invalid('ERR_PUSH_PLATFORM', 'pushing a single platform of a multi-platform image is not supported by this berthd')
    await streamed(ctx, (progress) => pushImage(d.engine.images.deps, name, tag, { ...(credentials ? { credentials } : {}), settings: registrySettingsOf(d), progress, signal: ctx.signal }))
  })

  r.add('POST', '/auth', async (ctx) => {
    const body = (await readJsonBody<AuthConfigWire>(ctx.req)) ?? {}
    const domain = domainOfServerAddress(body.serveraddress ?? '')
    const credentials = credentialsOf(body)
    const client = new RegistryClient({ domain, settings: registrySettingsOf(d), ...(credentials ? { credentials } : {}), signal: ctx.signal })
    await client.checkLogin()
    return { Status: 'Login Succeeded', IdentityToken: '' }
  })

  r.add('GET', '/images/search', async (ctx) => {
    const term = ctx.query.get('term') ?? ''
    if (!term) throw invalid('ERR_MISSING_PARAM', 'term is required')
    const limitStr = ctx.query.get('limit')
    const limit = limitStr ? Number(limitStr) : 25
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('ERR_SEARCH_LIMIT', `limit ${limitStr} is outside the range of [1, 100]`)
    const filters = Filters.parse(ctx.query.get('filters'))
    const credentials = authOf(ctx)
    const results = await searchRegistry(term, { limit, filters, settings: registrySettingsOf(d), ...(credentials ? { credentials } : {}), signal: ctx.signal })
    return results.map((x) => ({ star_count: x.starCount, is_official: x.isOfficial, name: x.name, is_automated: false, description: x.description }))
  })

  r.add('GET', '/distribution/{name*}/json', async (ctx) => {
    const credentials = authOf(ctx)
    const out = await distributionInspect(ctx.params[0]!, { settings: registrySettingsOf(d), ...(credentials ? { credentials } : {}), signal: ctx.signal })
    return {
      Descriptor: { mediaType: out.descriptor.mediaType, digest: out.descriptor.digest, size: out.descriptor.size },
      Platforms: out.platforms.map((p) => ({ architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) })),
    }
  })
}

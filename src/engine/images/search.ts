import { EngineError, invalid } from '../../lib/errors.js'
import type { Filters } from '../../lib/filters.js'
import { DEFAULT_DOMAIN, familiarString, parseNormalizedNamed, tagNameOnly } from '../../distribution/reference.js'
import { RegistryClient, RegistryError, type RegistryCredentials } from '../../distribution/registry-client.js'
import type { RegistrySettings } from '../../distribution/hosts.js'
import { isIndex, parseImageManifest, parseIndex, type Platform } from '../../distribution/manifest.js'

export interface SearchResult { name: string; description: string; starCount: number; isOfficial: boolean }

interface SearchOptions { limit: number; filters: Filters; settings: RegistrySettings; credentials?: RegistryCredentials; signal?: AbortSignal }

/**
 * `docker search` against a registry. A term naming a registry (`127.0.0.1:5000/app`) lists that
 * registry's `/v2/_catalog` and keeps the repositories whose name contains the rest of the term
 * (an empty rest matches all); results are named `host/repo` so they can be pulled as listed.
 * Docker Hub's own search API is asked for plain terms.
 */
export async function searchRegistry(term: string, opts: SearchOptions): Promise<SearchResult[]> {
  opts.filters.validate(['is-automated', 'is-official', 'stars'])
  const stars = opts.filters.get('stars').map((s) => {
    const n = Number(s)
    if (!Number.isInteger(n)) throw invalid('ERR_BAD_FILTER', `invalid filter 'stars=${s}'`)
    return n
  })
  const official = opts.filters.bool('is-official')
  const automated = opts.filters.bool('is-automated')
  const slash = term.indexOf('/')
  const first = slash > -1 ? term.slice(0, slash) : ''
  const isRegistry = first.includes('.') || first.includes(':') || first === 'localhost'
  const domain = isRegistry ? first : DEFAULT_DOMAIN
  const query = isRegistry ? term.slice(slash + 1) : term
  const client = new RegistryClient({ domain, settings: opts.settings, ...(opts.credentials ? { credentials: opts.credentials } : {}), ...(opts.signal ? { signal: opts.signal } : {}) })
  let results: SearchResult[]
  try {
    if (domain === DEFAULT_DOMAIN) {
      const res = await client.request('GET', `https://index.docker.io/v1/search?q=${encodeURIComponent(query)}&n=${opts.limit}`, {})
      const chunks: Buffer[] = []
      for await (const c of res) chunks.push(c as Buffer)
      if (res.statusCode !== 200) throw new EngineError('Unavailable', 'ERR_SEARCH', `Unexpected status code ${res.statusCode}`)
      const j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { results?: Array<{ name: string; description?: string; star_count?: number; is_official?: boolean }> }
      results = (j.results ?? []).map((r) => ({ name: r.name, description: r.description ?? '', starCount: r.star_count ?? 0, isOfficial: !!r.is_official }))
    } else {
      const names = await client.catalog()
      results = names.filter((n) => n.includes(query)).map((n) => ({ name: `${domain}/${n}`, description: '', starCount: 0, isOfficial: false }))
    }
  } catch (err) {
    if (err instanceof RegistryError) throw new EngineError(err.status === 401 ? 'Unauthorized' : 'Unavailable', 'ERR_SEARCH', err.message, { cause: err })
    throw err
  }
  return results
    .filter((r) => (official === undefined || r.isOfficial === official) && (automated === undefined || automated === false) && stars.every((s) => r.starCount >= s))
    .slice(0, opts.limit)
}

/** `GET /distribution/{name}/json`: the manifest descriptor a name resolves to, and its platforms. */
export async function distributionInspect(name: string, opts: { settings: RegistrySettings; credentials?: RegistryCredentials; signal?: AbortSignal }): Promise<{ descriptor: { mediaType: string; digest: string; size: number }; platforms: Platform[] }> {
  const ref = tagNameOnly(parseNormalizedNamed(name))
  const client = new RegistryClient({ domain: ref.domain, settings: opts.settings, ...(opts.credentials ? { credentials: opts.credentials } : {}), ...(opts.signal ? { signal: opts.signal } : {}) })
  try {
    const m = await client.getManifest(ref.path, ref.digest ?? ref.tag!)
    const descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length }
    if (isIndex(m.mediaType)) {
      const idx = parseIndex(m.bytes, familiarString(ref))
      return { descriptor, platforms: idx.manifests.filter((d) => d.platform && d.platform.os !== 'unknown').map((d) => ({ os: d.platform!.os ?? '', architecture: d.platform!.architecture ?? '', ...(d.platform!.variant ? { variant: d.platform!.variant } : {}) })) }
    }
    const im = parseImageManifest(m.bytes, familiarString(ref))
    const chunks: Buffer[] = []
    for await (const c of client.readBlob(ref.path, im.config.digest, im.config.size)) chunks.push(c)
    const cfg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { os?: string; architecture?: string; variant?: string }
    return { descriptor, platforms: [{ os: cfg.os ?? '', architecture: cfg.architecture ?? '', ...(cfg.variant ? { variant: cfg.variant } : {}) }] }
  } catch (err) {
    if (err instanceof RegistryError) {
      if (err.has('MANIFEST_UNKNOWN') || err.has('NAME_UNKNOWN') || err.status === 404) throw new EngineError('NotFound', 'ERR_MANIFEST_UNKNOWN', `${err.message}`, { cause: err })
      if (err.status === 401 || err.status === 403) throw new EngineError('Unauthorized', 'ERR_UNAUTHORIZED', err.message, { cause: err })
      throw new EngineError('Unavailable', 'ERR_REGISTRY', err.message, { cause: err })
    }
    throw err
  }
}

import { createHash } from 'node:crypto'
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import https from 'node:https'
import { EngineError } from '../lib/errors.js'
import { isInsecure, registryHost, type RegistrySettings } from './hosts.js'

/** Credentials for one registry, as the X-Registry-Auth header and config.json carry them. */
export interface RegistryCredentials {
  username?: string
  password?: string
  /** A refresh token from a previous OAuth login (`identitytoken`). */
  identityToken?: string
  /** A bearer token to send as is (`registrytoken`). */
  registryToken?: string
}

/** One error of a registry's `{"errors": [...]}` body. */
export interface RegistryErrorItem { code: string; message: string; detail?: unknown }

/** A registry answered with an error status; `items` are its OCI error codes when it sent any. */
export class RegistryError extends Error {
  constructor(readonly status: number, readonly items: RegistryErrorItem[], message: string) {
    super(message)
    this.name = 'RegistryError'
  }
  has(code: string): boolean {
    return this.items.some((i) => i.code === code)
  }
}

/** A network failure worth retrying (connection reset or refused, timeout, 5xx, 429). */
export class TransientError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause })
    this.name = 'TransientError'
  }
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  platform?: { architecture?: string; os?: string; variant?: string; 'os.version'?: string }
  urls?: string[]
  annotations?: Record<string, string>
}

export interface Manifest {
  bytes: Buffer
  mediaType: string
  digest: string
}

export interface BlobProgress { (bytes: number): void }

const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ')

const MAX_MANIFEST = 4 << 20
const RETRIES = 3
const USER_AGENT = 'berth/0.1.0 (linux) docker/28.2.2'

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 })
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 })
const httpsInsecureAgent = new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false })

interface Challenge { scheme: 'basic' | 'bearer'; params: Record<string, string> }

/** Parse a WWW-Authenticate header: `Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined
  const m = /^\s*(\w+)\s*(.*)$/.exec(header)
  if (!m) return undefined
  const scheme = m[1]!.toLowerCase()
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined
  const params: Record<string, string> = {}
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!
  return { scheme, params }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason) }, { once: true })
  })
}

function isTransientNetError(err: unknown): boolean {
  const code = (err as { code?: string })?.code
  return ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code ?? '') || err instanceof TransientError
    || /socket hang up|aborted|premature close/i.test((err as Error)?.message ?? '')
}

async function readAll(res: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const c of res) {
    n += (c as Buffer).length
    if (n > limit) { res.destroy(); throw new EngineError('InvalidArgument', 'ERR_TOO_LARGE', `response body larger than ${limit} bytes`) }
    chunks.push(c as Buffer)
  }
  return Buffer.concat(chunks)
}

/** `MANIFEST_UNKNOWN` → `manifest unknown`, as distribution's errcode prints a code. */
function codeText(code: string): string {
  return code.toLowerCase().replace(/_/g, ' ')
}

async function errorFrom(res: IncomingMessage, method: string, url: string): Promise<RegistryError> {
  const status = res.statusCode ?? 0
  let body: Buffer = Buffer.alloc(0)
  try { body = method === 'HEAD' ? body : await readAll(res, 1 << 20) } catch { /* body unreadable: the status speaks */ }
  let items: RegistryErrorItem[] = []
  try {
    const j = JSON.parse(body.toString('utf8')) as { errors?: RegistryErrorItem[]; details?: string }
    if (Array.isArray(j.errors)) items = j.errors.filter((e) => e && typeof e.code === 'string')
  } catch { /* not JSON */ }
  if (items.length === 0 && status === 401) items = [{ code: 'UNAUTHORIZED', message: 'authentication required' }]
  if (items.length === 0 && method === 'HEAD' && status === 404) items = []
  const msg = items.length
    ? items.map((e) => `${codeText(e.code)}: ${e.message || codeText(e.code)}`).join('; ')
    : `unexpected status from ${method} request to ${url}: ${status} ${http.STATUS_CODES[status] ?? ''}`.trim()
  return new RegistryError(status, items, msg)
}

export interface ClientOptions {
  /** The reference's domain (`docker.io`, `127.0.0.1:5000`). */
  domain: string
  settings: Pick<RegistrySettings, 'insecureRegistries'>
  credentials?: RegistryCredentials
  /** A fixed endpoint (`http://mirror:5000/`) instead of the domain's own (registry mirrors). */
  endpoint?: string
  signal?: AbortSignal
}

/**
 * A client for one registry (OCI distribution spec). It pings `/v2/` once to learn the scheme
 * (HTTPS, or plain HTTP for loopback and insecure registries when HTTPS fails) and the auth
 * challenge, then answers challenges: basic with the credentials, bearer by fetching a token
 * for the request's scope from the realm (reused while valid). GETs and HEADs are retried with
 * backoff on transient failures; blob reads resume with a Range request.
 */
export class RegistryClient {
  readonly host: string
  readonly insecure: boolean
  #base?: string
  #challenge?: Challenge
  #pinged?: Promise<void>
  #tokens = new Map<string, { token: string; expires: number }>()
  readonly #fixedScheme?: string
  readonly #creds?: RegistryCredentials
  readonly #signal?: AbortSignal

  constructor(readonly opts: ClientOptions) {
    const endpoint = opts.endpoint ? new URL(opts.endpoint) : undefined
    this.host = endpoint ? endpoint.host : registryHost(opts.domain)
    this.insecure = isInsecure(this.host, opts.settings)
    this.#fixedScheme = endpoint?.protocol.slice(0, -1)
    this.#creds = opts.credentials
    this.#signal = opts.signal
  }

  get baseUrl(): string {
    return this.#base ?? `https://${this.host}`
  }

  // ---- low level

  #agent(url: URL) {
    return url.protocol === 'http:' ? httpAgent : this.insecure ? httpsInsecureAgent : httpsAgent
  }

  /** One HTTP exchange, following redirects (dropping credentials when the host changes). */
  async #send(method: string, url: string, headers: OutgoingHttpHeaders, body?: Buffer | AsyncIterable<Buffer>): Promise<IncomingMessage> {
    let u = new URL(url)
    const origin = u.host
    for (let hop = 0; hop < 10; hop++) {
      const h = { 'User-Agent': USER_AGENT, ...headers }
      if (u.host !== origin) delete (h as Record<string, unknown>).Authorization
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const mod = u.protocol === 'http:' ? http : https
        const req = mod.request(u, { method, headers: h, agent: this.#agent(u), signal: this.#signal, timeout: 60_000 }, resolve)
        req.on('timeout', () => req.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })))
        req.on('error', reject)
        if (body === undefined) req.end()
        else if (Buffer.isBuffer(body)) req.end(body)
        else {
          void (async () => {
            try {
              for await (const c of body) if (!req.write(c)) await new Promise((r) => req.once('drain', r))
              req.end()
            } catch (err) { req.destroy(err as Error) }
          })()
        }
      })
      const status = res.statusCode ?? 0
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location && (method === 'GET' || method === 'HEAD')) {
        res.resume()
        u = new URL(res.headers.location, u)
        continue
      }
      return res
    }
    throw new EngineError('Unavailable', 'ERR_REGISTRY_REDIRECTS', `${method} ${url}: stopped after 10 redirects`)
  }

  /** Ping `/v2/`: pick the scheme and remember the auth challenge. */
  ping(): Promise<void> {
    this.#pinged ??= this.#ping().catch((err) => { this.#pinged = undefined; throw err })
    return this.#pinged
  }

  async #ping(): Promise<void> {
    const schemes = this.#fixedScheme ? [this.#fixedScheme] : this.insecure ? ['https', 'http'] : ['https']
    let lastErr: unknown
    for (const scheme of schemes) {
      const base = `${scheme}://${this.host}`
      for (let attempt = 0; attempt <= RETRIES; attempt++) {
        try {
          const res = await this.#send('GET', `${base}/v2/`, {})
          res.resume()
          const status = res.statusCode ?? 0
          if (status >= 500 && attempt < RETRIES) { await sleep(200 * 2 ** attempt, this.#signal); continue }
          this.#base = base
          this.#challenge = status === 401 ? parseChallenge(String(res.headers['www-authenticate'] ?? '')) : undefined
          return
        } catch (err) {
          this.#signal?.throwIfAborted()
          lastErr = err
          const code = (err as { code?: string }).code ?? ''
          // A TLS failure against a plain-HTTP server: try the next scheme at once.
          if (/^ERR_SSL|EPROTO/.test(code) || /wrong version number|SSL routines/i.test((err as Error).message)) break
          if (attempt < RETRIES && isTransientNetError(err)) { await sleep(200 * 2 ** attempt, this.#signal); continue }
          break
        }
      }
    }
    const msg = (lastErr as Error)?.message ?? String(lastErr)
    throw new EngineError('Unavailable', 'ERR_REGISTRY_UNREACHABLE', `Get "${this.#fixedScheme ?? 'https'}://${this.host}/v2/": ${msg}`, { cause: lastErr })
  }

  /** The Authorization header for a request with this scope, fetching a token when needed. */
  async #authHeader(scope: string | undefined, challenge = this.#challenge, fresh = false): Promise<string | undefined> {
    const c = this.#creds
    if (!challenge) return c?.registryToken ? `Bearer ${c.registryToken}` : undefined
    if (challenge.scheme === 'basic') {
      if (!c?.username) return undefined
      return `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`
    }
    if (c?.registryToken) return `Bearer ${c.registryToken}`
    const key = `${challenge.params.realm}|${challenge.params.service}|${scope ?? ''}`
    const cached = this.#tokens.get(key)
    if (cached && !fresh && cached.expires > Date.now()) return `Bearer ${cached.token}`
    const token = await this.#fetchToken(challenge, scope)
    this.#tokens.set(key, token)
    return `Bearer ${token.token}`
  }

  async #fetchToken(challenge: Challenge, scope: string | undefined): Promise<{ token: string; expires: number }> {
    const realm = challenge.params.realm
    if (!realm) throw new EngineError('Unauthorized', 'ERR_REGISTRY_AUTH', 'bearer auth challenge without realm')
    const c = this.#creds
    const u = new URL(realm)
    let res: IncomingMessage
    if (c?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: 'docker', ...(challenge.params.service ? { service: challenge.params.service } : {}), ...(scope ? { scope } : {}) })
      res = await this.#send('POST', u.toString(), { 'Content-Type': 'application/x-www-form-urlencoded' }, Buffer.from(form.toString()))
    } else {
      if (challenge.params.service) u.searchParams.set('service', challenge.params.service)
      if (scope) for (const s of scope.split(' ')) u.searchParams.append('scope', s)
      if (c?.username) u.searchParams.set('account', c.username)
      const headers: OutgoingHttpHeaders = c?.username ? { Authorization: `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}` } : {}
      res = await this.#send('GET', u.toString(), headers)
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      res.resume()
      throw new RegistryError(401, [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }], 'unauthorized: incorrect username or password')
    }
    if (res.statusCode !== 200) throw await errorFrom(res, 'GET', realm)
    const j = JSON.parse((await readAll(res, 1 << 20)).toString('utf8')) as { token?: string; access_token?: string; expires_in?: number }
    const token = j.token || j.access_token
    if (!token) throw new EngineError('Unauthorized', 'ERR_REGISTRY_AUTH', 'authorization server did not include a token in the response')
    return { token, expires: Date.now() + Math.max(60, (j.expires_in ?? 60) - 10) * 1000 }
  }

  /**
   * An authorised request to the registry. A 401 with a new challenge (scope) is answered once.
   * Idempotent requests are retried on transient failures; `body` is a factory so a retry can
   * send it again.
   */
  async request(method: string, path: string, opts: { scope?: string; headers?: OutgoingHttpHeaders; body?: () => Buffer | AsyncIterable<Buffer>; retry?: boolean } = {}): Promise<IncomingMessage> {
    await this.ping()
    const url = path.startsWith('http') ? path : `${this.#base}${path}`
    const retry = opts.retry ?? (method === 'GET' || method === 'HEAD')
    let challenge = this.#challenge
    let fresh = false
    for (let attempt = 0; ; attempt++) {
      try {
        const auth = await this.#authHeader(opts.scope, challenge, fresh)
        const res = await this.#send(method, url, { ...opts.headers, ...(auth ? { Authorization: auth } : {}) }, opts.body?.())
        const status = res.statusCode ?? 0
        if (status === 401 && !fresh) {
          const c = parseChallenge(String(res.headers['www-authenticate'] ?? ''))
          if (c && (c.scheme === 'bearer' || (!auth && this.#creds?.username))) {
            res.resume()
            challenge = c
            fresh = true
            continue
          }
        }
        if ((status >= 500 || status === 429) && retry && attempt < RETRIES) {
          res.resume()
          await sleep(200 * 2 ** attempt, this.#signal)
          continue
        }
        return res
      } catch (err) {
        this.#signal?.throwIfAborted()
        if (retry && attempt < RETRIES && isTransientNetError(err)) {
          await sleep(200 * 2 ** attempt, this.#signal)
          continue
        }
        throw err
      }
    }
  }

  /** Verify the credentials against `/v2/` (what `docker login` does). */
  async checkLogin(): Promise<void> {
    await this.ping()
    const endpoint = `${this.#base}/v2/`
    try {
      const res = await this.request('GET', '/v2/')
      res.resume()
      if (res.statusCode === 200) return
      if (res.statusCode === 401) throw new RegistryError(401, [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }], 'unauthorized: incorrect username or password')
      throw await errorFrom(res, 'GET', endpoint)
    } catch (err) {
      if (err instanceof RegistryError) throw new EngineError(err.status === 401 ? 'Unauthorized' : 'Unavailable', 'ERR_LOGIN', `Get "${endpoint}": ${err.message}`, { cause: err })
      throw err
    }
  }

  // ---- manifests

  /** HEAD a manifest: its digest, media type and size, or undefined when the registry does not say. */
  async headManifest(repo: string, ref: string, scope = `repository:${repo}:pull`): Promise<{ digest: string; mediaType: string; size: number } | undefined> {
    const res = await this.request('HEAD', `/v2/${repo}/manifests/${ref}`, { scope, headers: { Accept: MANIFEST_ACCEPT } })
    res.resume()
    // A HEAD error has no body to tell why: the GET that follows reports it.
    if (res.statusCode !== 200) return undefined
    const digest = String(res.headers['docker-content-digest'] ?? '')
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) return undefined
    return { digest, mediaType: String(res.headers['content-type'] ?? ''), size: Number(res.headers['content-length'] ?? 0) }
  }

  /** GET a manifest; when asked by digest its bytes are verified. */
  async getManifest(repo: string, ref: string, scope = `repository:${repo}:pull`): Promise<Manifest> {
    const res = await this.request('GET', `/v2/${repo}/manifests/${ref}`, { scope, headers: { Accept: MANIFEST_ACCEPT } })
    if (res.statusCode !== 200) throw await errorFrom(res, 'GET', '')
    const bytes = await readAll(res, MAX_MANIFEST)
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    if (ref.startsWith('sha256:') && ref !== digest) throw new EngineError('InvalidArgument', 'ERR_DIGEST_MISMATCH', `manifest verification failed for digest ${ref}`)
    let mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim()
    try {
      const j = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; schemaVersion?: number }
      if (j.mediaType) mediaType = j.mediaType
      else if (Array.isArray(j.manifests)) mediaType = 'application/vnd.oci.image.index.v1+json'
      else if (!mediaType || mediaType === 'application/json') mediaType = 'application/vnd.oci.image.manifest.v1+json'
      if (j.schemaVersion === 1) throw new EngineError('InvalidArgument', 'ERR_SCHEMA1', 'support for the Docker Image Manifest Version 2, Schema 1 has been removed')
    } catch (err) {
      if (err instanceof EngineError) throw err
      throw new EngineError('InvalidArgument', 'ERR_BAD_MANIFEST', `invalid manifest for ${repo}:${ref}: not JSON`)
    }
    return { bytes, mediaType, digest }
  }

  async putManifest(repo: string, tag: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.request('PUT', `/v2/${repo}/manifests/${tag}`, { scope: `repository:${repo}:pull,push`, headers: { 'Content-Type': mediaType, 'Content-Length': bytes.length }, body: () => bytes, retry: true })
    if (res.statusCode !== 201 && res.statusCode !== 200 && res.statusCode !== 202) throw await errorFrom(res, 'PUT', '')
    res.resume()
    return String(res.headers['docker-content-digest'] ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`)
  }

  // ---- blobs

  /**
   * Stream a blob. Bytes are hashed as they come and the digest checked at the end (the caller
   * must still treat what it got as unverified until the iterator returns). A connection that
   * drops midway is resumed with `Range` (up to 3 times, with backoff).
   */
  async *readBlob(repo: string, digest: string, size: number | undefined, scope = `repository:${repo}:pull`): AsyncGenerator<Buffer> {
    const hash = createHash('sha256')
    let got = 0
    let failures = 0
    while (true) {
      let res: IncomingMessage
      try {
        res = await this.request('GET', `/v2/${repo}/blobs/${digest}`, { scope, headers: got > 0 ? { Range: `bytes=${got}-` } : {} })
      } catch (err) {
        if (isTransientNetError(err) && failures++ < RETRIES) { await sleep(200 * 2 ** failures, this.#signal); continue }
        throw err
      }
      const status = res.statusCode ?? 0
      if (status !== 200 && status !== 206) throw await errorFrom(res, 'GET', '')
      let skip = status === 200 ? got : 0
      try {
        for await (const raw of res) {
          let c = raw as Buffer
          if (skip > 0) {
            if (c.length <= skip) { skip -= c.length; continue }
            c = c.subarray(skip)
            skip = 0
          }
          got += c.length
          if (size !== undefined && got > size) throw new EngineError('InvalidArgument', 'ERR_BLOB_TOO_LARGE', `blob ${digest} is larger than its descriptor says (${size} bytes)`)
          hash.update(c)
          yield c
        }
        if (res.readableAborted || (res as { aborted?: boolean }).aborted || !res.complete) throw new TransientError('unexpected EOF')
        if (size !== undefined && got < size) throw new TransientError('unexpected EOF')
        break
      } catch (err) {
        if (err instanceof EngineError) throw err
        this.#signal?.throwIfAborted()
        if (isTransientNetError(err) && failures++ < RETRIES) { await sleep(200 * 2 ** failures, this.#signal); continue }
        throw new EngineError('Unavailable', 'ERR_BLOB_READ', `failed to download ${digest}: ${(err as Error).message || 'unexpected EOF'}`, { cause: err })
      }
    }
    const actual = `sha256:${hash.digest('hex')}`
    if (actual !== digest) throw new EngineError('InvalidArgument', 'ERR_DIGEST_MISMATCH', `filesystem layer verification failed for digest ${digest}`)
  }

  /** Size of a blob in the repository, or undefined when absent. */
  async blobSize(repo: string, digest: string, scope = `repository:${repo}:pull,push`): Promise<number | undefined> {
    const res = await this.request('HEAD', `/v2/${repo}/blobs/${digest}`, { scope })
    res.resume()
    if (res.statusCode === 200) return Number(res.headers['content-length'] ?? 0)
    if (res.statusCode === 404) return undefined
    throw await errorFrom(res, 'HEAD', '')
  }

  /** Cross-repository mount; true when the registry mounted it (201), false when it wants an upload. */
  async mountBlob(repo: string, digest: string, from: string): Promise<boolean> {
    const res = await this.request('POST', `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, { scope: `repository:${repo}:pull,push repository:${from}:pull`, headers: { 'Content-Length': 0 }, retry: true })
    res.resume()
    if (res.statusCode === 201) return true
    if (res.statusCode === 202) {
      // An upload session was opened instead: cancel it.
      const loc = res.headers.location
      if (loc) { try { (await this.request('DELETE', new URL(loc, this.baseUrl).toString(), { scope: `repository:${repo}:pull,push` })).resume() } catch { /* best effort */ } }
      return false
    }
    if (res.statusCode === 401 || res.statusCode === 403) throw await errorFrom(res, 'POST', '')
    return false
  }

  /** Monolithic upload: POST to open a session, then PUT the bytes with `?digest=`. */
  async uploadBlob(repo: string, digest: string, size: number, body: () => AsyncIterable<Buffer>): Promise<void> {
    const scope = `repository:${repo}:pull,push`
    for (let attempt = 0; ; attempt++) {
      try {
        const start = await this.request('POST', `/v2/${repo}/blobs/uploads/`, { scope, headers: { 'Content-Length': 0 }, retry: true })
        start.resume()
        if (start.statusCode !== 202) throw await errorFrom(start, 'POST', '')
        const loc = start.headers.location
        if (!loc) throw new EngineError('Internal', 'ERR_UPLOAD', 'registry did not return an upload location')
        const u = new URL(loc, this.baseUrl)
        u.searchParams.set('digest', digest)
        const res = await this.request('PUT', u.toString(), { scope, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': size }, body, retry: false })
        if (res.statusCode !== 201) {
          const err = await errorFrom(res, 'PUT', '')
          if ((res.statusCode ?? 0) >= 500 && attempt < RETRIES) { await sleep(200 * 2 ** attempt, this.#signal); continue }
          throw err
        }
        res.resume()
        return
      } catch (err) {
        this.#signal?.throwIfAborted()
        if (!(err instanceof RegistryError) && !(err instanceof EngineError) && isTransientNetError(err) && attempt < RETRIES) { await sleep(200 * 2 ** attempt, this.#signal); continue }
        throw err
      }
    }
  }

  /** `/v2/<repo>/tags/list`, following `Link` pages. */
  async tags(repo: string): Promise<string[]> {
    const out: string[] = []
    let path: string | undefined = `/v2/${repo}/tags/list`
    while (path) {
      const res = await this.request('GET', path, { scope: `repository:${repo}:pull` })
      if (res.statusCode !== 200) throw await errorFrom(res, 'GET', '')
      const j = JSON.parse((await readAll(res, 16 << 20)).toString('utf8')) as { tags?: string[] | null }
      out.push(...(j.tags ?? []))
      const m = /<([^>]+)>;\s*rel="?next"?/.exec(String(res.headers.link ?? ''))
      path = m ? m[1] : undefined
    }
    return out
  }

  /** `/v2/_catalog`, following `Link` pages up to `max` names. */
  async catalog(max = 10_000): Promise<string[]> {
    const out: string[] = []
    let path: string | undefined = '/v2/_catalog?n=1000'
    while (path && out.length < max) {
      const res = await this.request('GET', path, { scope: 'registry:catalog:*' })
      if (res.statusCode !== 200) throw await errorFrom(res, 'GET', '')
      const j = JSON.parse((await readAll(res, 16 << 20)).toString('utf8')) as { repositories?: string[] }
      out.push(...(j.repositories ?? []))
      const link = String(res.headers.link ?? '')
      const m = /<([^>]+)>;\s*rel="?next"?/.exec(link)
      path = m ? m[1] : undefined
    }
    return out.slice(0, max)
  }
}

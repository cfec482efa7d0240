import type { IncomingMessage, ServerResponse } from 'node:http'
import { TLSSocket } from 'node:tls'
import { findEngineError } from '../lib/errors.js'
import type { Accounts, Action } from './accounts.js'
import { RegistryError, regErr, STATUS, type RegistryCode } from './errors.js'
import { MAX_MANIFEST, MT } from './manifest.js'
import { algorithmOf, checkDigest, checkName, isName, parseReference } from './names.js'
import type { Storage } from './storage.js'
import { parseScope, type Access, type TokenService } from './token.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  level: LogLevel
  write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void
}

/** A JSON-lines logger to a stream (stderr by default). */
export function streamLogger(level: LogLevel, out: NodeJS.WritableStream = process.stderr): Logger {
  return {
    level,
    write(l, msg, fields) {
      if (LEVELS[l] < LEVELS[level]) return
      out.write(`${JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...fields })}\n`)
    },
  }
}

export interface HandlerOptions {
  storage: Storage
  accounts: Accounts
  tokens: TokenService
  /** The token endpoint's URL; by default this server's /token as the client reached it. */
  realm?: string
  log: Logger
}

interface Identity {
  user?: string
  kind: 'anonymous' | 'basic' | 'bearer'
  access?: Access[]
  /** Credentials were sent and are wrong (or the token is expired, or not ours). */
  bad?: boolean
}

interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  /** The raw path (no dot-segment resolution: `..` in a name must be refused, not resolved) and the query. */
  url: { pathname: string; searchParams: URLSearchParams }
  id: Identity
  repository?: string
  action?: string
  bytesIn: number
  bytesOut: number
}

const API_VERSION = 'registry/2.0'
const UPLOAD_PATH = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/
const BLOB_PATH = /^\/v2\/(.+)\/blobs\/([^/]+)$/
const MANIFEST_PATH = /^\/v2\/(.+)\/manifests\/([^/]+)$/
const TAGS_PATH = /^\/v2\/(.+)\/tags\/list$/
const REFERRERS_PATH = /^\/v2\/(.+)\/referrers\/([^/]+)$/

/** The HTTP handler of the registry: the distribution API under /v2/, the token server at /token, /health. */
export function createHandler(o: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = process.hrtime.bigint()
    const raw = req.url ?? '/'
    const qi = raw.indexOf('?')
    const url = { pathname: qi < 0 ? raw : raw.slice(0, qi), searchParams: new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1)) }
    const ctx: Ctx = { req, res, url, id: { kind: 'anonymous' }, bytesIn: 0, bytesOut: 0 }
    res.on('finish', () => {
      if (LEVELS[o.log.level] > LEVELS.info) return
      o.log.write('info', 'request', {
        remote: req.socket.remoteAddress, user: ctx.id.user ?? '', method: req.method, path: ctx.url.pathname,
        repository: ctx.repository ?? '', action: ctx.action ?? '', status: res.statusCode,
        bytesIn: ctx.bytesIn, bytesOut: ctx.bytesOut, durationMs: Number(process.hrtime.bigint() - started) / 1e6,
      })
    })
    route(o, ctx).catch((err: unknown) => sendError(o, ctx, err))
  }
}

async function route(o: HandlerOptions, c: Ctx): Promise<void> {
  const { req, url } = c
  const path = url.pathname
  const method = req.method ?? 'GET'
  if (path === '/health' || path === '/healthz') return json(c, 200, { status: 'ok' })
  if (path === '/token') {
    if (method === 'POST') return oauthToken(o, c)
    if (method !== 'GET') throw regErr('UNSUPPORTED')
    return token(o, c)
  }
  if (!path.startsWith('/v2')) return json(c, 404, { errors: [{ code: 'NOT_FOUND', message: 'page not found' }] })
  c.res.setHeader('Docker-Distribution-API-Version', API_VERSION)
  c.id = await identify(o, req)
  if (path === '/v2' || path === '/v2/') {
    if (method !== 'GET' && method !== 'HEAD') throw regErr('UNSUPPORTED')
    if (c.id.bad || c.id.kind === 'anonymous') return challenge(o, c, undefined, c.id.bad ? 'invalid_token' : undefined)
    return json(c, 200, {})
  }
  if (path === '/v2/_catalog') return catalog(o, c)
  let m: RegExpMatchArray | null
  if ((m = path.match(UPLOAD_PATH))) return uploads(o, c, method, decodeName(m[1]!), m[2]!)
  if ((m = path.match(BLOB_PATH))) return blobs(o, c, method, decodeName(m[1]!), m[2]!)
  if ((m = path.match(MANIFEST_PATH))) return manifests(o, c, method, decodeName(m[1]!), decodeURIComponent(m[2]!))
  if ((m = path.match(TAGS_PATH))) return tags(o, c, method, decodeName(m[1]!))
  if ((m = path.match(REFERRERS_PATH))) return referrers(o, c, method, decodeName(m[1]!), decodeURIComponent(m[2]!))
  return json(c, 404, { errors: [{ code: 'NOT_FOUND', message: 'page not found' }] })
}

function decodeName(s: string): string {
  let name: string
  try {
    name = decodeURIComponent(s)
  } catch {
    throw regErr('NAME_INVALID')
  }
  return checkName(name)
}

// ---- auth ----

async function identify(o: HandlerOptions, req: IncomingMessage): Promise<Identity> {
  const h = req.headers.authorization
  if (!h) return { kind: 'anonymous' }
  const sp = h.indexOf(' ')
  const scheme = h.slice(0, sp).toLowerCase()
  const cred = h.slice(sp + 1).trim()
  if (scheme === 'bearer') {
    const claims = await o.tokens.verify(cred)
    if (!claims) return { kind: 'bearer', bad: true }
    return { kind: 'bearer', access: claims.access, ...(claims.sub ? { user: claims.sub } : {}) }
  }
  if (scheme === 'basic') {
    const dec = Buffer.from(cred, 'base64').toString('utf8')
    const i = dec.indexOf(':')
    const user = i < 0 ? dec : dec.slice(0, i)
    const ok = i >= 0 ? await o.accounts.authenticate(user, dec.slice(i + 1)) : undefined
    return ok ? { kind: 'basic', user: ok } : { kind: 'basic', bad: true }
  }
  return { kind: 'anonymous', bad: true }
}

function realmOf(o: HandlerOptions, req: IncomingMessage): string {
  if (o.realm) return o.realm
  const proto = req.socket instanceof TLSSocket ? 'https' : 'http'
  return `${proto}://${req.headers.host ?? 'localhost'}/token`
}

function challenge(o: HandlerOptions, c: Ctx, scope: string | undefined, error?: string): void {
  let v = `Bearer realm="${realmOf(o, c.req)}",service="${o.tokens.service}"`
  if (scope) v += `,scope="${scope}"`
  if (error) v += `,error="${error}"`
  c.res.setHeader('WWW-Authenticate', v)
  const detail = scope ? [parseScope(scope)].filter(Boolean).map((a) => ({ Type: a!.type, Class: '', Name: a!.name, Action: a!.actions.join(',') })) : undefined
  sendCode(c, 'UNAUTHORIZED', undefined, detail)
}

/** Allow the request, or answer it (401 with a challenge, 403 DENIED) and return false. */
async function authorize(o: HandlerOptions, c: Ctx, name: string, action: Action): Promise<boolean> {
  const allowed = await allow(o, c, name, action)
  // A refused request's body is read and thrown away (never stored), so the connection stays usable.
  if (!allowed) c.req.resume()
  return allowed
}

async function allow(o: HandlerOptions, c: Ctx, name: string, action: Action): Promise<boolean> {
  c.repository = name
  c.action = action
  await o.accounts.refresh()
  const scope = `repository:${name}:${action === 'pull' ? 'pull' : action === 'push' ? 'pull,push' : 'delete'}`
  if (c.id.bad) {
    challenge(o, c, scope, c.id.kind === 'bearer' ? 'invalid_token' : undefined)
    return false
  }
  const held = o.accounts.actions(c.id.user, name)
  if (held.has(action)) {
    if (c.id.kind !== 'bearer') return true
    if (c.id.access!.some((a) => a.type === 'repository' && a.name === name && (a.actions.includes(action) || a.actions.includes('*')))) return true
    challenge(o, c, scope, 'insufficient_scope')
    return false
  }
  if (c.id.user !== undefined) {
    // A HEAD has no body to carry DENIED, and clients probing for a blob before a push read any
    // answer but 404 as a failure: what the user may not read does not exist for them.
    if (c.req.method === 'HEAD' && action === 'pull') {
      empty(c, 404)
      return false
    }
    sendCode(c, 'DENIED', undefined, { repository: name, action })
    return false
  }
  challenge(o, c, scope, c.id.kind === 'bearer' ? 'insufficient_scope' : undefined)
  return false
}

async function token(o: HandlerOptions, c: Ctx): Promise<void> {
  const { url, req } = c
  const service = url.searchParams.get('service')
  if (service && service !== o.tokens.service) return json(c, 400, { errors: [{ code: 'DENIED', message: `unknown service ${JSON.stringify(service)}` }] })
  let user: string | undefined
  const h = req.headers.authorization
  if (h) {
    const id = await identify(o, req)
    if (id.bad || id.kind !== 'basic') {
      c.res.setHeader('WWW-Authenticate', `Basic realm="${o.tokens.service}"`)
      return json(c, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required: incorrect username or password' }] })
    }
    user = id.user
  }
  c.id = user ? { kind: 'basic', user } : { kind: 'anonymous' }
  await o.accounts.refresh()
  const grants = grantsFor(o, user, url.searchParams.getAll('scope'))
  const t = await o.tokens.issue(user, grants)
  // An offline grant (docker login asks one) also gets a refresh token: docker's identity token.
  const stamp = user && url.searchParams.get('offline_token') === 'true' ? o.accounts.credentialStamp(user) : undefined
  return json(c, 200, { token: t.token, access_token: t.token, expires_in: t.expiresIn, issued_at: t.issuedAt, ...(user && stamp ? { refresh_token: await o.tokens.issueRefresh(user, stamp) } : {}) })
}

/**
 * POST /token, the OAuth2 form of the token endpoint (distribution's token spec): grant_type
 * `password` (username, password; `access_type=offline` adds a refresh token) or `refresh_token`
 * (a refresh token of ours, still matching the user's credentials). Answers an access token for
 * the granted part of `scope`; bad credentials or a stale refresh token are 401 `invalid_grant`.
 */
async function oauthToken(o: HandlerOptions, c: Ctx): Promise<void> {
  const type = String(c.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  const body = await readBody(c, 64 * 1024)
  if (type !== 'application/x-www-form-urlencoded') return json(c, 400, { error: 'invalid_request', error_description: 'the body must be application/x-www-form-urlencoded' })
  const form = new URLSearchParams(body.toString('utf8'))
  const service = form.get('service')
  if (service && service !== o.tokens.service) return json(c, 400, { error: 'invalid_request', error_description: `unknown service ${JSON.stringify(service)}` })
  if (!form.get('client_id')) return json(c, 400, { error: 'invalid_request', error_description: 'missing client_id' })
  await o.accounts.refresh()
  const grant = form.get('grant_type')
  let user: string | undefined
  let refresh: string | undefined
  if (grant === 'password') {
    user = await o.accounts.authenticate(form.get('username') ?? '', form.get('password') ?? '')
    if (!user) return json(c, 401, { error: 'invalid_grant', error_description: 'incorrect username or password' })
    const stamp = form.get('access_type') === 'offline' ? o.accounts.credentialStamp(user) : undefined
    if (stamp) refresh = await o.tokens.issueRefresh(user, stamp)
  } else if (grant === 'refresh_token') {
    const given = form.get('refresh_token') ?? ''
    const r = await o.tokens.verifyRefresh(given)
    if (!r || o.accounts.credentialStamp(r.sub) !== r.stamp) return json(c, 401, { error: 'invalid_grant', error_description: 'invalid or expired refresh token' })
    user = r.sub
    refresh = given
  } else {
    return json(c, 400, { error: 'unsupported_grant_type', error_description: `unsupported grant type ${JSON.stringify(grant ?? '')}` })
  }
  c.id = { kind: 'basic', user }
  const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean)
  const grants = grantsFor(o, user, scopes)
  const t = await o.tokens.issue(user, grants)
  return json(c, 200, {
    access_token: t.token, token: t.token, expires_in: t.expiresIn, issued_at: t.issuedAt,
    scope: grants.map((g) => `${g.type}:${g.name}:${g.actions.join(',')}`).join(' '),
    ...(refresh ? { refresh_token: refresh } : {}),
  })
}

/** What `user` (undefined: anonymous) is granted of the requested scopes. */
function grantsFor(o: HandlerOptions, user: string | undefined, scopes: string[]): Access[] {
  const grants: Access[] = []
  for (const s of scopes.flatMap((v) => v.split(' '))) {
    const a = parseScope(s)
    if (!a) continue
    if (a.type === 'repository') {
      if (!isName(a.name)) continue
      const held = o.accounts.actions(user, a.name)
      const actions = [...new Set(a.actions.flatMap((x) => (x === '*' ? [...held] : held.has(x as Action) ? [x] : [])))]
      grants.push({ type: 'repository', name: a.name, actions })
    } else if (a.type === 'registry' && a.name === 'catalog') {
      // Everyone may list the catalog; it shows only what the caller may pull.
      grants.push({ type: 'registry', name: 'catalog', actions: a.actions.filter((x) => x === '*') })
    }
  }
  return grants
}

// ---- responses ----

function json(c: Ctx, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const data = Buffer.from(JSON.stringify(body))
  c.res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': data.length, ...headers })
  c.bytesOut += c.req.method === 'HEAD' ? 0 : data.length
  c.res.end(c.req.method === 'HEAD' ? undefined : data)
}

function empty(c: Ctx, status: number, headers: Record<string, string | number | string[]> = {}): void {
  c.res.writeHead(status, { 'Content-Length': 0, ...headers })
  c.res.end()
}

function sendCode(c: Ctx, code: RegistryCode, message?: string, detail?: unknown, status?: number): void {
  const e = regErr(code, message, detail, status)
  json(c, status ?? STATUS[code], { errors: [{ code, message: e.message, detail: detail ?? {} }] })
}

function sendError(o: HandlerOptions, c: Ctx, err: unknown): void {
  // Whatever is left of the request body is thrown away, so the connection stays usable.
  if (!c.req.complete) c.req.resume()
  if (c.res.headersSent) {
    c.res.destroy()
    return
  }
  if (err instanceof RegistryError) {
    const code = err.code as RegistryCode
    if (code === 'RANGE_INVALID' && (err.detail as { size?: number })?.size !== undefined) {
      const size = (err.detail as { size: number }).size
      c.res.setHeader('Range', `0-${Math.max(0, size - 1)}`)
    }
    return sendCode(c, code, err.message, err.detail, err.status)
  }
  const e = findEngineError(err)
  if ((err as Error)?.message === 'request aborted' || (err as { code?: string })?.code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as { code?: string })?.code === 'ECONNRESET') {
    c.res.destroy()
    return
  }
  o.log.write('error', 'request failed', { error: String((err as Error)?.stack ?? err), code: e?.code })
  json(c, 500, { errors: [{ code: 'UNKNOWN', message: 'unknown error', detail: {} }] })
}

async function readBody(c: Ctx, limit: number): Promise<Buffer> {
  const declared = Number(c.req.headers['content-length'] ?? NaN)
  if (declared > limit) throw regErr('MANIFEST_INVALID', 'manifest too big', { size: declared, limit }, 413)
  const chunks: Buffer[] = []
  let n = 0
  for await (const chunk of c.req) {
    n += (chunk as Buffer).length
    if (n > limit) throw regErr('MANIFEST_INVALID', 'manifest too big', { limit }, 413)
    chunks.push(chunk as Buffer)
  }
  if (!c.req.complete) throw new Error('request aborted')
  c.bytesIn += n
  return Buffer.concat(chunks)
}

/** Counts request body bytes for the access log, as storage consumes them. */
const counter = (c: Ctx) => (n: number) => (c.bytesIn += n)

function pageParams(c: Ctx, def: number | undefined): { n: number | undefined; last: string | undefined } {
  const ns = c.url.searchParams.get('n')
  let n = def
  if (ns !== null && ns !== '') {
    if (!/^\d+$/.test(ns)) throw regErr('PAGINATION_NUMBER_INVALID', undefined, { n: ns })
    n = Math.min(Number(ns), 10_000)
  }
  return { n, last: c.url.searchParams.get('last') ?? undefined }
}

function paginate(c: Ctx, all: string[], def: number | undefined, base: string): { page: string[]; link?: string } {
  const { n, last } = pageParams(c, def)
  let items = all
  if (last !== undefined) items = items.filter((x) => x > last)
  if (n === undefined) return { page: items }
  const page = items.slice(0, n)
  if (n > 0 && items.length > n) return { page, link: `<${base}?last=${encodeURIComponent(page[page.length - 1]!)}&n=${n}>; rel="next"` }
  return { page }
}

// ---- endpoints ----

async function catalog(o: HandlerOptions, c: Ctx): Promise<void> {
  if (c.req.method !== 'GET') throw regErr('UNSUPPORTED')
  if (c.id.bad) return challenge(o, c, 'registry:catalog:*', 'invalid_token')
  c.action = 'catalog'
  await o.accounts.refresh()
  const visible = (await o.storage.listRepositories()).filter((r) => o.accounts.actions(c.id.user, r).has('pull'))
  const { page, link } = paginate(c, visible, 100, '/v2/_catalog')
  return json(c, 200, { repositories: page }, link ? { Link: link } : {})
}

async function tags(o: HandlerOptions, c: Ctx, method: string, name: string): Promise<void> {
  if (method !== 'GET') throw regErr('UNSUPPORTED')
  if (!(await authorize(o, c, name, 'pull'))) return
  if (!(await o.storage.repoExists(name))) throw regErr('NAME_UNKNOWN', undefined, { name })
  const { page, link } = paginate(c, await o.storage.listTags(name), undefined, `/v2/${name}/tags/list`)
  return json(c, 200, { name, tags: page }, link ? { Link: link } : {})
}

async function referrers(o: HandlerOptions, c: Ctx, method: string, name: string, digest: string): Promise<void> {
  if (method !== 'GET') throw regErr('UNSUPPORTED')
  checkDigest(digest)
  if (!(await authorize(o, c, name, 'pull'))) return
  let list = await o.storage.listReferrers(name, digest)
  const at = c.url.searchParams.get('artifactType')
  const headers: Record<string, string> = {}
  if (at !== null) {
    list = list.filter((d) => d.artifactType === at)
    headers['OCI-Filters-Applied'] = 'artifactType'
  }
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: list }))
  c.res.writeHead(200, { 'Content-Type': MT.ociIndex, 'Content-Length': body.length, ...headers })
  c.bytesOut += body.length
  c.res.end(body)
}

async function manifests(o: HandlerOptions, c: Ctx, method: string, name: string, refStr: string): Promise<void> {
  const ref = parseReference(refStr)
  if (method === 'GET' || method === 'HEAD') {
    if (!(await authorize(o, c, name, 'pull'))) return
    const m = await o.storage.getManifest(name, ref)
    if (!m) {
      if (!(await o.storage.repoExists(name))) throw regErr('NAME_UNKNOWN', undefined, { name })
      throw regErr('MANIFEST_UNKNOWN', undefined, ref.tag !== undefined ? { tag: ref.tag } : { digest: ref.digest })
    }
    const etag = `"${m.digest}"`
    const headers = { 'Content-Type': m.mediaType, 'Content-Length': m.body.length, 'Docker-Content-Digest': m.digest, ETag: etag }
    if (c.req.headers['if-none-match'] === etag) {
      c.res.writeHead(304, { 'Docker-Content-Digest': m.digest, ETag: etag })
      return void c.res.end()
    }
    c.res.writeHead(200, headers)
    if (method === 'HEAD') return void c.res.end()
    c.bytesOut += m.body.length
    return void c.res.end(m.body)
  }
  if (method === 'PUT') {
    if (!(await authorize(o, c, name, 'push'))) return
    const body = await readBody(c, MAX_MANIFEST)
    const extra = ref.digest ? c.url.searchParams.getAll('tag') : []
    const { digest, manifest } = await o.storage.putManifest(name, ref, body, c.req.headers['content-type'], extra)
    const headers: Record<string, string | string[] | number> = { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest }
    if (manifest.subject) headers['OCI-Subject'] = manifest.subject.digest
    if (extra.length) headers['OCI-Tag'] = extra
    return empty(c, 201, headers)
  }
  if (method === 'DELETE') {
    if (!(await authorize(o, c, name, 'delete'))) return
    await o.storage.deleteManifest(name, ref)
    if (ref.digest) o.storage.forgetCached(ref.digest)
    return empty(c, 202)
  }
  throw regErr('UNSUPPORTED')
}

/** A Range request header: `bytes=a-b`, `bytes=a-`, `bytes=-n`; undefined for none or several ranges. */
function parseRange(h: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!h) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim())
  if (!m) return h.includes(',') ? undefined : 'unsatisfiable'
  const [, a, b] = m
  if (a === '' && b === '') return 'unsatisfiable'
  if (a === '') {
    const n = Number(b)
    if (n === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(a)
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1)
  if (start >= size || (b !== '' && Number(b) < start)) return 'unsatisfiable'
  return { start, end }
}

async function blobs(o: HandlerOptions, c: Ctx, method: string, name: string, digestStr: string): Promise<void> {
  const digest = checkDigest(digestStr)
  if (method === 'GET' || method === 'HEAD') {
    if (!(await authorize(o, c, name, 'pull'))) return
    const size = await o.storage.statBlob(name, digest)
    if (size === undefined) throw regErr('BLOB_UNKNOWN', undefined, { digest })
    const base = { 'Docker-Content-Digest': digest, ETag: `"${digest}"`, 'Accept-Ranges': 'bytes', 'Cache-Control': 'max-age=31536000' }
    const range = method === 'GET' ? parseRange(c.req.headers.range, size) : undefined
    if (range === 'unsatisfiable') {
      c.res.setHeader('Content-Range', `bytes */${size}`)
      throw regErr('RANGE_INVALID', 'requested range not satisfiable', { range: c.req.headers.range, size: undefined })
    }
    if (method === 'HEAD') {
      c.res.writeHead(200, { ...base, 'Content-Type': 'application/octet-stream', 'Content-Length': size })
      return void c.res.end()
    }
    const headers = range
      ? { ...base, 'Content-Type': 'application/octet-stream', 'Content-Length': range.end - range.start + 1, 'Content-Range': `bytes ${range.start}-${range.end}/${size}` }
      : { ...base, 'Content-Type': 'application/octet-stream', 'Content-Length': size }
    if (size === 0) {
      c.res.writeHead(200, headers)
      return void c.res.end()
    }
    const stream = o.storage.openBlob(digest, range)
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => {
        c.res.writeHead(range ? 206 : 200, headers)
        stream.on('data', (b) => (c.bytesOut += b.length))
        stream.pipe(c.res)
        c.res.once('close', () => { stream.destroy(); resolve() })
      })
      stream.once('error', (err) => {
        if ((err as { code?: string }).code === 'ENOENT') reject(regErr('BLOB_UNKNOWN', undefined, { digest }))
        else reject(err)
      })
    })
    return
  }
  if (method === 'DELETE') {
    if (!(await authorize(o, c, name, 'delete'))) return
    await o.storage.deleteBlob(name, digest)
    return empty(c, 202, { 'Docker-Content-Digest': digest })
  }
  throw regErr('UNSUPPORTED')
}

/** A Content-Range request header: `a-b` as the spec writes it, or `bytes a-b[/total]`. */
function parseContentRange(h: string | undefined): { start: number; end: number } | undefined {
  if (h === undefined) return undefined
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(h.trim())
  if (!m) throw regErr('RANGE_INVALID', 'invalid Content-Range', { contentRange: h })
  const start = Number(m[1])
  const end = Number(m[2])
  if (end < start) throw regErr('RANGE_INVALID', 'invalid Content-Range', { contentRange: h })
  return { start, end }
}

function uploadHeaders(name: string, uuid: string, size: number): Record<string, string | number> {
  return { Location: `/v2/${name}/blobs/uploads/${uuid}`, Range: `0-${Math.max(0, size - 1)}`, 'Docker-Upload-UUID': uuid }
}

function contentLength(c: Ctx): number | undefined {
  const v = c.req.headers['content-length']
  return v === undefined ? undefined : Number(v)
}

async function uploads(o: HandlerOptions, c: Ctx, method: string, name: string, uuid: string): Promise<void> {
  const s = o.storage
  if (uuid === '') {
    if (method !== 'POST') throw regErr('UNSUPPORTED')
    // Refused before a byte is read: the body of a monolithic upload is never stored.
    if (!(await authorize(o, c, name, 'push'))) return
    const q = c.url.searchParams
    const mount = q.get('mount')
    const from = q.get('from')
    if (mount !== null) {
      const digest = checkDigest(mount)
      if (from !== null && isName(from) && from !== name && o.accounts.actions(c.id.user, from).has('pull') &&
        (c.id.kind !== 'bearer' || c.id.access!.some((a) => a.type === 'repository' && a.name === from && a.actions.includes('pull'))) &&
        (await s.mountBlob(name, from, digest))) {
        return empty(c, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest })
      }
    }
    const dq = q.get('digest')
    if (dq !== null && mount === null) {
      const digest = checkDigest(dq)
      await s.putBlob(name, digest, c.req, contentLength(c), counter(c))
      return empty(c, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest })
    }
    const alg = q.get('digest-algorithm')
    if (alg !== null && alg !== 'sha256' && alg !== 'sha512') throw regErr('DIGEST_INVALID', 'unsupported digest algorithm', { algorithm: alg })
    c.req.resume()
    const id = await s.startUpload(name, (alg ?? 'sha256') as 'sha256' | 'sha512')
    return empty(c, 202, uploadHeaders(name, id, 0))
  }
  if (!(await authorize(o, c, name, 'push'))) return
  if (method === 'GET') {
    const size = await s.uploadStatus(name, uuid)
    return empty(c, 204, uploadHeaders(name, uuid, size))
  }
  if (method === 'PATCH') {
    const range = parseContentRange(c.req.headers['content-range'])
    const size = await s.appendUpload(name, uuid, c.req, range, range ? contentLength(c) : undefined, counter(c))
    return empty(c, 202, uploadHeaders(name, uuid, size))
  }
  if (method === 'PUT') {
    const dq = c.url.searchParams.get('digest')
    if (dq === null) {
      c.req.resume()
      throw regErr('DIGEST_INVALID', 'digest missing', {})
    }
    const digest = checkDigest(dq)
    const range = parseContentRange(c.req.headers['content-range'])
    const len = contentLength(c)
    if (range || (len ?? 1) > 0 || c.req.headers['transfer-encoding']) await s.appendUpload(name, uuid, c.req, range, range ? len : undefined, counter(c))
    await s.finishUpload(name, uuid, digest)
    void algorithmOf
    return empty(c, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest })
  }
  if (method === 'DELETE') {
    await s.cancelUpload(name, uuid)
    return empty(c, 204)
  }
  throw regErr('UNSUPPORTED')
}

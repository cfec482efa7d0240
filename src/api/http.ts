import type { IncomingMessage, ServerResponse } from 'node:http'
import { EngineError, findEngineError, type ErrorKind } from '../lib/errors.js'
import { responseGone } from './stream.js'
import { validateBody } from './validate.js'

export const API_VERSION = '1.50'
export const MIN_API_VERSION = '1.24'

/** What a route handler receives. */
export interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  params: string[]
  query: URLSearchParams
  /** The negotiated API version of this request (from the /vX.Y prefix, else the current one). */
  version: string
  /** Aborted when the client goes away. */
  signal: AbortSignal
}

export type Handler = (ctx: Ctx) => Promise<unknown> | unknown

const STATUS: Record<ErrorKind, number> = {
  NotFound: 404,
  Conflict: 409,
  InvalidArgument: 400,
  Unauthorized: 401,
  Forbidden: 403,
  Unavailable: 503,
  NotImplemented: 501,
  NotModified: 304,
  Internal: 500,
  Canceled: 499,
}

/** The one place that maps an error kind to an HTTP status. */
export function statusOf(err: unknown): number {
  const e = findEngineError(err)
  return e ? STATUS[e.kind] : 500
}

export function compareVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number)
  const [b1 = 0, b2 = 0] = b.split('.').map(Number)
  return a1 - b1 || a2 - b2
}

export function versionAtLeast(ctx: { version: string }, v: string): boolean {
  return compareVersions(ctx.version, v) >= 0
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) })
  res.end(data)
}

export function sendError(res: ServerResponse, err: unknown): void {
  const e = findEngineError(err)
  const message = e ? e.message : err instanceof Error ? err.message : String(err)
  if (res.headersSent) {
    res.destroy()
    return
  }
  sendJson(res, statusOf(err), { message })
}

/** Boolean query values as Docker reads them: 1/true/True are true; 0/false/'' are false. */
export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name)
  if (v === null) return dflt
  const s = v.toLowerCase()
  return !(s === '' || s === '0' || s === 'false' || s === 'no')
}

/** Start a JSON-lines stream (pull, push, load, import, events). */
export function startJsonStream(res: ServerResponse): (obj: unknown) => void {
  if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' })
  // The client may go away at any line: a write into the closed answer is dropped, never uncaught.
  res.on('error', () => {})
  return (obj) => {
    if (responseGone(res)) return
    res.write(`${JSON.stringify(obj)}\r\n`)
  }
}

/** Docker's error object in a JSON stream. */
export function streamError(err: unknown): { errorDetail: { message: string }; error: string } {
  const e = err instanceof EngineError ? err : findEngineError(err)
  const message = e?.message ?? (err instanceof Error ? err.message : String(err))
  return { errorDetail: { message }, error: message }
}

/**
 * The largest JSON request body read: Docker sets no limit on a create (a legitimate one with a
 * large environment or many labels passes 4 MiB); this only bounds what one request may make
 * berthd hold in memory.
 */
export const JSON_BODY_LIMIT = 256 << 20

export async function readBody(req: IncomingMessage, limit = 4 << 20): Promise<Buffer> {
  const chunks: Buffer[] = []
  let n = 0
  try {
    for await (const c of req) {
      n += (c as Buffer).length
      if (n > limit) throw new EngineError('InvalidArgument', 'ERR_BODY_TOO_LARGE', 'request body too large')
      chunks.push(c as Buffer)
    }
  } catch (err) {
    if (err instanceof EngineError) throw err
    // The client went away in the middle of its body (ECONNRESET, "aborted").
    throw new EngineError('Canceled', 'ERR_CLIENT_GONE', 'client disconnected', { cause: err })
  }
  return Buffer.concat(chunks)
}

/** The route ("POST /containers/create") each request was routed to, so its JSON body is checked against the schema. */
const routeOf = new WeakMap<IncomingMessage, string>()

/** Set by the router: the JSON body of `req` is checked against the Engine API schema of `route`. */
export function setBodyRoute(req: IncomingMessage, route: string): void {
  routeOf.set(req, route)
}

/**
 * The request's JSON body, or undefined when empty. Malformed JSON, and for the routes the
 * Engine API describes a value Go would not decode into moby's struct, are Docker's 400
 * (`invalid JSON: ...`): no handler sees a wrongly typed body.
 */
export async function readJsonBody<T>(req: IncomingMessage): Promise<T | undefined> {
  const text = (await readBody(req, JSON_BODY_LIMIT)).toString('utf8')
  if (text.trim() === '') return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    const m = (err as Error).message
    const eof = /Unexpected end of JSON input|Unterminated/i.test(m)
    throw new EngineError('InvalidArgument', 'ERR_INVALID_JSON', eof ? 'invalid JSON: unexpected EOF' : `invalid JSON: ${m}`)
  }
  const route = routeOf.get(req)
  return (route ? validateBody(route, value) : value) as T
}

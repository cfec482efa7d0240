import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { EngineError } from '../lib/errors.js'
import { API_VERSION, compareVersions, MIN_API_VERSION, sendError, sendJson, setBodyRoute, statusOf, type Ctx, type Handler } from './http.js'

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error', 501: 'Not Implemented' }

interface Route {
  method: string
  /** The path template (`/containers/{id}/update`): with the method, the key of its body schema. */
  path: string
  re: RegExp
  handler: Handler
}

/** A hijacked connection (attach, exec start): raw bytes both ways after the 101 answer. */
export interface HijackCtx {
  req: IncomingMessage
  socket: Duplex
  head: Buffer
  params: string[]
  query: URLSearchParams
  version: string
  /** Write the 101 answer (or an error answer) to the client. */
  upgrade(contentType: string): void
  fail(err: unknown): void
}

export type HijackHandler = (ctx: HijackCtx) => Promise<void>

const VERSION_PREFIX = /^\/v(\d+\.\d+)(\/.*)$/

/**
 * Routing and version negotiation: `/vX.Y/` prefixes, Docker's "too new"/"too old" errors,
 * the Api-Version header on every answer, `{message}` errors.
 */
export class Router {
  #routes: Route[] = []
  #hijacks: Array<{ method: string; path: string; re: RegExp; handler: HijackHandler }> = []

  /** A route whose connection is taken over (`Upgrade: tcp`). */
  hijack(method: string, path: string, handler: HijackHandler): this {
    this.#hijacks.push({ method, path, re: this.#compile(path), handler })
    return this
  }

  #compile(path: string): RegExp {
    return new RegExp('^' + path.replace(/[.]/g, '\\.').replace(/\{[a-z]+\*\}/gi, '(.+)').replace(/\{[a-z]+\}/gi, '([^/]+)') + '$')
  }

  /** Handle a request that asked to upgrade the connection. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth')
    let path = url.pathname
    let version = API_VERSION
    const m = VERSION_PREFIX.exec(path)
    if (m) { version = m[1]!; path = m[2]! }
    socket.on('error', () => {})
    const writeError = (status: number, message: string) => {
      const body = JSON.stringify({ message })
      socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nApi-Version: ${API_VERSION}\r\n\r\n${body}`)
    }
    for (const r of this.#hijacks) {
      const pm = r.re.exec(path)
      if (!pm || r.method !== req.method) continue
      let upgraded = false
      setBodyRoute(req, `${r.method} ${r.path}`)
      const ctx: HijackCtx = {
        req, socket, head, version, query: url.searchParams,
        params: pm.slice(1).map((p) => decodeURIComponent(p)),
        upgrade: (contentType) => {
          upgraded = true
          socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${API_VERSION}\r\n\r\n`)
        },
        fail: (err) => {
          if (upgraded) { socket.destroy(); return }
          const e = err as EngineError
          writeError(statusOf(err), e?.message ?? String(err))
        },
      }
      try {
        await r.handler(ctx)
      } catch (err) {
        if (!(err instanceof EngineError)) this.log(`${req.method} ${path}: ${(err as Error)?.stack ?? String(err)}`)
        ctx.fail(err)
      }
      return
    }
    writeError(404, 'page not found')
  }

  constructor(private readonly serverHeader: string, private readonly log: (m: string) => void = () => {}) {}

  /** `path` uses `{name}` for one segment and `{name*}` for a rest that may contain slashes (image names). */
  add(method: string | string[], path: string, handler: Handler): this {
    const re = this.#compile(path)
    for (const m of Array.isArray(method) ? method : [method]) this.#routes.push({ method: m, path, re, handler })
    return this
  }

  /** Every route (method and path template), the hijacked ones marked: for the request-fuzz test and the API table. */
  list(): Array<{ method: string; path: string; hijack: boolean }> {
    return [...this.#routes.map((r) => ({ method: r.method, path: r.path, hijack: false })), ...this.#hijacks.map((r) => ({ method: r.method, path: r.path, hijack: true }))]
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Api-Version', API_VERSION)
    res.setHeader('Docker-Experimental', 'false')
    res.setHeader('Ostype', 'linux')
    res.setHeader('Server', this.serverHeader)
    res.once('finish', () => discardRestOfBody(req))
    const url = new URL(req.url ?? '/', 'http://berth')
    let path = url.pathname
    let version = API_VERSION
    const m = VERSION_PREFIX.exec(path)
    if (m) {
      version = m[1]!
      path = m[2]!
      if (compareVersions(version, API_VERSION) > 0) {
        return sendJson(res, 400, { message: `client version ${version} is too new. Maximum supported API version is ${API_VERSION}` })
      }
      if (compareVersions(version, MIN_API_VERSION) < 0) {
        return sendJson(res, 400, { message: `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version` })
      }
    }
    const ac = new AbortController()
    const onClose = () => { if (!res.writableFinished) ac.abort(new EngineError('Canceled', 'ERR_CLIENT_GONE', 'client disconnected')) }
    res.on('close', onClose)
    let matchedPath = false
    for (const r of this.#routes) {
      const pm = r.re.exec(path)
      if (!pm) continue
      // A rest wildcard that took several segments (`DELETE /containers/{name*}` for links) does not
      // make another method's path a 405: `POST /containers/x/frobnicate` is dockerd's 404.
      if (!(r.path.endsWith('*}') && pm[pm.length - 1]?.includes('/'))) matchedPath = true
      if (r.method !== req.method) continue
      // Every JSON body the handler reads is checked against this route's Engine API schema.
      setBodyRoute(req, `${r.method} ${r.path}`)
      const ctx: Ctx = {
        req,
        res,
        params: pm.slice(1).map((p) => decodeURIComponent(p)),
        query: url.searchParams,
        version,
        signal: ac.signal,
      }
      try {
        const out = await r.handler(ctx)
        if (!res.headersSent && !res.writableEnded) {
          if (out === undefined) { res.writeHead(204); res.end() } else sendJson(res, 200, out)
        } else if (!res.writableEnded) {
          res.end()
        }
      } catch (err) {
        if (!(err instanceof EngineError)) this.log(`${req.method} ${path}: ${(err as Error)?.stack ?? String(err)}`)
        sendError(res, err)
      }
      return
    }
    // Drain any body so the connection stays usable.
    req.resume()
    if (matchedPath && req.method !== 'GET') return sendJson(res, 405, { message: `method ${req.method} not allowed for ${path}` })
    sendJson(res, 404, { message: 'page not found' })
  }
}

/** Bytes of an unread request body discarded after the answer before the connection is dropped. */
const DRAIN_LIMIT = 16 << 20

/**
 * A handler that failed early (a corrupt `load` body, a version error) leaves the rest of the
 * request body unread, and the keep-alive connection would wait for it forever: the client's next
 * request on it hangs, then is reset. As Go's server does, the rest is read and discarded once the
 * answer is out, so the connection carries the next request; a client that keeps sending much more
 * is disconnected.
 */
function discardRestOfBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return
  let left = DRAIN_LIMIT
  // An abandoned reader (a for-await over the body) keeps the stream paused: take it over.
  req.removeAllListeners('readable')
  req.removeAllListeners('data')
  req.on('error', () => {})
  req.on('data', (c: Buffer) => {
    left -= c.length
    if (left < 0) req.socket.destroy()
  })
  req.resume()
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import { EngineError } from '../lib/errors.js'
import { API_VERSION, compareVersions, MIN_API_VERSION, sendError, sendJson, type Ctx, type Handler } from './http.js'

interface Route {
  method: string
  re: RegExp
  handler: Handler
}

const VERSION_PREFIX = /^\/v(\d+\.\d+)(\/.*)$/

/**
 * Routing and version negotiation: `/vX.Y/` prefixes, Docker's "too new"/"too old" errors,
 * the Api-Version header on every answer, `{message}` errors.
 */
export class Router {
  #routes: Route[] = []

  constructor(private readonly serverHeader: string, private readonly log: (m: string) => void = () => {}) {}

  /** `path` uses `{name}` for one segment and `{name*}` for a rest that may contain slashes (image names). */
  add(method: string | string[], path: string, handler: Handler): this {
    const re = new RegExp(
      '^' + path.replace(/[.]/g, '\\.').replace(/\{[a-z]+\*\}/gi, '(.+)').replace(/\{[a-z]+\}/gi, '([^/]+)') + '$',
    )
    for (const m of Array.isArray(method) ? method : [method]) this.#routes.push({ method: m, re, handler })
    return this
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Api-Version', API_VERSION)
    res.setHeader('Docker-Experimental', 'false')
    res.setHeader('Ostype', 'linux')
    res.setHeader('Server', this.serverHeader)
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
      matchedPath = true
      if (r.method !== req.method) continue
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

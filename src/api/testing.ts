import { createServer, request, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { notImplemented } from '../lib/errors.js'
import { Router } from './router.js'

/**
 * Route-layer tests: a Router served on a unix socket in a temp directory (no root, no daemon),
 * with the backends the test hands in, and a tiny client.
 */
export interface RouteHarness {
  request(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string; json: () => any }>
  close(): Promise<void>
}

export async function serveRoutes(mount: (r: Router) => void): Promise<RouteHarness> {
  const router = new Router('Berth/test (linux)')
  mount(router)
  const dir = mkdtempSync(join(tmpdir(), 'berth-routes-'))
  const socketPath = join(dir, 'api.sock')
  const server: Server = createServer((req, res) => { void router.handle(req, res) })
  await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  return {
    request: (method, path, body) => new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
      const req = request({ socketPath, method, path, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) })
        })
      })
      req.on('error', reject)
      req.end(data)
    }),
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * A backend whose every method answers NotImplemented unless the test gives it: `fake<ContainerBackend>({ start: async () => 'started' })`.
 * Calls are recorded by method name.
 */
export function fake<T extends object>(impl: Partial<T>): T & { calls: Array<{ method: string; args: unknown[] }> } {
  const calls: Array<{ method: string; args: unknown[] }> = []
  return new Proxy(impl as T & { calls: typeof calls }, {
    get(target, prop) {
      if (prop === 'calls') return calls
      if (typeof prop !== 'string') return undefined
      const f = (target as Record<string, unknown>)[prop]
      return (...args: unknown[]) => {
        calls.push({ method: prop, args })
        if (typeof f !== 'function') throw notImplemented('ERR_FAKE', `fake backend: ${prop} not given`)
        return (f as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
}

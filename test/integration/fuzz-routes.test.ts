/**
 * The request fuzz (issue 12's acceptance): every route of the router gets wrong JSON types,
 * malformed and huge bodies and truncated requests. berthd stays up (ping answers), never
 * answers 500 (501/503 are Docker's answers for what a daemon does not serve), answers 400 to
 * every wrongly typed body of a route the Engine API schema describes, and stores nothing: the
 * container, image, volume and network lists are the same before and after.
 */
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { request } from 'node:http'
import { Router } from '../../src/api/router.js'
import { archiveRoutes } from '../../src/api/routes/archive.js'
import { buildRoutes } from '../../src/api/routes/build.js'
import { containerRoutes } from '../../src/api/routes/containers.js'
import { execRoutes } from '../../src/api/routes/exec.js'
import { imageRoutes } from '../../src/api/routes/images.js'
import { logRoutes } from '../../src/api/routes/logs.js'
import { networkRoutes } from '../../src/api/routes/networks.js'
import { registryRoutes } from '../../src/api/routes/registry.js'
import { statsRoutes } from '../../src/api/routes/stats.js'
import { swarmRoutes } from '../../src/api/routes/swarm.js'
import { systemRoutes } from '../../src/api/routes/system.js'
import { unimplementedRoutes } from '../../src/api/routes/unimplemented.js'
import { volumeRoutes } from '../../src/api/routes/volumes.js'
import { ENGINE_API_BODIES } from '../../src/api/schema/engine-api.js'
import { api, type DaemonHandle } from './harness.js'
import { dockerSuite } from './image-helpers.js'
import { busyboxDaemon } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
interface Schema { type?: string[]; properties?: Record<string, Schema> }

/** The routes berthd serves, from the same route modules the daemon mounts (backends are never called). */
function allRoutes(): Array<{ method: string; path: string; hijack: boolean }> {
  const r = new Router('fuzz')
  const none = {} as never
  systemRoutes(r, none); imageRoutes(r, none, none); containerRoutes(r, none); logRoutes(r, none); execRoutes(r, none)
  statsRoutes(r, none); archiveRoutes(r, none); registryRoutes(r, none); buildRoutes(r, none); networkRoutes(r, none)
  volumeRoutes(r, none); swarmRoutes(r, none); unimplementedRoutes(r)
  return r.list()
}

const fill = (path: string) => path.replace(/\{[a-z]+\*?\}/gi, 'fuzz-none')

/** One request; resolves with the status as soon as the headers arrive (streamed answers are then dropped). */
function send(h: DaemonHandle, method: string, path: string, body: Buffer | undefined, hijack: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json', ...(body ? { 'Content-Length': body.length } : {}) }
    if (hijack) Object.assign(headers, { Connection: 'Upgrade', Upgrade: 'tcp' })
    const req = request({ socketPath: h.socket, method, path, headers, timeout: 60_000 }, (res) => {
      const status = res.statusCode ?? 0
      if (status >= 400) {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }))
        res.on('error', () => resolve({ status, body: '' }))
      } else {
        resolve({ status, body: '' })
        req.destroy()
      }
    })
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode ?? 101, body: '' }) })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 60 s`)))
    req.on('error', (err: NodeJS.ErrnoException) => {
      // The server may answer early and close while a huge body is still being sent.
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') resolve({ status: -1, body: '' })
      else reject(err)
    })
    req.end(body)
  })
}

/** Raw bytes, then the connection dropped: a request cut short in its headers or body. */
function truncated(h: DaemonHandle, raw: string): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(h.socket)
    s.on('error', () => resolve())
    s.on('connect', () => { s.write(raw); setTimeout(() => { s.destroy(); resolve() }, 20) })
  })
}

/** For each typed field (top level and one level down): a body with only that field of a wrong JSON type. */
function wrongTypedBodies(schema: Schema, base: Record<string, unknown>): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  const wrong = (s: Schema): unknown[] => {
    const t = s.type ?? []
    if (t.includes('string')) return [12345]
    if (t.includes('boolean')) return ['false']
    if (t.includes('integer')) return ['abc', 1.5, 1e30]
    if (t.includes('number')) return ['abc']
    if (t.includes('array') || t.includes('object')) return ['x', 7]
    return []
  }
  for (const [k, s] of Object.entries(schema.properties ?? {})) {
    for (const v of wrong(s)) out.push({ ...base, [k]: v })
    for (const [k2, s2] of Object.entries(s.properties ?? {})) for (const v of wrong(s2)) out.push({ ...base, [k]: { [k2]: v } })
  }
  return out
}

async function snapshot(h: DaemonHandle): Promise<unknown> {
  const ids = async (path: string, key: string) => ((await api(h, 'GET', path)).json() as Json[]).map((x) => x[key]).sort()
  return {
    containers: await ids('/containers/json?all=1', 'Id'),
    images: await ids('/images/json?all=1', 'Id'),
    volumes: ((await api(h, 'GET', '/volumes')).json() as Json).Volumes?.map((v: Json) => v.Name).sort() ?? [],
    networks: await ids('/networks', 'Id'),
  }
}

dockerSuite('request fuzz: every route', () => {
  const daemon = busyboxDaemon()
  const routes = allRoutes()
  const bad: string[] = []
  const check = (what: string, r: { status: number; body: string }) => {
    if (r.status === 500 || (r.status > 503 && r.status < 600) || r.status === 502) bad.push(`${what}: ${r.status} ${r.body}`)
  }
  const alive = async (what: string) => {
    const p = await api(daemon.h, 'GET', '/_ping').catch((e: Error) => ({ status: 0, body: Buffer.from(e.message) }))
    assert.equal(p.status, 200, `berthd died after ${what}: ${daemon.h.log().slice(-2000)}`)
  }

  it('the router has the routes to fuzz', () => {
    assert.ok(routes.length > 50, `only ${routes.length} routes`)
    for (const key of ['POST /containers/create', 'POST /volumes/create', 'POST /networks/create']) {
      assert.ok(routes.some((r) => `${r.method} ${r.path}` === key), key)
      assert.ok(key in ENGINE_API_BODIES, `${key} has a body schema`)
    }
  })

  it('wrong JSON types to each route with a schema: 400 in Go\'s words, nothing stored', async () => {
    const before = await snapshot(daemon.h)
    const bases: Record<string, Record<string, unknown>> = { 'POST /containers/create': { Image: 'busybox', Cmd: ['true'] }, 'POST /networks/create': { Name: 'fuzznet' }, 'POST /volumes/create': { Name: 'fuzzvol' } }
    let n = 0
    for (const [key, schema] of Object.entries(ENGINE_API_BODIES)) {
      const route = routes.find((r) => `${r.method} ${r.path}` === key && !r.hijack)
      if (!route) continue
      const bodies = [[1, 2], 'text', 42, ...wrongTypedBodies(schema as Schema, bases[key] ?? {})]
      for (const b of bodies) {
        const r = await send(daemon.h, route.method, fill(route.path), Buffer.from(JSON.stringify(b)), false)
        n++
        if (r.status !== 400 || !/^\{"message":"invalid JSON: json: cannot unmarshal /.test(r.body)) bad.push(`${key} ${JSON.stringify(b)}: ${r.status} ${r.body}`)
      }
    }
    assert.ok(n > 300, `only ${n} wrongly typed bodies sent`)
    assert.deepEqual(bad.splice(0), [])
    await alive('wrong types')
    assert.deepEqual(await snapshot(daemon.h), before, 'a refused body stores nothing')
  })

  it('malformed, wrongly typed and huge bodies to every route: never 500, berthd stays up, nothing stored', async () => {
    const before = await snapshot(daemon.h)
    const bodies: Array<[string, Buffer]> = [
      ['array', Buffer.from('[1,"x",{}]')],
      ['string', Buffer.from('"x"')],
      ['truncated JSON', Buffer.from('{"Image":"busybox","HostConfig":{"Memory":')],
      ['not JSON', Buffer.from('\u0000\u00ff garbage {{{')],
      ['deep nesting', Buffer.from('['.repeat(100_000))],
    ]
    const huge = Buffer.alloc(6 << 20, 'a')
    for (const route of routes) {
      const path = fill(route.path)
      for (const [what, b] of bodies) check(`${route.method} ${route.path} (${what})`, await send(daemon.h, route.method, path, b, route.hijack))
      if (route.method === 'POST' || route.method === 'PUT') check(`${route.method} ${route.path} (6 MiB)`, await send(daemon.h, route.method, path, huge, route.hijack))
      await alive(`${route.method} ${route.path}`)
    }
    assert.deepEqual(bad.splice(0), [])
    assert.deepEqual(await snapshot(daemon.h), before, 'nothing stored')
  })

  it('requests cut short in their headers or body: berthd stays up and stores nothing', async () => {
    const before = await snapshot(daemon.h)
    for (const route of routes) {
      const path = `/v1.45${fill(route.path)}`
      await truncated(daemon.h, `${route.method} ${path} HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"Image":"busybox","Cmd":["tr`)
      await truncated(daemon.h, `${route.method} ${path} HTTP/1.1\r\nHost: berth\r\nContent-Le`)
      await truncated(daemon.h, `${route.method} ${path} HTTP/1.1\r\nHost: berth\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"Name":"x","La`)
    }
    // Give the daemon a moment to see every connection go.
    await new Promise((r) => setTimeout(r, 500))
    await alive('truncated requests')
    assert.deepEqual(await snapshot(daemon.h), before, 'nothing stored')
    assert.doesNotMatch(daemon.h.log(), /TypeError|ReferenceError|RangeError|unhandled/i, 'no JavaScript error in the log')
  })
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { BuildBackend, NetworkBackend, RegistryBackend, SystemBackend, VolumeBackend } from '../backend.js'
import { invalid, EngineError } from '../../lib/errors.js'
import { fake, serveRoutes } from '../testing.js'
import { networkRoutes } from './networks.js'
import { volumeRoutes } from './volumes.js'
import { registryRoutes } from './registry.js'
import { buildRoutes } from './build.js'
import { systemRoutes } from './system.js'

const enc = (f: unknown) => encodeURIComponent(JSON.stringify(f))

test('network list filters: type and dangling checked, typed values passed', async () => {
  const b = fake<NetworkBackend>({ list: async () => [], prune: async () => ['n1'] })
  const h = await serveRoutes((r) => networkRoutes(r, b))
  try {
    assert.equal((await h.request('GET', `/networks?filters=${enc({ type: ['odd'] })}`)).json().message, "invalid filter: 'type'='odd'")
    assert.equal((await h.request('GET', `/networks?filters=${enc({ dangling: ['maybe'] })}`)).json().message, "invalid filter 'dangling=[maybe]'")
    assert.equal((await h.request('GET', `/networks?filters=${enc({ dangling: ['true'], type: ['custom'], driver: ['bridge'] })}`)).status, 200)
    assert.deepEqual(b.calls[0]!.args[0], { dangling: true, type: ['custom'], driver: ['bridge'] })
    assert.deepEqual((await h.request('POST', `/networks/prune?filters=${enc({ 'label!': ['x'] })}`)).json(), { NetworksDeleted: ['n1'] })
    assert.deepEqual(b.calls[1]!.args[0], { labelNot: ['x'] })
  } finally { await h.close() }
})

test('volume routes: dangling values checked; create answers 201 with the wire volume', async () => {
  const b = fake<VolumeBackend>({
    list: async () => [],
    create: async (req) => ({ name: req.name ?? 'anon', driver: 'local', labels: req.labels, options: {}, createdAt: '2026-01-01T00:00:00.123Z', mountpoint: '/v/x/_data' }),
  })
  const h = await serveRoutes((r) => volumeRoutes(r, b))
  try {
    assert.equal((await h.request('GET', `/volumes?filters=${enc({ dangling: ['yes'] })}`)).json().message, "invalid filter 'dangling=yes'")
    await h.request('GET', `/volumes?filters=${enc({ dangling: ['true', 'false'], name: ['a'] })}`)
    assert.deepEqual(b.calls[0]!.args[0], { name: ['a'] })
    const res = await h.request('POST', '/volumes/create', { Name: 'data', Labels: { a: 'b' } })
    assert.equal(res.status, 201)
    assert.deepEqual(res.json(), { CreatedAt: '2026-01-01T00:00:00Z', Driver: 'local', Labels: { a: 'b' }, Mountpoint: '/v/x/_data', Name: 'data', Options: null, Scope: 'local' })
  } finally { await h.close() }
})

test('login passes the body to the backend; a refusal keeps its status', async () => {
  const b = fake<RegistryBackend>({
    login: async (auth) => {
      if (auth.password !== 'right') throw new EngineError('Unauthorized', 'ERR_REGISTRY_AUTH', 'login attempt to http://127.0.0.1:5000/v2/ failed with status: 401 Unauthorized')
      return { status: 'Login Succeeded', identityToken: '' }
    },
  })
  const h = await serveRoutes((r) => registryRoutes(r, b))
  try {
    const ok = await h.request('POST', '/auth', { username: 'u', password: 'right', serveraddress: '127.0.0.1:5000' })
    assert.deepEqual(ok.json(), { Status: 'Login Succeeded', IdentityToken: '' })
    assert.equal((await h.request('POST', '/auth', { username: 'u', password: 'wrong' })).status, 401)
    const stars = await h.request('GET', `/images/search?term=x&filters=${enc({ stars: ['many'] })}`)
    assert.equal(stars.json().message, "invalid filter 'stars=many'")
  } finally { await h.close() }
})

test("build prune maps the backend result; dockerd's cache filters are checked and passed on", async () => {
  let seen: unknown
  const b = fake<BuildBackend>({ prune: async ({ all, filters }) => { seen = filters; return { deleted: all ? ['abc'] : [], spaceReclaimed: 0 } } })
  const h = await serveRoutes((r) => buildRoutes(r, b))
  try {
    assert.deepEqual((await h.request('POST', '/build/prune?all=1')).json(), { CachesDeleted: ['abc'], SpaceReclaimed: 0 })
    assert.equal((await h.request('POST', `/build/prune?filters=${enc({ until: ['1h'], label: ['a=b'], inuse: [''], id: ['abc'] })}`)).status, 200)
    assert.equal((seen as { id: string; inuse: string }).id, 'abc')
    assert.equal((seen as { inuse: string }).inuse, '')
    assert.ok(typeof (seen as { until: number }).until === 'number')
    const bad = await h.request('POST', `/build/prune?filters=${enc({ mutable: ['true'] })}`)
    assert.equal(bad.status, 400)
    assert.equal(bad.json().message, "invalid filter 'mutable'")
    const both = await h.request('POST', `/build/prune?filters=${enc({ until: ['1h'], 'unused-for': ['1h'] })}`)
    assert.equal(both.json().message, 'conflicting filters: "until" and "unused-for"')
  } finally { await h.close() }
})

test('events: filter keys checked before the backend; past events streamed as JSON lines', async () => {
  const b = fake<SystemBackend>({
    events: async (opts) => {
      if (opts.since === 'bad') throw invalid('ERR_INVALID_TIMESTAMP', 'failed to parse value as time or duration: "bad"')
      return { past: [{ type: 'container', action: 'start', actor: { id: 'c1', attributes: { name: 'web' } }, scope: 'local', timeNano: 1_700_000_000_123_456_789n }], live: false, follow: async () => {} }
    },
  })
  const h = await serveRoutes((r) => systemRoutes(r, b))
  try {
    assert.equal((await h.request('GET', `/events?filters=${enc({ colour: ['x'] })}`)).json().message, "invalid filter 'colour'")
    assert.equal(b.calls.length, 0)
    assert.equal((await h.request('GET', '/events?since=bad')).status, 400)
    const res = await h.request('GET', `/events?until=1&filters=${enc({ type: ['container'] })}`)
    assert.deepEqual(b.calls[1]!.args[0], { until: '1', filters: { type: ['container'] } })
    const line = JSON.parse(res.text.trim())
    assert.equal(line.Action, 'start')
    assert.equal(line.timeNano, 1_700_000_000_123_456_789)
    assert.match(res.text, /"timeNano":1700000000123456789\}/)
  } finally { await h.close() }
})

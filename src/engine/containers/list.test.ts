import { test } from 'node:test'
import assert from 'node:assert/strict'
import { notFound } from '../../lib/errors.js'
import { listContainers, type ListDeps } from './list.js'
import { pruneContainers } from './prune.js'
import type { ContainerRecord } from './types.js'

/** A record with the fields ps and prune read; the rest does not matter to them. */
function rec(name: string, o: { status?: string; exitCode?: number; created?: string; labels?: Record<string, string>; image?: string; network?: string; ports?: Array<{ hostPort: number; proto: string }>; exposed?: string[]; health?: string; healthcheck?: boolean; volume?: string } = {}): ContainerRecord {
  const id = `${name}${'0'.repeat(64 - name.length)}`
  return {
    id, name, created: o.created ?? '2026-01-01T00:00:00.000Z', imageId: o.image ?? 'sha256:img',
    config: { labels: o.labels ?? {}, exposedPorts: Object.fromEntries((o.exposed ?? []).map((p) => [p, {}])), ...(o.healthcheck ? { healthcheck: { test: ['CMD', 'true'] } } : {}) },
    hostConfig: { networkMode: o.network ?? 'default' },
    state: { status: o.status ?? 'running', exitCode: o.exitCode ?? 0, ...(o.health ? { health: { status: o.health, failingStreak: 0, log: [] } } : {}) },
    network: { endpoints: [], ports: (o.ports ?? []).map((p) => ({ ...p, containerPort: 80, hostIp: '0.0.0.0' })) },
    mountPoints: o.volume ? [{ type: 'volume', name: o.volume, source: `/v/${o.volume}/_data`, destination: '/data' }] : [],
  } as unknown as ContainerRecord
}

function store(list: ContainerRecord[]): ListDeps {
  return {
    all: () => [...list],
    resolve: (ref) => {
      const c = list.find((x) => x.id === ref || x.name === ref || x.id.startsWith(ref))
      if (!c) throw notFound('ERR_CONTAINER_NOT_FOUND', `No such container: ${ref}`)
      return c
    },
    imageIdOf: (ref) => (ref === 'busybox' ? 'sha256:busybox' : undefined),
  }
}

const names = (l: ContainerRecord[]) => l.map((c) => c.name)

const fixture = [
  rec('old', { status: 'exited', exitCode: 137, created: '2026-01-01T00:00:01.000Z', labels: { tier: 'db' } }),
  rec('web', { created: '2026-01-01T00:00:02.000Z', labels: { tier: 'web', env: 'prod' }, image: 'sha256:busybox', ports: [{ hostPort: 8080, proto: 'tcp' }], exposed: ['80/tcp'], network: 'front' }),
  rec('made', { status: 'created', created: '2026-01-01T00:00:03.000Z', healthcheck: true, volume: 'cache' }),
  rec('sick', { created: '2026-01-01T00:00:04.000Z', healthcheck: true, health: 'unhealthy', exposed: ['53/udp'] }),
]

test('ps lists running containers newest first; all, limit and status/exited filters include stopped ones', () => {
  const d = store(fixture)
  assert.deepEqual(names(listContainers(d, { all: false, limit: -1, filters: {} })), ['sick', 'web'])
  assert.deepEqual(names(listContainers(d, { all: true, limit: -1, filters: {} })), ['sick', 'made', 'web', 'old'])
  assert.deepEqual(names(listContainers(d, { all: false, limit: 2, filters: {} })), ['sick', 'made'])
  assert.deepEqual(names(listContainers(d, { all: false, limit: -1, filters: { status: ['exited'] } })), ['old'])
  assert.deepEqual(names(listContainers(d, { all: false, limit: -1, filters: { exited: [137] } })), ['old'])
  assert.deepEqual(names(listContainers(d, { all: false, limit: -1, filters: { exited: [0] } })), [])
  assert.deepEqual(names(listContainers(d, { all: true, limit: -1, filters: { status: [] } })), [])
})

test('ps filters: label, name, id, ancestor, before/since, network, publish, expose, health, volume', () => {
  const d = store(fixture)
  const all = (filters: Parameters<typeof listContainers>[1]['filters']) => names(listContainers(d, { all: true, limit: -1, filters }))
  assert.deepEqual(all({ label: ['tier'] }), ['web', 'old'])
  assert.deepEqual(all({ label: ['tier=web', 'env=prod'] }), ['web'])
  assert.deepEqual(all({ label: ['tier=web', 'env=dev'] }), [])
  assert.deepEqual(all({ name: ['^/?s'] }), ['sick'])
  assert.deepEqual(all({ name: ['e'] }), ['made', 'web'])
  assert.deepEqual(all({ id: ['mad'] }), ['made'])
  assert.deepEqual(all({ ancestor: ['busybox'] }), ['web'])
  assert.deepEqual(all({ ancestor: ['nosuch'] }), [])
  assert.deepEqual(all({ before: ['made'] }), ['web', 'old'])
  assert.deepEqual(all({ since: ['web'] }), ['sick', 'made'])
  assert.deepEqual(all({ network: ['front'] }), ['web'])
  assert.deepEqual(all({ network: ['bridge'] }), ['sick', 'made', 'old'])
  assert.deepEqual(all({ publish: ['8000-8090/tcp'] }), ['web'])
  assert.deepEqual(all({ publish: ['8080/udp'] }), [])
  assert.deepEqual(all({ expose: ['53'] }), ['sick'])
  assert.deepEqual(all({ expose: ['80/tcp'] }), ['web'])
  assert.deepEqual(all({ health: ['none'] }), ['web', 'old'])
  assert.deepEqual(all({ health: ['starting'] }), ['made'])
  assert.deepEqual(all({ health: ['unhealthy'] }), ['sick'])
  assert.deepEqual(all({ volume: ['cache'] }), ['made'])
  assert.deepEqual(all({ volume: ['/data'] }), ['made'])
  assert.throws(() => all({ before: ['ghost'] }), /No such container: ghost/)
})

test('prune removes stopped containers matching label, label! and until, and reports them', async () => {
  const removed: string[] = []
  const events: Array<[string, Record<string, string>]> = []
  const list = [...fixture, rec('keep', { status: 'exited', created: '2026-01-01T00:00:05.000Z', labels: { keep: '' } }), rec('new', { status: 'dead', created: '2026-06-01T00:00:00.000Z' })]
  const deps = { all: () => list, remove: async (id: string) => { removed.push(id) }, emit: (a: string, attrs: Record<string, string>) => { events.push([a, attrs]) } }
  const now = Date.parse('2026-06-01T00:00:30.000Z')
  const out = await pruneContainers(deps, { labelNot: ['keep'], until: ['1m'] }, now)
  assert.deepEqual(out.deleted.map((id) => list.find((c) => c.id === id)!.name), ['old', 'made'])
  assert.deepEqual(removed, out.deleted)
  assert.equal(out.spaceReclaimed, 0)
  assert.deepEqual(events, [['prune', { reclaimed: '0' }]])
  const labelled = await pruneContainers({ ...deps, remove: async () => {} }, { label: ['tier=db'] }, now)
  assert.deepEqual(labelled.deleted.map((id) => list.find((c) => c.id === id)!.name), ['old'])
})

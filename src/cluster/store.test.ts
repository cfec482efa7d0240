import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ClusterStore, objectKey } from './store.js'
import { ETCD_SKIP, startTestEtcd } from './testing/etcd-fixture.js'
import { makeService, makeTask, makeNode } from './testing/objects.js'
import { defaultSwarmSpec, type Cluster } from './types.js'
import type { WatchEvent } from './store.js'

let fx: Awaited<ReturnType<typeof startTestEtcd>> | undefined
let store: ClusterStore

before(async () => {
  if (ETCD_SKIP) return
  fx = await startTestEtcd('store')
  store = new ClusterStore(fx.member.client)
})
after(async () => {
  await fx?.close()
})

const opts = { skip: ETCD_SKIP }

test('store: create, get, list; the version is the etcd revision', opts, async () => {
  const s = await store.create('services', makeService('web', { id: 'svc1' }))
  assert.ok(s.version.index > 0)
  const got = await store.get('services', 'svc1')
  assert.deepEqual(got, s)
  assert.equal(await store.idByName('services', 'WEB'), 'svc1')
  assert.ok((await store.list('services')).some((x) => x.id === 'svc1'))
  // The version is not stored inside the value.
  const raw = JSON.parse((await fx!.member.client.get(objectKey('services', 'svc1')).string())!)
  assert.equal(raw.version, undefined)
  await assert.rejects(store.get('services', 'nope'), { kind: 'NotFound', message: 'service nope not found' })
})

test('store: names are unique case-insensitively; a rename moves the index', opts, async () => {
  await store.create('services', makeService('api', { id: 'svc2' }))
  await assert.rejects(store.create('services', makeService('API', { id: 'svc3' })), {
    kind: 'Conflict',
    message: 'name conflicts with an existing object: service API already exists',
  })
  assert.equal(await store.find('services', 'svc3'), undefined)
  const cur = await store.get('services', 'svc2')
  cur.spec.name = 'api2'
  await store.update('services', cur, cur.version.index)
  assert.equal(await store.idByName('services', 'api'), undefined)
  assert.equal(await store.idByName('services', 'api2'), 'svc2')
  await store.create('services', makeService('api', { id: 'svc3' }))
  // Secrets have their own name space.
  await store.create('secrets', { id: 'sec1', version: { index: 0 }, createdAt: '', updatedAt: '', spec: { name: 'api', labels: {}, data: 'eA==' } })
})

test('store: a stale version is "update out of sequence" and writes nothing', opts, async () => {
  const a = await store.create('services', makeService('seq', { id: 'svc4' }))
  const b = structuredClone(a)
  a.spec.labels = { who: 'a' }
  const a2 = await store.update('services', a, a.version.index)
  assert.ok(a2.version.index > a.version.index)
  b.spec.labels = { who: 'b' }
  await assert.rejects(store.update('services', b, b.version.index), { kind: 'Conflict', message: 'update out of sequence' })
  assert.deepEqual((await store.get('services', 'svc4')).spec.labels, { who: 'a' })
  await assert.rejects(store.remove('services', 'svc4', a.version.index), { message: 'update out of sequence' })
  await store.remove('services', 'svc4', a2.version.index)
  assert.equal(await store.idByName('services', 'seq'), undefined)
  await assert.rejects(store.remove('services', 'svc4'), { kind: 'NotFound' })
})

test('store: modify retries concurrent writers so none is lost', opts, async () => {
  await store.create('nodes', makeNode('h1', { id: 'n1' }))
  await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      store.modify('nodes', 'n1', (n) => {
        n.spec.labels[`k${i}`] = String(i)
        return n
      }),
    ),
  )
  assert.equal(Object.keys((await store.get('nodes', 'n1')).spec.labels).length, 8)
})

test('store: commit is all or nothing', opts, async () => {
  const svc = makeService('batch', { id: 'svc5' })
  const t1 = makeTask(svc, { id: 'task1' })
  const t2 = makeTask(svc, { id: 'task2' })
  await store.commit([{ op: 'put', kind: 'services', obj: svc, expect: 0 }, { op: 'put', kind: 'tasks', obj: t1, expect: 0 }])
  const cur = await store.get('tasks', 'task1')
  // task1 is stale in the second batch: task2 must not be written either.
  await assert.rejects(
    store.commit([
      { op: 'put', kind: 'tasks', obj: t2, expect: 0 },
      { op: 'put', kind: 'tasks', obj: { ...cur, desiredState: 'shutdown' }, expect: cur.version.index - 1 },
    ]),
    { message: 'update out of sequence' },
  )
  assert.equal(await store.find('tasks', 'task2'), undefined)
  await assert.rejects(store.commit([{ op: 'put', kind: 'tasks', obj: t1, expect: 0 }]), { kind: 'Conflict', message: 'task task1 already exists' })
})

test('store: cluster object is created once; watch delivers changes in order from a revision', opts, async () => {
  const c: Cluster = { id: 'clu1', version: { index: 0 }, createdAt: '', updatedAt: '', spec: defaultSwarmSpec(), rootRotationInProgress: false, dataPathPort: 4789, defaultAddrPool: ['10.0.0.0/8'], subnetSize: 24 }
  const made = await store.putCluster(c, 0)
  await assert.rejects(store.putCluster(c, 0), { kind: 'Unavailable', message: /already part of a swarm/ })
  const { revision } = await store.listAt('tasks')
  const seen: WatchEvent[] = []
  const w = await store.watch(revision + 1, (evs) => seen.push(...evs))
  try {
    const svc = makeService('watched', { id: 'svc6' })
    await store.commit([{ op: 'put', kind: 'services', obj: svc, expect: 0 }, { op: 'put', kind: 'tasks', obj: makeTask(svc, { id: 'task6' }), expect: 0 }])
    await store.putCluster({ ...made, spec: { ...made.spec, name: 'x' } }, made.version.index)
    await store.remove('tasks', 'task6')
    const deadline = Date.now() + 5000
    while (seen.filter((e) => e.kind !== 'alive').length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    const brief = seen.map((e) => `${e.type} ${e.kind} ${e.id}`)
    assert.deepEqual(brief, ['put services svc6', 'put tasks task6', 'put cluster cluster', 'delete tasks task6'])
    assert.equal((seen[1]!.obj as { version: { index: number } }).version.index, seen[1]!.revision)
  } finally {
    await w.cancel()
  }
})

test('store: a commit guarded by a leader key applies only while that key exists', opts, async () => {
  const svc = makeService('fenced', { id: 'svc7' })
  await fx!.member.client.put('/berth/test-leader').value('me')
  await store.commit([{ op: 'put', kind: 'services', obj: svc, expect: 0 }], { guardKey: '/berth/test-leader' })
  await fx!.member.client.delete().key('/berth/test-leader')
  await assert.rejects(store.commit([{ op: 'put', kind: 'tasks', obj: makeTask(svc, { id: 'task7' }), expect: 0 }], { guardKey: '/berth/test-leader' }), {
    code: 'ERR_SWARM_NOT_LEADER',
    message: 'this manager is no longer the leader',
  })
  assert.equal(await store.find('tasks', 'task7'), undefined)
})

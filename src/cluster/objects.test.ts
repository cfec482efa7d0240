import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ClusterObjects } from './objects.js'
import { ClusterStore } from './store.js'
import type { SwarmContext } from './context.js'
import { NOT_A_MANAGER, WORKER_NOT_MANAGER } from './context.js'
import { ETCD_SKIP, startTestEtcd } from './testing/etcd-fixture.js'
import { makeNode, makeServiceSpec, makeTask } from './testing/objects.js'
import type { Network, NodeRole, ServiceSpec } from './types.js'

let fx: Awaited<ReturnType<typeof startTestEtcd>> | undefined
let store: ClusterStore
let role: NodeRole | undefined = 'manager'
let objs: ClusterObjects

const ctx = (): SwarmContext | undefined => role === undefined ? undefined : ({
  nodeId: 'node-m1', role, store, advertiseAddr: '127.0.0.1', swarmAddr: '127.0.0.1:2377', dataPathAddr: '127.0.0.1', dataPathPort: 4789,
  tls: { certPem: '', keyPem: '', caPem: '' },
})

before(async () => {
  if (ETCD_SKIP) return
  fx = await startTestEtcd('objects')
  store = new ClusterStore(fx.member.client)
  objs = new ClusterObjects(ctx)
  await store.create('nodes', makeNode('m1', { id: 'node-m1', role: 'manager' }))
  await store.create('nodes', makeNode('w1', { id: 'node-w1', role: 'worker' }))
  await store.create('nodes', makeNode('w2', { id: 'node-w2', role: 'worker', state: 'down' }))
})
after(async () => {
  await fx?.close()
})

const opts = { skip: ETCD_SKIP }
const spec = (name: string, o: Partial<ServiceSpec> = {}) => makeServiceSpec(name, o)
const b64 = (s: string) => Buffer.from(s).toString('base64')

test('objects: outside swarm mode and on a worker every call is Docker\'s 503', opts, async () => {
  role = undefined
  try {
    await assert.rejects(objs.listServices({}, false), { kind: 'Unavailable', message: NOT_A_MANAGER })
    await assert.rejects(objs.createSecret({ name: 'x', labels: {}, data: '' }), { kind: 'Unavailable', message: NOT_A_MANAGER })
    role = 'worker'
    await assert.rejects(objs.listNodes({}), { kind: 'Unavailable', message: WORKER_NOT_MANAGER })
  } finally {
    role = 'manager'
  }
})

test('objects: create, inspect by ID, prefix and name; not found and ambiguous in moby\'s words', opts, async () => {
  const { id } = await objs.createService(spec('web'), {})
  assert.equal(id.length, 25)
  const v = await objs.inspectService(id)
  assert.equal(v.service.spec.name, 'web')
  assert.equal(v.service.specRevision, 1)
  assert.deepEqual(v.service.endpoint, { spec: { mode: 'vip' }, ports: [], virtualIPs: [] })
  assert.equal((await objs.inspectService('WEB')).service.id, id)
  assert.equal((await objs.inspectService(id.slice(0, 6))).service.id, id)
  await assert.rejects(objs.inspectService('nosuch'), { kind: 'NotFound', message: 'service nosuch not found' })
  // Two services whose IDs share a prefix.
  await store.create('services', { ...(await objs.inspectService(id)).service, id: 'zzprefix1', spec: spec('amb1') })
  await store.create('services', { ...(await objs.inspectService(id)).service, id: 'zzprefix2', spec: spec('amb2') })
  await assert.rejects(objs.inspectService('zzprefix'), { kind: 'InvalidArgument', message: 'service zzprefix is ambiguous (2 matches found)' })
  await objs.removeService('amb1')
  await objs.removeService('zzprefix2')
  await assert.rejects(objs.removeService('amb1'), { kind: 'NotFound', message: 'service amb1 not found' })
  // Names are unique, case-insensitively, in swarmkit's words.
  await assert.rejects(objs.createService(spec('Web'), {}), {
    kind: 'Conflict', message: 'rpc error: code = AlreadyExists desc = name conflicts with an existing object: service Web already exists',
  })
  // An unnamed service gets a generated name, as moby gives one.
  const anon = await objs.createService(spec(''), {})
  assert.match((await objs.inspectService(anon.id)).service.spec.name, /^[a-z]+_[a-z]+\d?$/)
  await objs.removeService(anon.id)
})

test('objects: swarmkit\'s validations', opts, async () => {
  const bad = async (s: ServiceSpec, message: string) => assert.rejects(objs.createService(s, {}), { kind: 'InvalidArgument', message: `rpc error: code = InvalidArgument desc = ${message}` })
  await bad(spec('noimg', { taskTemplate: { containerSpec: { image: '' } } }), 'ContainerSpec: image reference must be provided')
  await bad(spec('badimg', { taskTemplate: { containerSpec: { image: 'Busy Box' } } }), 'ContainerSpec: "Busy Box" is not a valid repository/tag')
  await bad(spec('bad.name'), 'name must be valid as a DNS name component')
  await bad(spec('a'.repeat(64)), 'name must be 63 characters or fewer')
  await bad(spec('neg', { mode: { replicated: { replicas: -1 } } }), 'Number of replicas must be non-negative')
  await bad(spec('mnt', { taskTemplate: { containerSpec: { image: 'busybox', mounts: [{ type: 'volume', target: '/d' }, { type: 'tmpfs', target: '/d' }] } } }), 'ContainerSpec: duplicate mount point: /d')
  await bad(spec('cons', { taskTemplate: { containerSpec: { image: 'busybox' }, placement: { constraints: ['node.role'] } } }), 'constraint expected one operator from ==, !=')
  await bad(spec('dns', { endpointSpec: { mode: 'dnsrr', ports: [{ protocol: 'tcp', targetPort: 80, publishMode: 'ingress' }] } }), "EndpointSpec: port published with ingress mode can't be used with dnsrr mode")
  await bad(spec('mem', { taskTemplate: { containerSpec: { image: 'busybox' }, resources: { limits: { memoryBytes: 1024 } } } }), 'invalid memory value 1024: Must be at least 4MiB')
  await bad(spec('ratio', { updateConfig: { maxFailureRatio: 2 } }), 'TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1')
  await assert.rejects(objs.inspectService('noimg'), { kind: 'NotFound' })
})

test('objects: update needs the current version, bumps specRevision when the task template or endpoint changes (ForceUpdate too, not on scale), keeps previousSpec; rollback', opts, async () => {
  const { id } = await objs.createService(spec('upd', { mode: { replicated: { replicas: 1 } } }), {})
  const v1 = (await objs.inspectService(id)).service
  // Scaling keeps the revision (no task is replaced), as swarmkit's IsTaskDirty.
  await objs.updateService(id, spec('upd', { mode: { replicated: { replicas: 3 } } }), { version: v1.version.index })
  const v1b = (await objs.inspectService(id)).service
  assert.equal(v1b.specRevision, 1)
  assert.deepEqual(v1b.spec.mode, { replicated: { replicas: 3 } })
  await objs.updateService(id, spec('upd', { mode: { replicated: { replicas: 3 } }, taskTemplate: { containerSpec: { image: 'busybox', env: ['A=1'] } } }), { version: v1b.version.index })
  const v2 = (await objs.inspectService(id)).service
  assert.equal(v2.specRevision, 2)
  assert.deepEqual(v2.previousSpec, v1b.spec)
  assert.ok(v2.version.index > v1b.version.index)
  // A stale version: Docker's 500.
  await assert.rejects(objs.updateService(id, spec('upd', { mode: { replicated: { replicas: 4 } } }), { version: v1.version.index }), {
    kind: 'Internal', message: 'rpc error: code = Unknown desc = update out of sequence',
  })
  // The same spec again: no new revision (nothing to roll out).
  await objs.updateService(id, v2.spec, { version: v2.version.index })
  const v3 = (await objs.inspectService(id)).service
  assert.equal(v3.specRevision, 2)
  // ForceUpdate changes are spec changes.
  const forced = structuredClone(v3.spec)
  forced.taskTemplate.forceUpdate = 1
  await objs.updateService(id, forced, { version: v3.version.index })
  const v4 = (await objs.inspectService(id)).service
  assert.equal(v4.specRevision, 3)
  // Renames and mode changes are refused, as swarmkit does.
  await assert.rejects(objs.updateService(id, spec('other'), { version: v4.version.index }), { kind: 'NotImplemented', message: 'rpc error: code = Unimplemented desc = renaming services is not supported' })
  await assert.rejects(objs.updateService(id, spec('upd', { mode: { global: {} } }), { version: v4.version.index }), { message: 'rpc error: code = Unimplemented desc = service mode change is not allowed' })
  // Rollback: spec := previousSpec, with swarmkit's status.
  await objs.updateService(id, spec('upd', { mode: { replicated: { replicas: 5 } } }), { version: v4.version.index })
  const v5 = (await objs.inspectService(id)).service
  assert.equal(v5.specRevision, 4)
  await objs.updateService(id, v5.spec, { version: v5.version.index, rollback: true })
  const v6 = (await objs.inspectService(id)).service
  assert.deepEqual(v6.spec, v4.spec)
  assert.deepEqual(v6.previousSpec, v5.spec)
  assert.equal(v6.specRevision, v5.specRevision + 1)
  assert.equal(v6.updateStatus?.state, 'rollback_started')
  assert.equal(v6.updateStatus?.message, 'manually requested rollback')
  // A service never updated has nothing to roll back to.
  const fresh = await objs.createService(spec('fresh'), {})
  const f1 = (await objs.inspectService(fresh.id)).service
  await assert.rejects(objs.updateService(fresh.id, f1.spec, { version: f1.version.index, rollback: true }), {
    kind: 'InvalidArgument', message: `rpc error: code = FailedPrecondition desc = service ${fresh.id} does not have a previous spec`,
  })
})

test('objects: ingress ports get 30000+ when unpublished, unique across services; a clash is swarmkit\'s error; an update keeps the port', opts, async () => {
  const a = await objs.createService(spec('porta', { endpointSpec: { mode: 'vip', ports: [{ protocol: 'tcp', targetPort: 80, publishMode: 'ingress' }] } }), {})
  const b = await objs.createService(spec('portb', { endpointSpec: { mode: 'vip', ports: [{ protocol: 'tcp', targetPort: 80, publishMode: 'ingress' }, { protocol: 'tcp', targetPort: 81, publishedPort: 8080, publishMode: 'ingress' }] } }), {})
  const pa = (await objs.inspectService(a.id)).service.endpoint!.ports
  const pb = (await objs.inspectService(b.id)).service.endpoint!.ports
  assert.deepEqual(pa.map((p) => p.publishedPort), [30000])
  assert.deepEqual(pb.map((p) => p.publishedPort), [30001, 8080])
  await assert.rejects(objs.createService(spec('portc', { endpointSpec: { mode: 'vip', ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'ingress' }] } }), {}), {
    kind: 'InvalidArgument', message: `rpc error: code = InvalidArgument desc = port '8080' is already in use by service 'portb' (${b.id}) as an ingress port`,
  })
  // The same port over UDP is free.
  const u = await objs.createService(spec('portu', { endpointSpec: { mode: 'vip', ports: [{ protocol: 'udp', targetPort: 53, publishedPort: 8080, publishMode: 'ingress' }] } }), {})
  const sa = (await objs.inspectService(a.id)).service
  await objs.updateService(a.id, { ...sa.spec, labels: { x: 'y' } }, { version: sa.version.index })
  assert.deepEqual((await objs.inspectService(a.id)).service.endpoint!.ports.map((p) => p.publishedPort), [30000])
  for (const id of [a.id, b.id, u.id]) await objs.removeService(id)
})

test('objects: secrets and configs: names, data, references by name, in-use removal, label-only updates', opts, async () => {
  const sid = await objs.createSecret({ name: 'db_pass', labels: { a: 'b' }, data: b64('s3cret') })
  await assert.rejects(objs.createSecret({ name: 'db_pass', labels: {}, data: b64('x') }), { kind: 'Conflict', message: 'rpc error: code = AlreadyExists desc = secret db_pass already exists' })
  await assert.rejects(objs.createSecret({ name: '-bad', labels: {}, data: b64('x') }), {
    message: 'rpc error: code = InvalidArgument desc = invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]',
  })
  await assert.rejects(objs.createSecret({ name: 'empty', labels: {}, data: '' }), { message: 'rpc error: code = InvalidArgument desc = secret data must be larger than 0 and less than 512000 bytes' })
  const cid = await objs.createConfig({ name: 'app.conf', labels: {}, data: b64('k=v') })
  assert.equal((await objs.inspectConfig('app.conf')).spec.data, b64('k=v'))
  assert.equal((await objs.inspectSecret(sid.slice(0, 5))).id, sid)

  // References by name are resolved to IDs; a missing one is swarmkit's error.
  const file = { name: 'db_pass', uid: '0', gid: '0', mode: 0o444 }
  const { id } = await objs.createService(spec('usesec', {
    taskTemplate: { containerSpec: { image: 'busybox', secrets: [{ secretId: '', secretName: 'db_pass', file }], configs: [{ configId: '', configName: 'app.conf', file: { ...file, name: '/app.conf' } }] } },
  }), {})
  const cs = (await objs.inspectService(id)).service.spec.taskTemplate.containerSpec
  assert.equal(cs.secrets?.[0]?.secretId, sid)
  assert.equal(cs.configs?.[0]?.configId, cid)
  await assert.rejects(objs.createService(spec('nosec', { taskTemplate: { containerSpec: { image: 'busybox', secrets: [{ secretId: '', secretName: 'nope', file }] } } }), {}), {
    message: 'rpc error: code = InvalidArgument desc = secret not found: nope',
  })
  await assert.rejects(objs.removeSecret('db_pass'), { kind: 'InvalidArgument', message: "rpc error: code = InvalidArgument desc = secret 'db_pass' is in use by the following service: usesec" })
  await assert.rejects(objs.removeConfig(cid), { message: "rpc error: code = InvalidArgument desc = config 'app.conf' is in use by the following service: usesec" })

  // Updates: labels only.
  const s1 = await objs.inspectSecret(sid)
  await objs.updateSecret(sid, s1.version.index, { name: 'db_pass', labels: { c: 'd' }, data: '' })
  assert.deepEqual((await objs.inspectSecret(sid)).spec.labels, { c: 'd' })
  const s2 = await objs.inspectSecret(sid)
  await assert.rejects(objs.updateSecret(sid, s2.version.index, { name: 'db_pass', labels: {}, data: b64('other') }), { message: 'rpc error: code = InvalidArgument desc = only updates to Labels are allowed' })
  await assert.rejects(objs.updateSecret(sid, s1.version.index, { name: 'db_pass', labels: {}, data: '' }), { message: 'rpc error: code = Unknown desc = update out of sequence' })

  assert.deepEqual((await objs.listSecrets({ name: ['db'] })).map((s) => s.id), [sid])
  assert.deepEqual(await objs.listSecrets({ names: ['db'] }), [])
  assert.deepEqual((await objs.listSecrets({ label: ['c=d'] })).map((s) => s.id), [sid])
  await objs.removeService(id)
  await objs.removeSecret(sid)
  await objs.removeConfig('app.conf')
  await assert.rejects(objs.inspectSecret(sid), { kind: 'NotFound', message: `secret ${sid} not found` })
})

test('objects: networks by name or ID become IDs; unknown and ingress ones refused', opts, async () => {
  const net: Network = {
    id: 'net-overlay-1', version: { index: 0 }, createdAt: '', updatedAt: '', vni: 4097,
    spec: { name: 'backend', labels: {}, driver: 'overlay', options: {}, attachable: false, ingress: false, internal: false, ipam: { driver: 'default', config: [] } },
  }
  await store.create('networks', net)
  await store.create('networks', { ...net, id: 'net-ingress', vni: 4096, spec: { ...net.spec, name: 'ingress', ingress: true } })
  const { id } = await objs.createService(spec('netsvc', { taskTemplate: { containerSpec: { image: 'busybox' }, networks: [{ target: 'backend', aliases: ['db'] }] } }), {})
  assert.deepEqual((await objs.inspectService(id)).service.spec.taskTemplate.networks, [{ target: 'net-overlay-1', aliases: ['db'] }])
  await assert.rejects(objs.createService(spec('netx', { taskTemplate: { containerSpec: { image: 'busybox' }, networks: [{ target: 'nope' }] } }), {}), { kind: 'NotFound', message: 'network nope not found' })
  await assert.rejects(objs.createService(spec('neti', { taskTemplate: { containerSpec: { image: 'busybox' }, networks: [{ target: 'ingress' }] } }), {}), {
    message: 'rpc error: code = InvalidArgument desc = Service cannot be explicitly attached to the ingress network "ingress"',
  })
  await objs.removeService(id)
})

test('objects: list filters, task filters (service by name, node, desired state, up to date) and ServiceStatus', opts, async () => {
  const a = await objs.createService(spec('flt-a', { labels: { tier: 'web' }, mode: { replicated: { replicas: 2 } } }), {})
  const g = await objs.createService(spec('flt-g', { mode: { global: {} } }), {})
  const sa = (await objs.inspectService(a.id)).service
  const sg = (await objs.inspectService(g.id)).service
  await store.create('tasks', makeTask(sa, { id: 'task-a1', slot: 1, nodeId: 'node-w1', state: 'running' }))
  await store.create('tasks', makeTask(sa, { id: 'task-a2', slot: 2, nodeId: 'node-m1', state: 'pending' }))
  await store.create('tasks', makeTask(sa, { id: 'task-a0', slot: 1, nodeId: 'node-w1', state: 'shutdown', desired: 'shutdown', specRevision: 0 }))
  await store.create('tasks', makeTask(sg, { id: 'task-g1', nodeId: 'node-w1', state: 'running', slot: 0 }))
  await store.create('tasks', makeTask(sg, { id: 'task-g2', nodeId: 'node-m1', state: 'running', slot: 0 }))

  const names = async (f: Parameters<ClusterObjects['listServices']>[0]) => (await objs.listServices(f, false)).map((v) => v.service.spec.name).sort()
  assert.deepEqual(await names({ name: ['flt-'] }), ['flt-a', 'flt-g'])
  assert.deepEqual(await names({ name: ['flt-'], mode: ['global'] }), ['flt-g'])
  assert.deepEqual(await names({ label: ['tier=web'] }), ['flt-a'])
  assert.deepEqual(await names({ id: [a.id.slice(0, 8)] }), ['flt-a'])

  const ids = async (f: Parameters<ClusterObjects['listTasks']>[0]) => (await objs.listTasks(f)).map((t) => t.id).sort()
  assert.deepEqual(await ids({ service: ['flt-a'] }), ['task-a0', 'task-a1', 'task-a2'])
  assert.deepEqual(await ids({ service: ['flt-a'], 'desired-state': ['running'] }), ['task-a1', 'task-a2'])
  assert.deepEqual(await ids({ service: ['flt-a'], '_up-to-date': ['true'] }), ['task-a1', 'task-a2'])
  assert.deepEqual(await ids({ node: ['w1'] }), ['task-a0', 'task-a1', 'task-g1'])
  assert.deepEqual(await ids({ name: ['flt-a.1.'] }), ['task-a0', 'task-a1'])
  await assert.rejects(objs.listTasks({ service: ['nope'] }), { kind: 'NotFound', message: 'service nope not found' })
  await assert.rejects(objs.listTasks({ 'desired-state': ['bogus'] }), { message: 'Invalid task desired state: bogus' })
  assert.equal((await objs.inspectTask('task-a1')).serviceId, a.id)
  assert.equal((await objs.inspectTask(`flt-a.2.task-a2`)).id, 'task-a2')

  const st = new Map((await objs.listServices({ name: ['flt-'] }, true)).map((v) => [v.service.spec.name, v.serviceStatus]))
  assert.deepEqual(st.get('flt-a'), { runningTasks: 1, desiredTasks: 2, completedTasks: 0 })
  assert.deepEqual(st.get('flt-g'), { runningTasks: 2, desiredTasks: 2, completedTasks: 0 })
  assert.equal((await objs.listServices({}, false))[0]?.serviceStatus, undefined)
  for (const id of ['task-a0', 'task-a1', 'task-a2', 'task-g1', 'task-g2']) await store.remove('tasks', id)
  await objs.removeService(a.id)
  await objs.removeService(g.id)
})

test('objects: nodes: lookups by hostname, update with version, last manager, removal of a live node', opts, async () => {
  assert.deepEqual((await objs.listNodes({ role: ['manager'] })).map((n) => n.id), ['node-m1'])
  assert.deepEqual((await objs.listNodes({ name: ['w'] })).map((n) => n.id).sort(), ['node-w1', 'node-w2'])
  const w1 = await objs.inspectNode('w1')
  assert.equal(w1.id, 'node-w1')
  await objs.updateNode('node-w1', w1.version.index, { labels: { zone: 'a' }, role: 'worker', availability: 'drain' })
  const w1b = await objs.inspectNode('node-w1')
  assert.equal(w1b.spec.availability, 'drain')
  assert.deepEqual((await objs.listNodes({ 'node.label': ['zone=a'] })).map((n) => n.id), ['node-w1'])
  await assert.rejects(objs.updateNode('node-w1', w1.version.index, { labels: {}, role: 'worker', availability: 'active' }), { message: 'rpc error: code = Unknown desc = update out of sequence' })
  const m1 = await objs.inspectNode('m1')
  await assert.rejects(objs.updateNode('m1', m1.version.index, { labels: {}, role: 'worker', availability: 'active' }), {
    message: 'rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm',
  })
  await assert.rejects(objs.removeNode('w1', false), { kind: 'InvalidArgument', message: "rpc error: code = FailedPrecondition desc = node node-w1 is not down and can't be removed" })
  await assert.rejects(objs.removeNode('m1', true), { message: 'rpc error: code = FailedPrecondition desc = node node-m1 is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal' })
  await objs.removeNode('w2', false)
  await objs.removeNode('w1', true)
  await assert.rejects(objs.inspectNode('w1'), { kind: 'NotFound', message: 'node w1 not found' })
})

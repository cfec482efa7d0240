import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Agent, LABEL, UNHEALTHY, containerSpecForTask, fileTarget } from './agent.js'
import { ClusterStore, ALIVE_PREFIX } from './store.js'
import { ETCD_SKIP, startTestEtcd } from './testing/etcd-fixture.js'
import { FakeEngine } from './testing/fake-engine.js'
import { makeNode, makeService, makeTask } from './testing/objects.js'
import type { ContainerSpec, Mount, Network, Task, TaskState } from './types.js'

let fx: Awaited<ReturnType<typeof startTestEtcd>> | undefined
let store: ClusterStore
const agents: Agent[] = []

before(async () => {
  if (ETCD_SKIP) return
  fx = await startTestEtcd('agent')
  store = new ClusterStore(fx.member.client)
})
after(async () => {
  for (const a of agents) await a.stop({ revoke: true }).catch(() => undefined)
  await fx?.close()
})

const opts = { skip: ETCD_SKIP, timeout: 30_000 }

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function stateIs(id: string, s: TaskState) {
  return async () => {
    const t = await store.find('tasks', id)
    return t?.status.state === s ? t : undefined
  }
}

async function startAgent(nodeId: string, engine: FakeEngine): Promise<Agent> {
  const a = new Agent({ nodeId, store, engine, pollMs: 50 })
  agents.push(a)
  await a.start()
  return a
}

function assignedTask(nodeId: string, o: Partial<Task> = {}): Task {
  const svc = makeService('web', { id: 'svcweb', taskTemplate: { containerSpec: { image: 'busybox', args: ['httpd', '-f'], labels: { app: 'web' }, stopGracePeriod: 3e9 } } })
  const t = makeTask(svc, { nodeId, slot: 2, state: 'assigned' })
  return { ...t, ...o }
}

test('task container spec: Docker\'s name and com.docker.swarm labels', () => {
  const t = assignedTask('node1', { id: 'abc' })
  const spec = containerSpecForTask(t)
  assert.equal(spec.name, 'web.2.abc')
  assert.deepEqual(spec.labels, {
    app: 'web',
    'com.docker.swarm.node.id': 'node1',
    'com.docker.swarm.service.id': 'svcweb',
    'com.docker.swarm.service.name': 'web',
    'com.docker.swarm.task': '',
    'com.docker.swarm.task.id': 'abc',
    'com.docker.swarm.task.name': 'web.2.abc',
  })
  assert.deepEqual(spec.cmd, ['httpd', '-f'])
  assert.equal(spec.stopTimeoutSeconds, 3)
  assert.equal(containerSpecForTask({ ...t, slot: 0 }).name, 'web.node1.abc')
})

test('agent: runs an assigned task, reports running, then a non-zero exit as failed', opts, async () => {
  await store.create('nodes', makeNode('h1', { id: 'node1' }))
  const engine = new FakeEngine()
  const agent = await startAgent('node1', engine)
  assert.ok(await fx!.member.client.get(`${ALIVE_PREFIX}node1`).string(), 'heartbeat key present')
  const t = await store.create('tasks', assignedTask('node1'))
  const running = await until('running', stateIs(t.id, 'running'))
  assert.equal(running.status.message, 'started')
  const ctr = engine.running()[0]!
  assert.equal(ctr.name, `web.2.${t.id}`)
  assert.equal(running.status.containerStatus?.containerId, ctr.id)
  // A task for another node is not touched.
  const other = await store.create('tasks', assignedTask('node2'))
  engine.exit(ctr.id, 3)
  const failed = await until('failed', stateIs(t.id, 'failed'))
  assert.equal(failed.status.err, 'task: non-zero exit (3)')
  assert.equal(failed.status.containerStatus?.exitCode, 3)
  assert.equal((await store.get('tasks', other.id)).status.state, 'assigned')
  assert.equal(engine.calls.filter((c) => c.startsWith('create')).length, 1)
  await agent.stop({ revoke: true })
  assert.equal(await fx!.member.client.get(`${ALIVE_PREFIX}node1`).string(), null, 'a clean stop revokes the heartbeat')
})

test('agent: desired shutdown stops the container with the grace period; remove deletes it', opts, async () => {
  const engine = new FakeEngine()
  const agent = await startAgent('node3', engine)
  const t = await store.create('tasks', assignedTask('node3'))
  await until('running', stateIs(t.id, 'running'))
  await store.modify('tasks', t.id, (x) => ({ ...x, desiredState: 'shutdown' }))
  const down = await until('shutdown', stateIs(t.id, 'shutdown'))
  assert.equal(down.status.containerStatus?.exitCode, 143)
  assert.ok(engine.calls.some((c) => /^stop c\d+ 3$/.test(c)))
  assert.equal(engine.containers.size, 1, 'a shut down task keeps its container (history)')
  await store.remove('tasks', t.id)
  await until('container removed', async () => engine.containers.size === 0)
  await agent.stop({ revoke: true })
})

test('agent: a create failure is rejected; notBefore delays the start', opts, async () => {
  const engine = new FakeEngine()
  engine.failCreate = 'No such image: nope:latest'
  const agent = await startAgent('node4', engine)
  const t = await store.create('tasks', assignedTask('node4'))
  const rej = await until('rejected', stateIs(t.id, 'rejected'))
  assert.equal(rej.status.err, 'No such image: nope:latest')
  engine.failCreate = undefined
  const later = await store.create('tasks', assignedTask('node4', { notBefore: Date.now() + 700 }))
  await until('accepted', stateIs(later.id, 'accepted'))
  assert.equal(engine.running().length, 0)
  const r = await until('running after delay', stateIs(later.id, 'running'))
  assert.ok(Date.parse(r.status.timestamp) >= later.notBefore! - 5)
  await agent.stop({ revoke: true })
})

test('agent: after a restart it adopts its containers, stops stale tasks and removes strays, running nothing twice', opts, async () => {
  const engine = new FakeEngine()
  const first = await startAgent('node5', engine)
  const keep = await store.create('tasks', assignedTask('node5'))
  const stale = await store.create('tasks', assignedTask('node5'))
  const gone = await store.create('tasks', assignedTask('node5'))
  for (const t of [keep, stale, gone]) await until('running', stateIs(t.id, 'running'))
  // berthd dies (no revoke); while the node is away the managers reschedule.
  await first.stop()
  await store.modify('tasks', stale.id, (x) => ({ ...x, desiredState: 'shutdown' }))
  await store.remove('tasks', gone.id)
  const second = await startAgent('node5', engine)
  await until('stale stopped', stateIs(stale.id, 'shutdown'))
  assert.equal(engine.running().length, 1)
  assert.equal(engine.running()[0]!.labels[LABEL.taskId], keep.id)
  assert.equal([...engine.containers.values()].some((c) => c.labels[LABEL.taskId] === gone.id), false)
  assert.equal(engine.calls.filter((c) => c.startsWith('create')).length, 3, 'no container created twice')
  assert.equal((await store.get('tasks', keep.id)).status.state, 'running')
  await second.stop({ revoke: true })
})

test('agent: a task left preparing with no container (berthd died between the write and the create) is run after a restart', opts, async () => {
  const engine = new FakeEngine()
  const left = assignedTask('node9')
  const t = await store.create('tasks', { ...left, status: { ...left.status, state: 'preparing', message: 'preparing' } })
  assert.equal(engine.containers.size, 0)
  const agent = await startAgent('node9', engine)
  const r = await until('running', stateIs(t.id, 'running'))
  assert.equal(engine.running().length, 1)
  assert.equal(engine.running()[0]!.labels[LABEL.taskId], t.id)
  assert.equal(r.status.containerStatus?.containerId, engine.running()[0]!.id)
  assert.equal(engine.calls.filter((c) => c.startsWith('create')).length, 1)
  await agent.stop({ revoke: true })
})

test('agent: the heartbeat key outlives a berthd blip and disappears after the lease when the agent dies', opts, async () => {
  const engine = new FakeEngine()
  const a = await startAgent('node6', engine)
  const key = `${ALIVE_PREFIX}node6`
  await a.stop() // dies without revoking
  const b = await startAgent('node6', engine) // back within the TTL: the key never went away
  assert.ok(await fx!.member.client.get(key).string())
  const t0 = Date.now()
  await b.stop()
  await until('key expired', async () => (await fx!.member.client.get(key).string()) === null, 6000)
  const gone = Date.now() - t0
  assert.ok(gone <= 3500, `alive key expired ${gone} ms after the agent stopped`)
})

test('agent: a task with a healthcheck is starting until healthy, then running; unhealthy stops it and fails it', opts, async () => {
  const engine = new FakeEngine()
  const agent = await startAgent('node7', engine)
  const base = assignedTask('node7')
  const t = await store.create('tasks', { ...base, spec: { ...base.spec, containerSpec: { ...base.spec.containerSpec, healthCheck: { test: ['CMD', 'true'], interval: 1e9 } } } })
  const starting = await until('starting', stateIs(t.id, 'starting'))
  const id = starting.status.containerStatus!.containerId
  const probing = (cid: string) => async () => engine.containers.get(cid)?.health === 'starting'
  await until('container started', probing(id))
  await new Promise((r) => setTimeout(r, 200)) // several polls: still starting while the healthcheck has no verdict
  assert.equal((await store.get('tasks', t.id)).status.state, 'starting')
  engine.setHealth(id, 'healthy')
  const running = await until('running', stateIs(t.id, 'running'))
  assert.equal(running.status.message, 'started')
  engine.setHealth(id, 'unhealthy')
  const failed = await until('failed', stateIs(t.id, 'failed'))
  assert.equal(failed.status.err, `task: non-zero exit (143): ${UNHEALTHY}`)
  assert.equal(failed.status.err, 'task: non-zero exit (143): dockerexec: unhealthy container')
  assert.ok(engine.calls.includes(`stop ${id} 3`), 'stopped with the grace period')
  // Unhealthy before it was ever healthy: the same.
  const t2 = await store.create('tasks', { ...base, id: 'hc2', spec: { ...base.spec, containerSpec: { ...base.spec.containerSpec, healthCheck: { test: ['CMD', 'false'] } } } })
  const s2 = await until('starting', stateIs(t2.id, 'starting'))
  await until('container started', probing(s2.status.containerStatus!.containerId))
  engine.setHealth(s2.status.containerStatus!.containerId, 'unhealthy')
  const f2 = await until('failed', stateIs(t2.id, 'failed'))
  assert.match(f2.status.err ?? '', /^task: non-zero exit \(143\): dockerexec: unhealthy container$/)
  await agent.stop({ revoke: true })
})

test('agent: the container spec carries the secrets and configs (data from the store), networks and host ports', opts, async () => {
  const sec = await store.create('secrets', { id: 'sec1', version: { index: 0 }, createdAt: '', updatedAt: '', spec: { name: 'pw', labels: {}, data: Buffer.from('s3cret').toString('base64') } })
  const cfg = await store.create('configs', { id: 'cfg1', version: { index: 0 }, createdAt: '', updatedAt: '', spec: { name: 'app.conf', labels: {}, data: Buffer.from('k=v\n').toString('base64') } })
  const net: Network = { id: 'net1', version: { index: 0 }, createdAt: '', updatedAt: '', vni: 4097, spec: { name: 'backend', labels: {}, driver: 'overlay', options: {}, attachable: false, ingress: false, internal: false, ipam: { driver: 'default', config: [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1' }] } } }
  await store.create('networks', net)
  await store.create('services', makeService('api', { id: 'svcapi', endpointSpec: { mode: 'vip', ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' }, { protocol: 'udp', targetPort: 53, publishMode: 'host' }, { protocol: 'tcp', targetPort: 443, publishedPort: 443, publishMode: 'ingress' }] } }))
  const svc = makeService('api', { id: 'svcapi', taskTemplate: {
    containerSpec: {
      image: 'busybox', args: ['sleep', '60'],
      secrets: [{ secretId: sec.id, secretName: 'pw', file: { name: 'pw', uid: '1000', gid: '2000', mode: 0o400 } }, { secretId: sec.id, secretName: 'pw', file: { name: '/etc/pw', uid: '0', gid: '0', mode: 0o444 } }],
      configs: [{ configId: cfg.id, configName: 'app.conf', file: { name: 'app.conf', uid: '0', gid: '0', mode: 0o444 } }],
      hosts: ['10.1.2.3 db.local alias'], dnsConfig: { nameservers: ['1.1.1.1'] }, capabilityAdd: ['NET_ADMIN'], readOnly: true,
      mounts: [{ type: 'tmpfs', target: '/t', tmpfsOptions: { sizeBytes: 1 << 20 } } as Mount],
    } as ContainerSpec,
    networks: [{ target: 'backend', aliases: ['db'] }],
  } })
  await store.modify('services', 'svcapi', (x) => Object.assign(x, { registryAuth: { username: 'u', password: 'p', serveraddress: 'reg.example:5000' } }))
  const engine = new FakeEngine()
  const agent = await startAgent('node8', engine)
  const t = await store.create('tasks', { ...makeTask(svc, { nodeId: 'node8', slot: 1, state: 'assigned' }), networksAttachments: [{ networkId: 'net1', addresses: ['10.0.1.5/24'] }] })
  await until('running', stateIs(t.id, 'running'))
  const spec = engine.running()[0]!.spec
  assert.deepEqual(spec.files.map((f) => [f.kind, f.target, f.uid, f.gid, f.mode, f.data.toString()]), [
    ['secret', '/run/secrets/pw', 1000, 2000, 0o400, 's3cret'],
    ['secret', '/etc/pw', 0, 0, 0o444, 's3cret'],
    ['config', '/app.conf', 0, 0, 0o444, 'k=v\n'],
  ])
  assert.equal(spec.networks.length, 1)
  assert.equal(spec.networks[0]!.network.id, 'net1')
  assert.equal(spec.networks[0]!.address, '10.0.1.5/24')
  assert.deepEqual(spec.networks[0]!.aliases, ['db'])
  assert.deepEqual(spec.hostPorts, [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080 }, { protocol: 'udp', targetPort: 53 }])
  assert.deepEqual(spec.registryAuth, { username: 'u', password: 'p', serveraddress: 'reg.example:5000' }, 'the service\'s credentials (Service.registryAuth)')
  assert.deepEqual(spec.extraHosts, ['db.local:10.1.2.3'])
  assert.deepEqual(spec.dns, { nameservers: ['1.1.1.1'], search: [], options: [] })
  assert.deepEqual(spec.capAdd, ['NET_ADMIN'])
  assert.equal(spec.readOnly, true)
  assert.deepEqual(spec.mounts, [{ type: 'tmpfs', target: '/t', tmpfsOptions: { sizeBytes: 1 << 20 } }])
  assert.equal(fileTarget('config', '/abs/x'), '/abs/x')
  // A secret that is gone from the store: rejected in dockerd's words.
  const bad = makeService('api', { id: 'svcapi', taskTemplate: { containerSpec: { image: 'busybox', secrets: [{ secretId: 'nosuch', secretName: 'x', file: { name: 'x', uid: '0', gid: '0', mode: 0o444 } }] } } })
  const t2 = await store.create('tasks', makeTask(bad, { nodeId: 'node8', slot: 2, state: 'assigned' }))
  const rej = await until('rejected', stateIs(t2.id, 'rejected'))
  assert.equal(rej.status.err, 'unable to get secret from secret store: secret nosuch not found')
  await agent.stop({ revoke: true })
})

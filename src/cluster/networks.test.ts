import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ClusterNetworks, ensureIngressNetwork } from './networks.js'
import { Manager } from './manager.js'
import { ClusterStore } from './store.js'
import { ETCD_SKIP, startTestEtcd } from './testing/etcd-fixture.js'
import { makeService, makeTask } from './testing/objects.js'
import type { SwarmContext } from './context.js'
import type { NetworkSpec } from './types.js'

let fx: Awaited<ReturnType<typeof startTestEtcd>> | undefined
let store: ClusterStore
let mgr: Manager | undefined

before(async () => {
  if (ETCD_SKIP) return
  fx = await startTestEtcd('networks')
  store = new ClusterStore(fx.member.client)
})
after(async () => {
  await mgr?.stop()
  await fx?.close()
})

const spec = (name: string, o: Partial<NetworkSpec> = {}) => ({ name, labels: {}, driver: 'overlay' as const, options: {}, attachable: false, ingress: false, internal: false, ipam: { driver: 'default', config: [] }, ...o })

async function rejects(p: Promise<unknown>, kind: string, message: string): Promise<void> {
  await assert.rejects(p, (err: Error & { kind?: string }) => {
    assert.equal(err.message, message)
    assert.equal(err.kind, kind)
    return true
  })
}

test('swarm networks: 503 outside swarm and on a worker; ingress at init; create, list, inspect, remove with Docker\'s errors', { skip: ETCD_SKIP, timeout: 60_000 }, async () => {
  await rejects(new ClusterNetworks(() => undefined).listSwarmNetworks(), 'Unavailable', 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.')
  const ctx = { nodeId: 'm1', role: 'manager', store } as unknown as SwarmContext
  await rejects(new ClusterNetworks(() => ({ ...ctx, role: 'worker' })).inspectSwarmNetwork('x'), 'Unavailable', "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.")

  const ingId = await ensureIngressNetwork(store)
  assert.equal(await ensureIngressNetwork(store), ingId)
  mgr = new Manager({ nodeId: 'm1', store })
  mgr.start()
  await mgr.whenLeader()
  const nets = new ClusterNetworks(() => ctx)
  const ing = await nets.inspectSwarmNetwork('ingress')
  assert.deepEqual([ing.id, ing.vni, ing.spec.ingress, ing.spec.ipam.config], [ingId, 4096, true, [{ subnet: '10.0.0.0/24', gateway: '10.0.0.1' }]])

  const id = await nets.createSwarmNetwork(spec('front', { attachable: true, labels: { a: 'b' } }))
  const front = await nets.inspectSwarmNetwork(id.slice(0, 6))
  assert.equal(front.spec.name, 'front')
  assert.equal(front.spec.attachable, true)
  assert.equal(front.vni, 4097, 'the allocator gave the VNI before create returned')
  assert.deepEqual(front.spec.ipam.config, [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1' }])
  assert.equal(front.spec.options['com.docker.network.driver.overlay.vxlanid_list'], '4097')
  const back = await nets.inspectSwarmNetwork(await nets.createSwarmNetwork(spec('back', { ipam: { driver: 'default', config: [{ subnet: '192.168.77.0/24', gateway: '192.168.77.254' }] } })))
  assert.deepEqual(back.spec.ipam.config, [{ subnet: '192.168.77.0/24', gateway: '192.168.77.254' }])
  assert.deepEqual((await nets.listSwarmNetworks()).map((n) => n.spec.name), ['ingress', 'front', 'back'])

  await rejects(nets.createSwarmNetwork(spec('front')), 'Conflict', 'network with name front already exists')
  await rejects(nets.createSwarmNetwork(spec('bad name')), 'InvalidArgument', 'rpc error: code = InvalidArgument desc = name must be valid as a DNS name component')
  await rejects(nets.createSwarmNetwork(spec('host')), 'Forbidden', 'operation is not permitted on predefined host network ')
  await rejects(nets.createSwarmNetwork(spec('x', { ipam: { driver: 'default', config: [{ subnet: '10.9.0.0/24', gateway: '10.8.0.1' }] } })), 'InvalidArgument', 'rpc error: code = InvalidArgument desc = ipam configuration: subnet 10.9.0.0/24 does not contain gateway 10.8.0.1')
  await rejects(nets.createSwarmNetwork(spec('x', { ipam: { driver: 'default', config: [{ subnet: '10.0.1.128/25', gateway: '' }] } })), 'Forbidden', 'invalid pool request: Pool overlaps with other one on this address space')
  await rejects(nets.createSwarmNetwork(spec('x', { ingress: true })), 'Conflict', `rpc error: code = AlreadyExists desc = ingress network (${ingId}) is already present`)
  await rejects(nets.inspectSwarmNetwork('nope'), 'NotFound', 'network nope not found')

  // In use by a service (by name in its template), then by a task still running (the manager stopped: it would shut that task down).
  await mgr.stop()
  mgr = undefined
  const svc = makeService('web', { taskTemplate: { containerSpec: { image: 'x' }, networks: [{ target: 'front' }] }, mode: { replicated: { replicas: 0 } } })
  await store.create('services', svc)
  await rejects(nets.removeSwarmNetwork('front'), 'InvalidArgument', `rpc error: code = FailedPrecondition desc = network ${id} is in use by service ${svc.id}`)
  await store.remove('services', svc.id)
  const t = makeTask(svc, { id: 'task1', state: 'running' })
  t.networksAttachments = [{ networkId: id, addresses: ['10.0.1.9/24'] }]
  await store.create('tasks', t)
  await rejects(nets.removeSwarmNetwork(id), 'InvalidArgument', `rpc error: code = FailedPrecondition desc = network ${id} is in use by task task1`)
  await store.remove('tasks', 'task1')
  await nets.removeSwarmNetwork('front')
  await rejects(nets.inspectSwarmNetwork(id), 'NotFound', `network ${id} not found`)
})

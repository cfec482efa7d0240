import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planAllocation, INGRESS_SUBNET } from './allocator.js'
import { planToOps } from './apply.js'
import { Sim } from './testing/sim.js'
import { makeNode, makeService, makeTask } from './testing/objects.js'
import type { Network, NetworkSpec, Service, Task } from './types.js'

const T0 = '2026-01-01T00:00:00.000Z'

function net(id: string, name: string, o: Partial<NetworkSpec> = {}, vni = 0, createdAt = T0): Network {
  return {
    id, version: { index: 1 }, createdAt, updatedAt: createdAt, vni,
    spec: { name, labels: {}, driver: 'overlay', options: {}, attachable: false, ingress: false, internal: false, ipam: { driver: 'default', config: [] }, ...o },
  }
}

/** Apply a plan to plain arrays (what the manager's commit does to the store). */
function applyTo(state: { networks: Network[]; services: Service[]; tasks: Task[]; nodes: ReturnType<typeof makeNode>[] }, plan: ReturnType<typeof planAllocation>): void {
  const ops = planToOps(plan, {
    task: (id) => state.tasks.find((t) => t.id === id),
    service: (id) => state.services.find((s) => s.id === id),
    node: (id) => state.nodes.find((n) => n.id === id),
    network: (id) => state.networks.find((n) => n.id === id),
  }, Date.parse(T0))
  for (const o of ops) {
    if (o.op !== 'put') continue
    const list = state[o.kind as 'networks' | 'services' | 'tasks' | 'nodes'] as { id: string }[]
    const i = list.findIndex((x) => x.id === o.obj.id)
    if (i >= 0) list[i] = o.obj
    else list.push(o.obj)
  }
}

test('networks: ingress gets 10.0.0.0/24 and VNI 4096, the next ones the following blocks and VNIs; a user subnet is kept', () => {
  const networks = [
    net('ing', 'ingress', { ingress: true }),
    net('n1', 'front', {}, 0, '2026-01-01T00:00:01.000Z'),
    net('n2', 'back', { ipam: { driver: 'default', config: [{ subnet: '192.168.50.0/24', gateway: '' }] } }, 0, '2026-01-01T00:00:02.000Z'),
    net('n3', 'more', {}, 0, '2026-01-01T00:00:03.000Z'),
  ]
  const p = planAllocation({ networks, services: [], tasks: [], nodes: [] })
  assert.deepEqual(p.toString().split('\n'), [
    `network ing: vni 4096, subnet ${INGRESS_SUBNET} gateway 10.0.0.1`,
    'network n1: vni 4097, subnet 10.0.1.0/24 gateway 10.0.0.1'.replace('10.0.0.1', '10.0.1.1'),
    'network n2: vni 4098, subnet 192.168.50.0/24 gateway 192.168.50.1',
    'network n3: vni 4099, subnet 10.0.2.0/24 gateway 10.0.2.1',
  ])
  // A cluster pool and size are honoured; an allocated network is left alone (VNI and subnet taken).
  const done = net('d', 'done', { ipam: { driver: 'default', config: [{ subnet: '10.20.0.0/26', gateway: '10.20.0.1' }] } }, 4096)
  const q = planAllocation({ cluster: { defaultAddrPool: ['10.20.0.0/16'], subnetSize: 26 }, networks: [done, net('x', 'x')], services: [], tasks: [], nodes: [] })
  assert.equal(q.toString(), 'network x: vni 4097, subnet 10.20.0.64/26 gateway 10.20.0.65')
})

test('services get a VIP per network (ingress too when publishing), tasks new → pending with unique addresses, nodes an ingress address', () => {
  const networks = [net('ing', 'ingress', { ingress: true }), net('n1', 'front', {}, 0, '2026-01-01T00:00:01.000Z')]
  const web = makeService('web', { taskTemplate: { containerSpec: { image: 'nginx' }, networks: [{ target: 'front' }] }, endpointSpec: { mode: 'vip', ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'ingress' }, { protocol: 'tcp', targetPort: 443, publishMode: 'ingress' }] } })
  const rr = makeService('rr', { taskTemplate: { containerSpec: { image: 'x' }, networks: [{ target: 'n1' }] }, endpointSpec: { mode: 'dnsrr' } })
  rr.createdAt = '2026-01-01T00:00:05.000Z'
  const tasks = [
    makeTask(web, { id: 'w1', slot: 1, state: 'new' }),
    makeTask(web, { id: 'w2', slot: 2, state: 'new' }),
    makeTask(rr, { id: 'r1', slot: 1, state: 'new' }),
    makeTask(rr, { id: 'old', slot: 2, state: 'running' }),
  ]
  tasks[3]!.networksAttachments = [{ networkId: 'n1', addresses: ['10.0.1.2/24'] }]
  const state = { networks, services: [web, rr], tasks, nodes: [makeNode('a', { id: 'a' }), makeNode('b', { id: 'b' })] }
  // Round 1: networks only can be allocated (tasks and services wait for them).
  const p1 = planAllocation(state)
  assert.deepEqual(p1.actions.map((a) => a.type), ['allocate-network', 'allocate-network', 'allocate-node', 'allocate-node', 'allocate-service', 'allocate-service', 'allocate-task', 'allocate-task', 'allocate-task'])
  applyTo(state, p1)
  assert.deepEqual(p1.toString().split('\n').slice(2), [
    'node a attachments: ing 10.0.0.2/24',
    'node b attachments: ing 10.0.0.3/24',
    'service svc-web endpoint: ing 10.0.0.4/24, n1 10.0.1.3/24; ports 8080:80/tcp 30000:443/tcp',
    'service svc-rr endpoint: no VIPs',
    'task r1 allocated: n1 10.0.1.4/24',
    'task w1 allocated: ing 10.0.0.5/24, n1 10.0.1.5/24',
    'task w2 allocated: ing 10.0.0.6/24, n1 10.0.1.6/24',
  ])
  for (const id of ['w1', 'w2', 'r1']) assert.equal(state.tasks.find((t) => t.id === id)!.status.state, 'pending')
  assert.equal(state.services[0]!.endpoint!.ports[1]!.publishedPort, 30000)
  // Steady: nothing more to do.
  assert.equal(planAllocation(state).toString(), '(nothing to do)')
  // An ended task frees its address; the next new task takes the lowest free one.
  state.tasks.find((t) => t.id === 'old')!.status.state = 'failed'
  state.tasks.push(makeTask(rr, { id: 'r3', slot: 2, state: 'new' }))
  assert.equal(planAllocation(state).toString(), 'task r3 allocated: n1 10.0.1.2/24')
})

test('a task whose network does not exist stays new with a message; the sim converges services on a network', () => {
  const svc = makeService('api', { taskTemplate: { containerSpec: { image: 'x' }, networks: [{ target: 'nope' }] } })
  const p = planAllocation({ networks: [], services: [svc], tasks: [makeTask(svc, { id: 't1', state: 'new' })], nodes: [] })
  assert.equal(p.toString(), 'task t1 stays new: network nope not found')

  const sim = new Sim([makeNode('a', { id: 'a' }), makeNode('b', { id: 'b' })], [makeService('api', { taskTemplate: { containerSpec: { image: 'x' }, networks: [{ target: 'back' }] }, mode: { replicated: { replicas: 3 } } })])
  sim.networks.set('nb', net('nb', 'back'))
  sim.settle()
  assert.equal(sim.running().length, 3)
  const addrs = sim.running().map((t) => t.networksAttachments?.[0]?.addresses[0])
  assert.equal(new Set(addrs).size, 3)
  assert.ok(addrs.every((a) => a?.startsWith('10.0.0.') && a !== '10.0.0.1/24'), String(addrs))
  assert.equal(sim.services.get('svc-api')!.endpoint!.virtualIPs.length, 1)
})

test('allocation and scheduling in one plan: one write per task, allocated and assigned', async () => {
  const { withAllocations } = await import('./allocator.js')
  const { planScheduling } = await import('./scheduler.js')
  const svc = makeService('web', { taskTemplate: { containerSpec: { image: 'x' }, networks: [{ target: 'n1' }] } })
  const networks = [net('n1', 'front', { ipam: { driver: 'default', config: [{ subnet: '10.9.0.0/24', gateway: '10.9.0.1' }] } }, 4097)]
  const tasks = [makeTask(svc, { id: 't1', state: 'new' })]
  const nodes = [makeNode('a', { id: 'a' })]
  const alloc = planAllocation({ networks, services: [svc], tasks, nodes })
  const plan = alloc.merge(planScheduling({ nodes, tasks: withAllocations(tasks, alloc) }))
  const ops = planToOps(plan, { task: (id) => tasks.find((t) => t.id === id), service: () => svc, node: () => nodes[0], network: () => networks[0] }, Date.parse(T0))
  const taskOps = ops.filter((o) => o.kind === 'tasks')
  assert.equal(taskOps.length, 1)
  const t = (taskOps[0] as { obj: Task }).obj
  assert.equal(t.status.state, 'assigned')
  assert.equal(t.nodeId, 'a')
  assert.deepEqual(t.networksAttachments, [{ networkId: 'n1', addresses: ['10.9.0.3/24'] }])
})

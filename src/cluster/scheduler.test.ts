import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planScheduling } from './scheduler.js'
import { parseConstraint, matchConstraint } from './constraints.js'
import { makeNode, makeService, makeTask } from './testing/objects.js'
import type { Task, TaskSpec } from './types.js'

function pending(spec: Partial<TaskSpec>, n: number, serviceId = 'svc'): Task[] {
  const svc = makeService(serviceId, { id: serviceId, taskTemplate: { containerSpec: { image: 'busybox' }, ...spec } })
  return Array.from({ length: n }, (_, i) => makeTask(svc, { id: `${serviceId}-${i + 1}`, slot: i + 1, state: 'pending' }))
}

function assigned(p: ReturnType<typeof planScheduling>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const a of p.actions) if (a.type === 'assign-task') out[a.nodeId] = (out[a.nodeId] ?? 0) + 1
  return out
}

test('scheduler: spreads over ready active nodes, counting tasks already there', () => {
  const nodes = [makeNode('a', { id: 'a' }), makeNode('b', { id: 'b' }), makeNode('c', { id: 'c' }), makeNode('d', { id: 'd', state: 'down' }), makeNode('e', { id: 'e', availability: 'drain' }), makeNode('f', { id: 'f', availability: 'pause' })]
  const svc = makeService('svc', { id: 'svc' })
  const existing = [makeTask(svc, { id: 'old1', nodeId: 'a', slot: 9 }), makeTask(svc, { id: 'old2', nodeId: 'a', slot: 10 })]
  const p = planScheduling({ nodes, tasks: [...existing, ...pending({}, 4)] })
  assert.deepEqual(assigned(p), { b: 2, c: 2 })
  assert.match(p.toString(), /^assign task svc-1 to b: scheduler assigned task to node$/m)
})

test('scheduler: constraints on role, hostname, node and engine labels; Docker\'s no suitable node message', () => {
  const nodes = [
    makeNode('m1', { id: 'm1', role: 'manager', labels: { zone: 'east' } }),
    makeNode('w1', { id: 'w1', labels: { zone: 'West' }, engineLabels: { disk: 'ssd' } }),
    makeNode('w2', { id: 'w2' }),
  ]
  const one = (constraints: string[]) => assigned(planScheduling({ nodes, tasks: pending({ placement: { constraints } }, 1) }))
  assert.deepEqual(one(['node.role==manager']), { m1: 1 })
  assert.deepEqual(one(['node.role!=manager', 'node.hostname!=w1']), { w2: 1 })
  assert.deepEqual(one(['node.labels.zone==west']), { w1: 1 }, 'values compare case-insensitively')
  assert.deepEqual(one(['engine.labels.disk==ssd']), { w1: 1 })
  const none = planScheduling({ nodes: [...nodes, makeNode('x', { id: 'x', state: 'down' })], tasks: pending({ placement: { constraints: ['node.labels.zone==north'] } }, 1) })
  assert.equal(none.toString(), 'task svc-1 stays pending: no suitable node (1 node not available for new tasks; scheduling constraints not satisfied on 3 nodes)')
  const bad = planScheduling({ nodes, tasks: pending({ placement: { constraints: ['node.color==red'] } }, 1) })
  assert.equal(bad.toString(), "task svc-1 stays pending: invalid constraint: constraint key 'node.color' is not supported")
})

test('constraints: parsing and missing labels', () => {
  assert.deepEqual(parseConstraint(' node.labels.a == b '), { key: 'node.labels.a', op: '==', value: 'b' })
  assert.throws(() => parseConstraint('node.role=manager'), { message: 'constraint expected one operator from ==, !=' })
  const n = makeNode('h')
  assert.equal(matchConstraint(parseConstraint('node.labels.none==x'), n), false)
  assert.equal(matchConstraint(parseConstraint('node.labels.none!=x'), n), true)
})

test('scheduler: resource reservations are honoured, then reported', () => {
  const nodes = [makeNode('small', { id: 'small', cpus: 1, memory: 2 ** 30 }), makeNode('big', { id: 'big', cpus: 4, memory: 8 * 2 ** 30 })]
  const p = planScheduling({ nodes, tasks: pending({ resources: { reservations: { nanoCPUs: 1e9, memoryBytes: 2 * 2 ** 30 } } }, 5) })
  assert.deepEqual(assigned(p), { big: 4 })
  assert.match(p.toString(), /task svc-5 stays pending: no suitable node \(insufficient resources on 2 nodes\)/)
  // Tasks that ended free their reservations.
  const svc = makeService('svc', { id: 'svc', taskTemplate: { containerSpec: { image: 'busybox' }, resources: { reservations: { nanoCPUs: 4e9 } } } })
  const done = makeTask(svc, { id: 'done', nodeId: 'big', state: 'failed', desired: 'shutdown' })
  assert.deepEqual(assigned(planScheduling({ nodes, tasks: [done, ...pending({ resources: { reservations: { nanoCPUs: 4e9 } } }, 1)] })), { big: 1 })
})

test('scheduler: placement preference spread over a label, then max replicas per node', () => {
  const nodes = [
    makeNode('e1', { id: 'e1', labels: { dc: 'east' } }),
    makeNode('e2', { id: 'e2', labels: { dc: 'east' } }),
    makeNode('e3', { id: 'e3', labels: { dc: 'east' } }),
    makeNode('w1', { id: 'w1', labels: { dc: 'west' } }),
  ]
  const p = planScheduling({ nodes, tasks: pending({ placement: { preferences: [{ spread: { spreadDescriptor: 'node.labels.dc' } }] } }, 4) })
  assert.deepEqual(assigned(p), { w1: 2, e1: 1, e2: 1 }, 'half per datacenter, whatever the node count')
  const q = planScheduling({ nodes: nodes.slice(0, 2), tasks: pending({ placement: { maxReplicas: 1 } }, 3) })
  assert.deepEqual(assigned(q), { e1: 1, e2: 1 })
  assert.match(q.toString(), /no suitable node \(max replicas per node limit exceed\)/)
})

test('scheduler: a global task is assigned to its own node only', () => {
  const nodes = [makeNode('a', { id: 'a' }), makeNode('b', { id: 'b', state: 'unknown' })]
  const svc = makeService('g', { id: 'g', mode: { global: {} } })
  const tasks = [makeTask(svc, { id: 'ga', nodeId: 'a', slot: 0, state: 'pending' }), makeTask(svc, { id: 'gb', nodeId: 'b', slot: 0, state: 'pending' })]
  const p = planScheduling({ nodes, tasks })
  assert.equal(p.toString(), 'assign task ga to a: scheduler assigned task to node\ntask gb stays pending: no suitable node (1 node not available for new tasks)')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Sim } from './testing/sim.js'
import { makeNode, makeService } from './testing/objects.js'
import type { Service } from './types.js'

const S = 1e9 // nanoseconds

function threeNodes() {
  return [makeNode('a', { id: 'na' }), makeNode('b', { id: 'nb' }), makeNode('c', { id: 'nc' })]
}

function replicated(name: string, replicas: number, o: Partial<Service['spec']> = {}): Service {
  return makeService(name, { id: name, mode: { replicated: { replicas } }, ...o })
}

test('replicated: creates one task per slot and the scheduler spreads them', () => {
  const sim = new Sim(threeNodes(), [replicated('web', 6)])
  const p = sim.plan()
  assert.equal(p.toString().split('\n').length, 6)
  assert.match(p.toString(), /^create task web slot 1 rev 1: new slot$/m)
  sim.apply(p)
  const sp = sim.schedule()
  assert.equal(sp.actions.filter((a) => a.type === 'assign-task').length, 6)
  sim.apply(sp)
  sim.agents()
  assert.equal(sim.spread('web'), 'na:2 nb:2 nc:2')
  assert.equal(sim.plan().toString(), '(nothing to do)')
})

test('replicated: scaling down shuts down the highest slots; scaling up adds slots', () => {
  const sim = new Sim(threeNodes(), [replicated('web', 6)])
  sim.settle()
  sim.updateService('web', (s) => (s.spec.mode = { replicated: { replicas: 4 } }))
  // A scale is a spec change in Docker too, but replicas do not make tasks dirty: keep revisions equal.
  const svc = sim.services.get('web')!
  sim.write([{ op: 'put', kind: 'services', obj: { ...svc, specRevision: 1 }, expect: svc.version.index }])
  const p = sim.plan()
  assert.deepEqual(p.toString().split('\n').map((l) => l.replace(/t\d+/, 'T')), ['shut down task T: service scaled down', 'shut down task T: service scaled down'])
  sim.apply(p)
  sim.settle()
  assert.equal(sim.running('web').length, 4)
  assert.deepEqual(sim.running('web').map((t) => t.slot).sort(), [1, 2, 3, 4])
  // Scaling back up refills the emptied slots.
  const again = sim.services.get('web')!
  sim.write([{ op: 'put', kind: 'services', obj: { ...again, spec: { ...again.spec, mode: { replicated: { replicas: 6 } } } }, expect: again.version.index }])
  sim.settle()
  assert.deepEqual(sim.running('web').map((t) => t.slot).sort(), [1, 2, 3, 4, 5, 6])
})

test('restart policy: a failed task is replaced after the delay, in the same slot', () => {
  const sim = new Sim(threeNodes(), [replicated('web', 1, { taskTemplate: { containerSpec: { image: 'busybox' }, restartPolicy: { condition: 'any', delay: 2 * S } } })])
  sim.settle()
  const [t] = sim.running('web')
  sim.setState(t!.id, 'failed', 1)
  const p = sim.plan()
  const lines = p.toString().split('\n')
  assert.equal(lines[0], `shut down task ${t!.id}: task failed`)
  assert.match(lines[1]!, /^create task web slot 1 rev 1 \(start not before 2026-01-01T00:00:02\.000Z\): restarting task after failed$/)
  sim.apply(p)
  sim.settle()
  assert.equal(sim.running('web').length, 0, 'the agent waits for notBefore')
  sim.tick(2000)
  sim.settle()
  assert.equal(sim.running('web').length, 1)
  assert.equal(sim.running('web')[0]!.slot, 1)
})

test('restart policy: condition none and on-failure with exit 0 leave the slot empty', () => {
  for (const [condition, state, restarted] of [['none', 'failed', false], ['on-failure', 'complete', false], ['on-failure', 'failed', true], ['any', 'complete', true]] as const) {
    const sim = new Sim(threeNodes(), [replicated('job', 1, { taskTemplate: { containerSpec: { image: 'busybox' }, restartPolicy: { condition, delay: 0 } } })])
    sim.settle()
    sim.setState(sim.running('job')[0]!.id, state, state === 'complete' ? 0 : 1)
    sim.settle()
    assert.equal(sim.running('job').length, restarted ? 1 : 0, `${condition} after ${state}`)
    // And it stays that way on later rounds (no flapping).
    sim.tick(60_000)
    sim.settle()
    assert.equal(sim.running('job').length, restarted ? 1 : 0, `${condition} after ${state}, later`)
  }
})

test('restart policy: max attempts within the window', () => {
  const sim = new Sim(threeNodes(), [replicated('flaky', 1, { taskTemplate: { containerSpec: { image: 'busybox' }, restartPolicy: { condition: 'any', delay: 0, maxAttempts: 2, window: 10 * S } } })])
  sim.settle()
  const failOnce = () => {
    sim.setState(sim.running('flaky')[0]!.id, 'failed', 1)
    sim.settle()
  }
  failOnce()
  failOnce()
  assert.equal(sim.running('flaky').length, 1, 'two restarts allowed')
  failOnce()
  assert.equal(sim.running('flaky').length, 0, 'third failure within the window: no restart')
  const last = [...sim.tasks.values()].sort((a, b) => a.id.localeCompare(b.id)).at(-1)!
  assert.equal(last.noRestart, true)
  assert.equal(last.desiredState, 'shutdown')

  // Restarts older than the window do not count.
  const sim2 = new Sim(threeNodes(), [replicated('flaky', 1, { taskTemplate: { containerSpec: { image: 'busybox' }, restartPolicy: { condition: 'any', delay: 0, maxAttempts: 1, window: 10 * S } } })])
  sim2.settle()
  sim2.setState(sim2.running('flaky')[0]!.id, 'failed', 1)
  sim2.settle()
  sim2.tick(11_000)
  sim2.setState(sim2.running('flaky')[0]!.id, 'failed', 1)
  sim2.settle()
  assert.equal(sim2.running('flaky').length, 1)
})

test('node down: its tasks are shut down and started elsewhere at once; back up, nothing runs twice', () => {
  const sim = new Sim(threeNodes(), [replicated('web', 6)])
  sim.settle()
  sim.setNode('nc', (n) => (n.status.state = 'down'))
  const p = sim.plan()
  const text = p.toString()
  assert.equal(text.match(/: node is down$/gm)?.length, 2)
  assert.equal(text.match(/^create task web slot \d rev 1: replacing a task whose node cannot run it$/gm)?.length, 2)
  assert.ok(!/not before/.test(text), 'no restart delay for a lost node')
  sim.apply(p)
  sim.settle(6, { down: ['nc'] })
  assert.equal(sim.spread('web'), 'na:3 nb:3')
  // The node returns: its old tasks are desired shutdown, so its agent stops them.
  sim.setNode('nc', (n) => (n.status.state = 'ready'))
  sim.settle()
  assert.equal(sim.running('web').length, 6)
  const live = [...sim.tasks.values()].filter((t) => t.status.state === 'running')
  assert.equal(live.length, 6, 'no duplicate left running')
})

test('drain empties a node; pause keeps its tasks but takes no new ones', () => {
  const sim = new Sim(threeNodes(), [replicated('web', 6)])
  sim.settle()
  sim.setNode('na', (n) => (n.spec.availability = 'drain'))
  sim.settle()
  assert.equal(sim.spread('web'), 'nb:3 nc:3')
  sim.setNode('na', (n) => (n.spec.availability = 'active'))
  sim.setNode('nb', (n) => (n.spec.availability = 'pause'))
  sim.updateService('web', (s) => (s.spec.mode = { replicated: { replicas: 9 } }))
  const svc = sim.services.get('web')!
  sim.write([{ op: 'put', kind: 'services', obj: { ...svc, specRevision: 1 }, expect: svc.version.index }])
  sim.settle()
  assert.equal(sim.spread('web'), 'na:3 nb:3 nc:3', 'paused node keeps its 3, new tasks went elsewhere')
})

test('global: one task per eligible node, following joins, drains and constraints', () => {
  const svc = makeService('agent', { id: 'agent', mode: { global: {} }, taskTemplate: { containerSpec: { image: 'busybox' }, placement: { constraints: ['node.labels.kind!=edge'] } } })
  const sim = new Sim([makeNode('a', { id: 'na' }), makeNode('b', { id: 'nb' }), makeNode('e', { id: 'ne', labels: { kind: 'edge' } })], [svc])
  const p = sim.plan()
  assert.equal(p.toString(), ['create task agent node na rev 1: new slot', 'create task agent node nb rev 1: new slot'].join('\n'))
  sim.settle()
  assert.equal(sim.spread('agent'), 'na:1 nb:1')
  sim.nodes.set('nd', { ...makeNode('d', { id: 'nd' }), version: { index: ++sim.rev } })
  sim.settle()
  assert.equal(sim.spread('agent'), 'na:1 nb:1 nd:1')
  sim.setNode('nb', (n) => (n.spec.availability = 'drain'))
  sim.setNode('na', (n) => (n.spec.labels = { kind: 'edge' }))
  sim.settle()
  assert.equal(sim.spread('agent'), 'nd:1')
})

test('rolling update: parallelism 2, stop-first, replaces two at a time and completes', () => {
  const sim = new Sim(threeNodes(), [replicated('web', 6, { updateConfig: { parallelism: 2, delay: 0, monitor: 0 } })])
  sim.settle()
  sim.updateService('web', (s) => (s.spec.taskTemplate = { containerSpec: { image: 'busybox:2' } }))
  let p = sim.plan()
  assert.equal(p.toString(), 'service web update updating: update in progress')
  sim.apply(p)
  let maxInFlight = 0
  for (let round = 0; round < 20; round++) {
    p = sim.plan()
    sim.apply(p)
    sim.apply(sim.schedule())
    const newNotRunning = [...sim.tasks.values()].filter((t) => t.specRevision === 2 && t.desiredState === 'running' && t.status.state !== 'running').length
    const oldRunning = sim.running('web').filter((t) => t.specRevision === 1).length
    maxInFlight = Math.max(maxInFlight, newNotRunning)
    assert.ok(oldRunning + newNotRunning + sim.running('web').filter((t) => t.specRevision === 2).length <= 6)
    sim.agents()
    if (sim.services.get('web')!.updateStatus?.state === 'completed') break
  }
  assert.equal(maxInFlight, 2)
  assert.equal(sim.services.get('web')!.updateStatus?.state, 'completed')
  assert.equal(sim.services.get('web')!.updateStatus?.message, 'update completed')
  assert.equal(sim.running('web').filter((t) => t.spec.containerSpec.image === 'busybox:2').length, 6)
})

test('rolling update: delay between tasks and the monitor before completion', () => {
  const sim = new Sim(threeNodes(), [replicated('web', 2, { updateConfig: { parallelism: 1, delay: 10 * S, monitor: 5 * S } })])
  sim.settle()
  sim.updateService('web', (s) => (s.spec.taskTemplate = { containerSpec: { image: 'busybox:2' } }))
  sim.settle()
  assert.equal(sim.running('web').filter((t) => t.specRevision === 2).length, 1, 'one task updated, then the delay')
  const p = sim.plan()
  assert.equal(p.wakeAt, sim.now + 10_000)
  sim.tick(10_000)
  sim.settle()
  assert.equal(sim.running('web').filter((t) => t.specRevision === 2).length, 2)
  assert.equal(sim.services.get('web')!.updateStatus?.state, 'updating', 'inside the monitor window')
  sim.tick(5_000)
  sim.settle()
  assert.equal(sim.services.get('web')!.updateStatus?.state, 'updating', 'the delay after the last task still runs (as swarmkit)')
  sim.tick(5_000)
  sim.settle()
  assert.equal(sim.services.get('web')!.updateStatus?.state, 'completed')
})

test('rolling update: start-first keeps the old task until the new one runs', () => {
  const sim = new Sim(threeNodes(), [replicated('web', 1, { updateConfig: { parallelism: 1, order: 'start-first', monitor: 0 } })])
  sim.settle()
  const old = sim.running('web')[0]!
  sim.updateService('web', (s) => (s.spec.taskTemplate = { containerSpec: { image: 'busybox:2' } }))
  sim.apply(sim.plan()) // updating
  const p = sim.plan()
  assert.ok(!p.toString().includes('shut down'), p.toString())
  assert.match(p.toString(), /create task web slot 1 rev 2: rolling update to revision 2 \(start-first\)/)
  sim.apply(p)
  sim.apply(sim.schedule())
  assert.equal(sim.tasks.get(old.id)!.desiredState, 'running')
  sim.agents()
  const p2 = sim.plan()
  assert.match(p2.toString(), new RegExp(`shut down task ${old.id}: replaced by t\\d+ \\(start-first\\)`))
  sim.apply(p2)
  sim.settle()
  assert.equal(sim.running('web').length, 1)
  assert.equal(sim.running('web')[0]!.specRevision, 2)
})

test('rolling update: failure_action pause stops the update with Docker\'s message', () => {
  const sim = new Sim(threeNodes(), [replicated('web', 4, { updateConfig: { parallelism: 1, failureAction: 'pause', monitor: 5 * S }, taskTemplate: { containerSpec: { image: 'busybox' }, restartPolicy: { condition: 'none' } } })])
  sim.settle()
  sim.updateService('web', (s) => (s.spec.taskTemplate = { ...s.spec.taskTemplate, containerSpec: { image: 'broken' } }))
  sim.apply(sim.plan())
  sim.apply(sim.plan())
  sim.apply(sim.schedule())
  const fresh = [...sim.tasks.values()].find((t) => t.specRevision === 2)!
  sim.setState(fresh.id, 'failed', 1)
  const p = sim.plan()
  assert.match(p.toString(), new RegExp(`service web update paused: update paused due to failure or early termination of task ${fresh.id}`))
  sim.apply(p)
  sim.settle()
  assert.equal(sim.services.get('web')!.updateStatus?.state, 'paused')
  assert.equal(sim.running('web').filter((t) => t.specRevision === 1).length, 3, 'the rest stays on the old spec')
})

test('rolling update: failure_action rollback restores the previous spec and completes the rollback', () => {
  const sim = new Sim(threeNodes(), [replicated('web', 3, { updateConfig: { parallelism: 1, failureAction: 'rollback', monitor: 0 }, rollbackConfig: { parallelism: 0, monitor: 0 } })])
  sim.settle()
  sim.updateService('web', (s) => (s.spec.taskTemplate = { containerSpec: { image: 'broken' } }))
  sim.apply(sim.plan())
  sim.apply(sim.plan())
  sim.apply(sim.schedule())
  const fresh = [...sim.tasks.values()].find((t) => t.specRevision === 2)!
  sim.setState(fresh.id, 'failed', 1)
  const p = sim.plan()
  assert.match(p.toString(), new RegExp(`service web roll back: update rolled back due to failure or early termination of task ${fresh.id}`))
  sim.apply(p)
  const svc = sim.services.get('web')!
  assert.equal(svc.spec.taskTemplate.containerSpec.image, 'busybox')
  assert.equal(svc.previousSpec?.taskTemplate.containerSpec.image, 'broken')
  assert.equal(svc.specRevision, 3)
  sim.settle(10)
  assert.equal(sim.services.get('web')!.updateStatus?.state, 'rollback_completed')
  assert.equal(sim.services.get('web')!.updateStatus?.message, 'rollback completed')
  assert.deepEqual(sim.running('web').map((t) => t.spec.containerSpec.image), ['busybox', 'busybox', 'busybox'])
})

test('history: ended tasks beyond the retention limit are deleted; a removed service\'s tasks go', () => {
  const sim = new Sim(threeNodes(), [replicated('web', 1, { taskTemplate: { containerSpec: { image: 'busybox' }, restartPolicy: { condition: 'any', delay: 0 } } })])
  sim.settle()
  for (let i = 0; i < 8; i++) {
    sim.setState(sim.running('web')[0]!.id, 'failed', 1)
    sim.settle()
  }
  const slot1 = [...sim.tasks.values()].filter((t) => t.slot === 1)
  assert.equal(slot1.length, 6, '5 ended tasks kept plus the live one')
  sim.services.delete('web')
  sim.settle()
  assert.equal(sim.tasks.size, 0)
})

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Manager } from './manager.js'
import { Agent } from './agent.js'
import { ClusterStore } from './store.js'
import { ETCD_SKIP, startTestEtcd } from './testing/etcd-fixture.js'
import { FakeEngine } from './testing/fake-engine.js'
import { makeNode, makeService } from './testing/objects.js'
import type { Plan } from './plan.js'

let fx: Awaited<ReturnType<typeof startTestEtcd>> | undefined
let store: ClusterStore
let first: Manager | undefined
const stops: (() => Promise<void>)[] = []

before(async () => {
  if (ETCD_SKIP) return
  fx = await startTestEtcd('manager')
  store = new ClusterStore(fx.member.client)
})
after(async () => {
  // A manager whose lease was taken from it must not hold the file open: each stop is bounded.
  for (const s of stops.reverse()) await Promise.race([s().catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())])
  await fx?.close()
})

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

test('manager + agents on real etcd: converge, reschedule off a dead node within 5 s, reconcile its return, roll two at a time', { skip: ETCD_SKIP, timeout: 90_000 }, async (t) => {
  const plans: string[] = []
  const mgr = new Manager({ nodeId: 'm1', store, onPlan: (name: string, p: Plan) => plans.push(`[${name}]\n${p.toString()}`) })
  mgr.start()
  first = mgr
  stops.push(() => mgr.stop())
  await mgr.whenLeader()
  const engines = new Map<string, FakeEngine>()
  const agents = new Map<string, Agent>()
  const startAgent = async (id: string) => {
    const engine = engines.get(id) ?? new FakeEngine()
    engines.set(id, engine)
    const a = new Agent({ nodeId: id, store, engine, pollMs: 50 })
    agents.set(id, a)
    stops.push(() => a.stop({ revoke: true }))
    await a.start()
  }
  for (const id of ['na', 'nb', 'nc']) {
    await store.create('nodes', makeNode(id, { id, state: 'unknown' }))
    await startAgent(id)
  }
  await until('nodes ready', async () => (await store.list('nodes')).every((n) => n.status.state === 'ready'))

  const running = () => [...engines.entries()].map(([id, e]) => `${id}:${e.running().length}`).join(' ')
  const total = () => [...engines.values()].reduce((n, e) => n + e.running().length, 0)
  const t0 = Date.now()
  await store.create('services', makeService('web', { id: 'web', mode: { replicated: { replicas: 6 } }, updateConfig: { parallelism: 2, delay: 0, monitor: 0 } }))
  await until('6 running', async () => running() === 'na:2 nb:2 nc:2')
  const converge = Date.now() - t0
  t.diagnostic(`6 replicas running ${converge} ms after service create`)
  assert.ok(converge < 3000, `6 replicas converged in ${converge} ms`)
  await until('6 reported running', async () => (await store.list('tasks')).filter((t) => t.status.state === 'running').length === 6)

  // Node c's berthd dies: its heartbeat lease runs out, the leader marks it down and reschedules.
  const killedAt = Date.now()
  await agents.get('nc')!.stop()
  await until('rescheduled', async () => engines.get('na')!.running().length + engines.get('nb')!.running().length === 6, 8000)
  const resched = Date.now() - killedAt
  t.diagnostic(`tasks running elsewhere ${resched} ms after the agent died`)
  assert.ok(resched < 5000, `tasks running elsewhere ${resched} ms after the agent died`)
  assert.equal((await store.get('nodes', 'nc')).status.state, 'down')

  // It comes back: its old tasks are desired shutdown, so it stops them; nothing runs twice.
  await startAgent('nc')
  await until('nc ready', async () => (await store.get('nodes', 'nc')).status.state === 'ready')
  await until('stale stopped', async () => engines.get('nc')!.running().length === 0)
  assert.equal(total(), 6)

  // Rolling update, two at a time.
  plans.length = 0
  await store.modify('services', 'web', (s) => {
    s.previousSpec = s.spec
    s.spec = { ...s.spec, taskTemplate: { containerSpec: { image: 'busybox:2' } } }
    s.specRevision += 1
    return s
  })
  await until('update completed', async () => (await store.get('services', 'web')).updateStatus?.state === 'completed', 15000)
  const batches = plans.filter((p) => p.startsWith('[orchestrator]')).map((p) => (p.match(/rolling update to revision 2/g) ?? []).length).filter((n) => n > 0)
  assert.ok(batches.every((n) => n <= 2), `batches ${batches}`)
  assert.ok(batches.length >= 3, `batches ${batches}`)
  const images = [...engines.values()].flatMap((e) => e.running().map((c) => c.spec.image))
  assert.deepEqual(images, Array(6).fill('busybox:2'))
})

test('manager: when the leader resigns, another manager takes over and keeps converging', { skip: ETCD_SKIP, timeout: 30_000 }, async (t) => {
  await first?.stop()
  const m2 = new Manager({ nodeId: 'm2', store })
  const m3 = new Manager({ nodeId: 'm3', store })
  stops.push(() => m2.stop())
  m2.start()
  await m2.whenLeader()
  m3.start()
  stops.push(() => m3.stop())
  await new Promise((r) => setTimeout(r, 200))
  assert.equal(m3.isLeader, false)
  const t0 = Date.now()
  await m2.stop()
  await m3.whenLeader(5000)
  const took = Date.now() - t0
  t.diagnostic(`new leader after ${took} ms`)
  assert.ok(took < 2000)
  await store.modify('services', 'web', (s) => ({ ...s, spec: { ...s.spec, mode: { replicated: { replicas: 2 } } } }))
  await until('scaled to 2', async () => (await store.list('tasks')).filter((t) => t.serviceId === 'web' && t.desiredState === 'running').length === 2)
})

test('manager: a leader whose election lease lapses (crash or stall) is replaced within the TTL and fenced off', { skip: ETCD_SKIP, timeout: 30_000 }, async (t) => {
  const doomed = new Manager({ nodeId: 'm4', store })
  const heir = new Manager({ nodeId: 'm5', store })
  // Free the seat held by the previous test's manager.
  for (const s of stops.splice(0).reverse()) await s().catch(() => undefined)
  stops.push(() => doomed.stop())
  doomed.start()
  await doomed.whenLeader()
  heir.start()
  stops.push(() => heir.stop())
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(heir.isLeader, false)
  const t0 = Date.now()
  // What a crash (or a stalled process) does: keepalives stop and the lease expires; no resign.
  // (etcd3's Campaign keeps its lease private; the test reaches in.)
  ;(doomed as unknown as { campaign: { lease: { release(): void } } }).campaign.lease.release()
  await heir.whenLeader(10_000)
  const took = Date.now() - t0
  t.diagnostic(`new leader ${took} ms after the old one's keepalives stopped`)
  assert.ok(took < 4000, `took ${took} ms`)
  await store.modify('services', 'web', (s) => ({ ...s, spec: { ...s.spec, mode: { replicated: { replicas: 3 } } } }))
  await until('scaled to 3', async () => (await store.list('tasks')).filter((x) => x.serviceId === 'web' && x.desiredState === 'running').length === 3).catch(async (e) => {
    console.error((await store.list('tasks')).map((x) => `${x.slot} ${x.nodeId} ${x.desiredState} ${x.status.state} ${x.specRevision}`).join('\n'), JSON.stringify((await store.get('services', 'web')).spec.mode), (await store.list('nodes')).map((n) => n.status.state))
    throw e
  })
  // The old leader's writes are fenced: it notices and steps down instead of fighting.
  await until('old leader stepped down', async () => !doomed.isLeader)
  const running = (await store.list('tasks')).filter((x) => x.serviceId === 'web' && x.desiredState === 'running')
  assert.equal(running.length, 3, 'no duplicate tasks from two leaders')
})

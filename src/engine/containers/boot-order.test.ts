import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseDependsOn, restartInDependencyOrder } from './boot-order.js'
import type { ContainerRecord } from './types.js'

const rec = (id: string, service: string, dependsOn = '', project = 'p'): ContainerRecord => ({
  id,
  config: { labels: { 'com.docker.compose.project': project, 'com.docker.compose.service': service, ...(dependsOn ? { 'com.docker.compose.depends_on': dependsOn } : {}) } },
  state: { status: 'exited' },
}) as unknown as ContainerRecord

test('depends_on label as compose v2 writes it', () => {
  assert.deepEqual(parseDependsOn('db:service_healthy:false,cache:service_started:true'), [
    { service: 'db', condition: 'service_healthy' }, { service: 'cache', condition: 'service_started' },
  ])
  assert.deepEqual(parseDependsOn(undefined), [])
})

test('start-up restarts follow depends_on: started, healthy, completed; independent ones at once; cycles do not deadlock', async () => {
  const recs = [rec('web', 'web', 'db:service_healthy:false,init:service_completed_successfully:false'), rec('db', 'db'), rec('other', 'x', '', 'q'), rec('a', 'a', 'b:service_started:false'), rec('b', 'b', 'a:service_started:false')]
  const byId = new Map(recs.map((r) => [r.id, r]))
  const order: string[] = []
  let now = 0
  await restartInDependencyOrder(recs, {
    start: async (id) => {
      order.push(id)
      const r = byId.get(id)!
      r.state.status = 'running'
      // db has a healthcheck: healthy 1 s (fake time) after its start.
      if (id === 'db') {
        r.state.health = { status: 'starting', failingStreak: 0, log: [] } as never
        setTimeout(() => { r.state.health!.status = 'healthy' }, 30)
      }
    },
    get: (id) => byId.get(id),
    sleep: (ms) => new Promise((r) => setTimeout(() => { now += ms; r() }, 5)),
    now: () => now,
    log: () => undefined,
  })
  assert.equal(order.length, 5)
  assert.ok(order.indexOf('db') < order.indexOf('web'))
  assert.ok(order.indexOf('other') < order.indexOf('web'), 'an independent container waited')
  assert.equal(byId.get('db')!.state.health!.status, 'healthy')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planLiveness, HeartbeatTracker, HEARTBEAT_TTL_MS, DOWN_GRACE_MS } from './liveness.js'
import { makeNode } from './testing/objects.js'

test('liveness: a dead agent is down within 5 s (lease TTL + grace)', () => {
  assert.ok(HEARTBEAT_TTL_MS + DOWN_GRACE_MS < 5000)
  let now = 1_000_000
  const hb = new HeartbeatTracker(() => now)
  const nodes = [makeNode('a', { id: 'a' }), makeNode('b', { id: 'b' })]
  hb.reset(['a', 'b'], ['a', 'b'])
  assert.equal(planLiveness(nodes, hb.views, now).toString(), '(nothing to do)')
  // b's berthd is killed at t0; etcd deletes its alive key when the lease runs out.
  const t0 = now
  now = t0 + HEARTBEAT_TTL_MS
  hb.delete('b')
  const early = planLiveness(nodes, hb.views, now)
  assert.equal(early.actions.length, 0)
  assert.equal(early.wakeAt, now + DOWN_GRACE_MS)
  now = early.wakeAt!
  assert.equal(planLiveness(nodes, hb.views, now).toString(), 'node b down: heartbeat failure')
  assert.ok(now - t0 <= 5000)
})

test('liveness: a blip under 3 s restarts nothing', () => {
  let now = 5_000_000
  const hb = new HeartbeatTracker(() => now)
  const nodes = [makeNode('a', { id: 'a' })]
  hb.reset(['a'], ['a'])
  // Worst case: the key goes at the earliest (TTL after the last keepalive, which was just before
  // death) and comes back when the restarted berthd re-puts it 2.9 s after death.
  const death = now
  now = death + Math.round(HEARTBEAT_TTL_MS * 2 / 3)
  hb.delete('a')
  now = death + 2900
  assert.equal(planLiveness(nodes, hb.views, now).actions.length, 0)
  hb.put('a')
  assert.equal(planLiveness(nodes, hb.views, now).toString(), '(nothing to do)')
})

test('liveness: a node that comes back is ready again; a new leader waits a grace before marking down', () => {
  let now = 9_000_000
  const nodes = [makeNode('a', { id: 'a', state: 'down' }), makeNode('b', { id: 'b' })]
  const hb = new HeartbeatTracker(() => now)
  hb.reset(['a'], ['a', 'b'])
  const p = planLiveness(nodes, hb.views, now)
  assert.equal(p.toString(), `node a ready\nwake at ${new Date(now + DOWN_GRACE_MS).toISOString()}`)
  now += DOWN_GRACE_MS
  assert.equal(planLiveness(nodes, hb.views, now).toString(), 'node a ready\nnode b down: heartbeat failure')
  // A node never seen by this leader counts from now.
  assert.equal(planLiveness([makeNode('c', { id: 'c' })], new Map(), now).actions.length, 0)
})

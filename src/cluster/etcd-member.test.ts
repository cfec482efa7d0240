import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EtcdMember, etcdDir } from './etcd-member.js'
import { runningEtcd, stopEtcd, stopPid } from '../platform/etcd.js'
import { ETCD_SKIP, memberConfig } from './testing/etcd-fixture.js'

test('etcd member: init a cluster of one, write, restart adopts or restarts, data kept', { skip: ETCD_SKIP }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-etcdm-'))
  const pids: number[] = []
  try {
    const m = await EtcdMember.init(root, await memberConfig('n1'))
    pids.push(m.pid)
    assert.ok(existsSync(join(etcdDir(root), 'member-data', 'member')))
    assert.match(m.id, /^\d+$/)
    await m.client.put('/berth/x').value('1')
    const members = await m.members()
    assert.equal(members.length, 1)
    assert.equal(members[0]!.name, 'n1')
    assert.equal(await m.leaderId(), m.id)
    // berthd restarts while etcd lives on: the new berthd adopts the same process.
    m.close()
    const again = await EtcdMember.restart(root)
    assert.equal(again.pid, m.pid)
    assert.equal(again.process.started, false)
    assert.equal(await again.client.get('/berth/x').string(), '1')
    // etcd died too: restart starts it again from its data.
    await again.stop()
    assert.equal(runningEtcd(etcdDir(root)), undefined)
    const third = await EtcdMember.restart(root)
    pids.push(third.pid)
    assert.equal(third.process.started, true)
    assert.notEqual(third.pid, m.pid)
    assert.equal(third.id, m.id)
    assert.equal(await third.client.get('/berth/x').string(), '1')
    await third.stop()
  } finally {
    await stopEtcd(etcdDir(root))
    for (const p of pids) await stopPid(p, 2000)
    await rm(root, { recursive: true, force: true })
  }
})

/** Run one step of a scenario; a failure names the step (the etcd3 client's stack names none of ours). */
async function step<T>(label: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}`, { cause: err })
  }
}

/** A read right after a member went away may first reach that member (ECONNREFUSED): the client fails over on a retry. */
async function retried<T>(fn: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((r) => setTimeout(r, 200))
    }
  }
}

test('etcd member: three managers join, survive the loss of one, leave removes the member', { skip: ETCD_SKIP, timeout: 90_000 }, async (t) => {
  const roots = await Promise.all([1, 2, 3].map(() => mkdtemp(join(tmpdir(), 'berth-etcdm-'))))
  const members: EtcdMember[] = []
  try {
    const c1 = await memberConfig('m1')
    const m1 = await step('init m1', () => EtcdMember.init(roots[0]!, c1))
    members.push(m1)
    const m2 = await step('join m2', async () => EtcdMember.join(roots[1]!, await memberConfig('m2'), [c1.clientUrl]))
    members.push(m2)
    const m3 = await step('join m3', async () => EtcdMember.join(roots[2]!, await memberConfig('m3'), [c1.clientUrl, m2.config.clientUrl]))
    members.push(m3)
    assert.deepEqual((await step('members', () => m1.members())).map((m) => m.name).sort(), ['m1', 'm2', 'm3'])
    await step('put k', async () => { await m1.client.put('/berth/k').value('v') })
    assert.equal(await step('get k on m3', () => retried(() => m3.client.get('/berth/k').string())), 'v')

    // Kill the raft leader: the other two elect a new one and keep accepting writes.
    const leader = await step('leader', () => m1.leaderId())
    const victim = members.find((m) => m.id === leader)!
    const t0 = Date.now()
    await step('stop the leader', () => victim.stop())
    const rest = members.filter((m) => m !== victim)
    for (;;) {
      try {
        await rest[0]!.client.put('/berth/after').value('ok')
        break
      } catch {
        if (Date.now() - t0 > 10_000) throw new Error('no write within 10 s after leader loss')
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    t.diagnostic(`writes resumed ${Date.now() - t0} ms after the leader was stopped`)
    assert.equal(await step('read after on the other', () => retried(() => rest[1]!.client.get('/berth/after').string())), 'ok')

    // The dead one comes back from its data and catches up.
    const back = await step('restart the old leader', () => EtcdMember.restart(victim.dataRoot))
    members[members.indexOf(victim)] = back
    assert.equal(await step('read after on the restarted', () => retried(() => back.client.get('/berth/after').string())), 'ok')

    // A manager leaves: it is removed from the member list and its data is gone.
    const leaving = rest[1]!
    await step('leave', () => leaving.leave())
    assert.equal(existsSync(etcdDir(leaving.dataRoot)), false)
    const names = (await step('members after leave', () => retried(() => rest[0]!.members()))).map((m) => m.name).sort()
    assert.equal(names.length, 2)
    assert.ok(!names.includes(leaving.config.name))
    members.splice(members.indexOf(leaving), 1)
  } finally {
    for (const m of members) await m.stop().catch(() => undefined)
    for (const r of roots) {
      await stopEtcd(etcdDir(r))
      await rm(r, { recursive: true, force: true })
    }
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { etcdClient } from '../../src/cluster/etcd-member.js'
import { eventually, startSwarmLab, swarmInfo, swarmLabSkip, type SwarmHost, type SwarmLab } from './swarm-harness.js'

/**
 * Swarm lifecycle end to end, with the real docker CLI against berthd's on three network
 * namespaces: init, join (worker and manager tokens), join-token rotation, restart of a worker
 * rejoining, leave, a three-member etcd, and the loss of the first manager (berthd and etcd
 * killed) with the other two carrying on.
 */

const SKIP = swarmLabSkip()

const NOT_MANAGER_WORKER = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager."

async function joinToken(h: SwarmHost, role: 'worker' | 'manager'): Promise<string> {
  const r = await h.docker('swarm', 'join-token', '-q', role)
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.trim()
}

interface WireNode { ID: string; Spec: { Role: string }; Status: { State: string; Addr: string }; Description: { Hostname: string }; ManagerStatus?: { Leader?: boolean; Addr: string } }

async function nodes(h: SwarmHost): Promise<WireNode[]> {
  const r = await h.api('GET', '/nodes')
  assert.equal(r.status, 200, r.text)
  return r.json() as WireNode[]
}

/** The etcd members as host h's manager sees them (over mTLS with its node certificate). */
async function etcdMembers(h: SwarmHost): Promise<string[]> {
  const certs = join(h.dataRoot, 'swarm', 'certificates')
  const [certPem, keyPem, caPem] = await Promise.all(['swarm-node.crt', 'swarm-node.key', 'swarm-root-ca.crt'].map((f) => readFile(join(certs, f), 'utf8')))
  const c = etcdClient([`https://${h.ip}:2379`], { certPem: certPem!, keyPem: keyPem!, caPem: caPem! })
  try {
    const res = await c.cluster.memberList({})
    return res.members.map((m) => m.name).sort()
  } finally {
    c.close()
  }
}

test('swarm lifecycle on three hosts with the docker CLI', { skip: SKIP, timeout: 600_000 }, async (t) => {
  const lab: SwarmLab = await startSwarmLab(3)
  t.after(() => lab.cleanup())
  const [h1, h2, h3] = lab.hosts as [SwarmHost, SwarmHost, SwarmHost]
  let id1 = ''

  await t.test('outside swarm mode: Swarm inactive in /info and _ping', async () => {
    const s = await swarmInfo(h1)
    assert.deepEqual(s, { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null })
    const r = await h1.docker('info', '--format', '{{.Swarm.LocalNodeState}}')
    assert.equal(r.stdout.trim(), 'inactive')
  })

  await t.test('swarm init prints the join command with the advertise address', async () => {
    const r = await h1.docker('swarm', 'init', '--advertise-addr', h1.ip)
    assert.equal(r.code, 0, r.stderr + h1.log())
    const m = /^Swarm initialized: current node \(([0-9a-z]{25})\) is now a manager\.\n/.exec(r.stdout)
    assert.ok(m, r.stdout)
    id1 = m[1]!
    assert.match(r.stdout, new RegExp(`docker swarm join --token SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25} ${h1.ip.replace(/\./g, '\\.')}:2377`))
    const s = await swarmInfo(h1)
    assert.equal(s.NodeID, id1)
    assert.equal(s.NodeAddr, h1.ip)
    assert.equal(s.LocalNodeState, 'active')
    assert.equal(s.ControlAvailable, true)
    assert.equal(s.Nodes, 1)
    assert.equal(s.Managers, 1)
    assert.deepEqual(s.RemoteManagers, [{ NodeID: id1, Addr: `${h1.ip}:2377` }])
    assert.ok(s.Cluster?.ID)
    const ping = await h1.api('GET', '/_ping')
    assert.equal(ping.status, 200)
  })

  await t.test('a second init is refused in Docker\'s words', async () => {
    const r = await h1.docker('swarm', 'init', '--advertise-addr', h1.ip)
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /This node is already part of a swarm\. Use "docker swarm leave" to leave this swarm and join another one\./)
  })

  await t.test('the node is ready and is the leader', async () => {
    const ns = await eventually(async () => {
      const l = await nodes(h1)
      return l.length === 1 && l[0]!.Status.State === 'ready' ? l : undefined
    }, 20_000, 'node 1 ready')
    const n1 = ns![0]!
    assert.equal(n1.ID, id1)
    assert.equal(n1.Description.Hostname, h1.hostname)
    assert.equal(n1.ManagerStatus?.Leader, true)
    assert.equal(n1.ManagerStatus?.Addr, `${h1.ip}:2377`)
  })

  let oldWorkerToken = ''
  await t.test('join-token --rotate replaces only that role\'s token', async () => {
    oldWorkerToken = await joinToken(h1, 'worker')
    const manager = await joinToken(h1, 'manager')
    const r = await h1.docker('swarm', 'join-token', '--rotate', 'worker')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^Successfully rotated worker join token\.\n/)
    const now = await joinToken(h1, 'worker')
    assert.notEqual(now, oldWorkerToken)
    assert.equal(now.split('-')[2], oldWorkerToken.split('-')[2], 'same CA digest')
    assert.equal(await joinToken(h1, 'manager'), manager)
  })

  await t.test('a rotated token is refused', async () => {
    const r = await h2.docker('swarm', 'join', '--token', oldWorkerToken, `${h1.ip}:2377`)
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /Error response from daemon: rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster/)
    assert.equal((await swarmInfo(h2)).LocalNodeState, 'inactive')
  })

  let id2 = ''
  await t.test('host 2 joins as a worker', async () => {
    const r = await h2.docker('swarm', 'join', '--token', await joinToken(h1, 'worker'), `${h1.ip}:2377`)
    assert.equal(r.code, 0, r.stderr + h2.log())
    assert.equal(r.stdout.trim(), 'This node joined a swarm as a worker.')
    const s = await swarmInfo(h2)
    id2 = s.NodeID
    assert.equal(s.LocalNodeState, 'active')
    assert.equal(s.ControlAvailable, false)
    assert.equal(s.NodeAddr, h2.ip)
    assert.deepEqual(s.RemoteManagers, [{ NodeID: id1, Addr: `${h1.ip}:2377` }])
    assert.equal(s.Nodes, undefined)
    await eventually(async () => (await nodes(h1)).find((n) => n.ID === id2)?.Status.State === 'ready', 20_000, 'worker ready')
    const w = (await nodes(h1)).find((n) => n.ID === id2)!
    assert.equal(w.Spec.Role, 'worker')
    assert.equal(w.Status.Addr, h2.ip)
    assert.equal(w.Description.Hostname, h2.hostname)
    assert.equal((await swarmInfo(h1)).Nodes, 2)
  })

  await t.test('a worker refuses manager requests with Docker\'s 503', async () => {
    const r = await h2.docker('swarm', 'join-token', 'worker')
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, new RegExp(NOT_MANAGER_WORKER.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    const api = await h2.api('GET', '/swarm')
    assert.equal(api.status, 503)
  })

  await t.test('docker node ls on the manager lists both nodes', async () => {
    const r = await h1.docker('node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}')
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n').map((l) => l.trimEnd()).sort()
    assert.deepEqual(lines, [`${h1.hostname} Ready Leader`, `${h2.hostname} Ready`].sort())
  })

  await t.test('a restarted worker berthd rejoins its swarm', async () => {
    await h2.stop()
    await h2.start()
    const s = await eventually(async () => {
      const i = await swarmInfo(h2)
      return i.LocalNodeState === 'active' ? i : undefined
    }, 20_000, 'worker active again')
    assert.equal(s!.NodeID, id2)
    await eventually(async () => (await nodes(h1)).find((n) => n.ID === id2)?.Status.State === 'ready', 20_000, 'worker ready after restart')
  })

  await t.test('a worker leaves: inactive, and down on the manager', async () => {
    const r = await h2.docker('swarm', 'leave')
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'Node left the swarm.')
    assert.equal((await swarmInfo(h2)).LocalNodeState, 'inactive')
    await eventually(async () => (await nodes(h1)).find((n) => n.ID === id2)?.Status.State === 'down', 20_000, 'left worker down')
    const again = await h2.docker('swarm', 'leave')
    assert.notEqual(again.code, 0)
    assert.match(again.stderr, /This node is not part of a swarm/)
  })

  let id3 = ''
  await t.test('two managers join: a three-member etcd', async () => {
    const token = await joinToken(h1, 'manager')
    for (const h of [h2, h3]) {
      const r = await h.docker('swarm', 'join', '--token', token, `${h1.ip}:2377`)
      assert.equal(r.code, 0, r.stderr + h.log())
      assert.equal(r.stdout.trim(), 'This node joined a swarm as a manager.')
    }
    const s2 = await swarmInfo(h2)
    const s3 = await swarmInfo(h3)
    id2 = s2.NodeID
    id3 = s3.NodeID
    assert.equal(s3.ControlAvailable, true)
    assert.equal(s3.Managers, 3)
    assert.deepEqual(await etcdMembers(h1), [id1, id2, id3].sort())
    assert.deepEqual(await etcdMembers(h3), [id1, id2, id3].sort())
    // Every manager answers for the cluster, and they agree.
    const tokens = await Promise.all([h1, h2, h3].map((h) => joinToken(h, 'worker')))
    assert.equal(new Set(tokens).size, 1)
  })

  await t.test('a manager leave without --force is refused in Docker\'s words', async () => {
    const r = await h1.docker('swarm', 'leave')
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /You are attempting to leave the swarm on a node that is participating as a manager\. The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`\. Use `--force` to suppress this message\./)
  })

  await t.test('losing host 1 (berthd and etcd killed): the other managers go on', async () => {
    await h1.kill()
    assert.equal(await h1.killEtcd(), true)
    // Writes still work (etcd keeps its quorum of two)...
    const r = await eventually(async () => {
      const x = await h2.docker('swarm', 'update', '--task-history-limit', '7')
      return x.code === 0 ? x : undefined
    }, 30_000, 'swarm update on host 2')
    assert.equal(r!.stdout.trim(), 'Swarm updated.')
    const inspect = await h3.api('GET', '/swarm')
    assert.equal((inspect.json() as { Spec: { Orchestration: { TaskHistoryRetentionLimit: number } } }).Spec.Orchestration.TaskHistoryRetentionLimit, 7)
    // ...and a new leader's loop marks host 1 down.
    await eventually(async () => (await nodes(h3)).find((n) => n.ID === id1)?.Status.State === 'down', 30_000, 'host 1 down')
    // MANAGER STATUS as docker node ls shows it: the lost manager Unreachable, one new Leader.
    const status = await eventually(async () => {
      const r = await h3.docker('node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}')
      const lines = r.stdout.trim().split('\n').sort()
      return lines.includes(`${h1.hostname} Unreachable`) && lines.filter((l) => l.endsWith(' Leader')).length === 1 ? lines : undefined
    }, 20_000, 'manager status after the loss')
    assert.ok(status!.some((l) => l === `${h2.hostname} Leader` || l === `${h3.hostname} Leader`), status!.join('; '))
  })

  await t.test('host 1 comes back: etcd restarted from its data, the node ready again', async () => {
    await h1.start()
    await eventually(async () => (await swarmInfo(h1)).LocalNodeState === 'active', 30_000, 'host 1 active')
    await eventually(async () => (await nodes(h2)).find((n) => n.ID === id1)?.Status.State === 'ready', 30_000, 'host 1 ready')
    const inspect = await h1.api('GET', '/swarm')
    assert.equal((inspect.json() as { Spec: { Orchestration: { TaskHistoryRetentionLimit: number } } }).Spec.Orchestration.TaskHistoryRetentionLimit, 7)
  })

  // Services on these hosts: swarm-services.test.ts (the acceptance).

  await t.test('managers leave with --force; the swarm ends', async () => {
    for (const h of [h3, h2]) {
      const r = await h.docker('swarm', 'leave', '--force')
      assert.equal(r.code, 0, r.stderr)
      assert.equal((await swarmInfo(h)).LocalNodeState, 'inactive')
    }
    assert.deepEqual(await etcdMembers(h1), [id1])
    const r = await h1.docker('swarm', 'leave', '--force')
    assert.equal(r.code, 0, r.stderr)
    for (const h of [h1, h2, h3]) assert.equal(await h.killEtcd(), false, `no etcd left on ${h.hostname}`)
  })
})

test('single manager: autolock, unlock after restart, leaving the last manager', { skip: SKIP, timeout: 300_000 }, async (t) => {
  const lab = await startSwarmLab(1)
  t.after(() => lab.cleanup())
  const [h] = lab.hosts as [SwarmHost]
  let key = ''

  await t.test('a lab host runs containers (cgroups and mounts as on the host)', async () => {
    const { fixture } = await import('./harness.js')
    const l = await h.docker('load', '-q', '-i', await fixture('busybox'))
    assert.equal(l.code, 0, l.stderr)
    const r = await h.docker('run', '--rm', 'busybox', 'sh', '-c', 'hostname; cat /proc/self/cgroup | head -1')
    assert.equal(r.code, 0, r.stderr + h.log())
  })

  await t.test('init --autolock prints the unlock key', async () => {
    const r = await h.docker('swarm', 'init', '--autolock')
    assert.equal(r.code, 0, r.stderr + h.log())
    const m = /(SWMKEY-1-[A-Za-z0-9+/]{43})/.exec(r.stdout)
    assert.ok(m, r.stdout)
    key = m[1]!
    assert.equal((await swarmInfo(h)).NodeAddr, h.ip, 'the only address is advertised')
    const k = await h.docker('swarm', 'unlock-key', '-q')
    assert.equal(k.stdout.trim(), key)
  })

  await t.test('a restarted berthd is locked until unlocked', async () => {
    await h.stop()
    await h.start()
    const s = await swarmInfo(h)
    assert.equal(s.LocalNodeState, 'locked')
    assert.equal(s.Error, 'Swarm is encrypted and locked. Please unlock it first.')
    const ls = await h.api('GET', '/nodes')
    assert.equal(ls.status, 503)
    const bad = await runUnlock(h, 'SWMKEY-1-' + 'A'.repeat(43))
    assert.notEqual(bad.code, 0)
    assert.match(bad.stderr, /swarm could not be unlocked: invalid key/)
    const ok = await runUnlock(h, key)
    assert.equal(ok.code, 0, ok.stderr + h.log())
    await eventually(async () => (await swarmInfo(h)).LocalNodeState === 'active', 20_000, 'active after unlock')
  })

  await t.test('autolock off: the next restart needs no key', async () => {
    const r = await h.docker('swarm', 'update', '--autolock=false')
    assert.equal(r.code, 0, r.stderr)
    await h.stop()
    await h.start()
    await eventually(async () => (await swarmInfo(h)).LocalNodeState === 'active', 20_000, 'active after restart')
  })

  await t.test('leaving the last manager needs --force', async () => {
    const r = await h.docker('swarm', 'leave')
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /You are attempting to leave the swarm on a node that is participating as a manager\. Removing the last manager erases all current state of the swarm\. Use `--force` to ignore this message\./)
    const f = await h.docker('swarm', 'leave', '--force')
    assert.equal(f.code, 0, f.stderr)
    assert.equal((await swarmInfo(h)).LocalNodeState, 'inactive')
    assert.equal(await h.killEtcd(), false, 'etcd stopped by leave')
  })
})

async function runUnlock(h: SwarmHost, key: string) {
  const { runCmd } = await import('./harness.js')
  return runCmd('docker', ['-H', h.host, 'swarm', 'unlock'], { input: `${key}\n`, timeoutMs: 60_000 })
}

test('node promote and demote: the node joins and leaves the etcd cluster', { skip: SKIP, timeout: 300_000 }, async (t) => {
  const lab = await startSwarmLab(2)
  t.after(() => lab.cleanup())
  const [h1, h2] = lab.hosts as [SwarmHost, SwarmHost]
  const init = await h1.docker('swarm', 'init', '--advertise-addr', h1.ip)
  assert.equal(init.code, 0, init.stderr)
  const join = await h2.docker('swarm', 'join', '--token', await joinToken(h1, 'worker'), `${h1.ip}:2377`)
  assert.equal(join.code, 0, join.stderr)
  const id1 = (await swarmInfo(h1)).NodeID
  const id2 = (await swarmInfo(h2)).NodeID

  await t.test('promote: a manager certificate and an etcd member', async () => {
    const r = await h1.docker('node', 'promote', id2)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), `Node ${id2} promoted to a manager in the swarm.`)
    await eventually(async () => (await swarmInfo(h2)).ControlAvailable, 30_000, 'host 2 a manager')
    assert.deepEqual(await etcdMembers(h1), [id1, id2].sort())
    assert.deepEqual(await etcdMembers(h2), [id1, id2].sort())
    assert.equal((await joinToken(h2, 'worker')).length > 0, true)
    const n2 = (await nodes(h1)).find((n) => n.ID === id2)!
    assert.equal(n2.ManagerStatus?.Addr, `${h2.ip}:2377`)
  })

  await t.test('demote: back to a worker, out of the etcd cluster', async () => {
    const r = await h1.docker('node', 'demote', id2)
    assert.equal(r.code, 0, r.stderr)
    await eventually(async () => {
      const s = await swarmInfo(h2)
      return s.LocalNodeState === 'active' && !s.ControlAvailable
    }, 30_000, 'host 2 a worker')
    assert.deepEqual(await etcdMembers(h1), [id1])
    assert.equal(await h2.killEtcd(), false, 'no etcd on the demoted node')
    await eventually(async () => (await nodes(h1)).find((n) => n.ID === id2)?.Status.State === 'ready', 20_000, 'demoted node ready')
    assert.equal((await nodes(h1)).find((n) => n.ID === id2)?.ManagerStatus, undefined)
  })
})

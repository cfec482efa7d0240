import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { Router } from '../router.js'
import { networkRoutes } from './networks.js'
import { EngineError } from '../../lib/errors.js'
import type { NetworkBackend, NetworkView, SwarmNetwork, SwarmNetworks, SwarmNetworkSpec } from '../backend.js'
import type { NetworkRecord } from '../../network/types.js'

const rec = (id: string, name: string, o: Partial<NetworkRecord> = {}): NetworkRecord => ({
  id, name, driver: 'bridge', created: '2026-01-01T00:00:00Z', subnet: '172.18.0.0/16', gateway: '172.18.0.1', ipRange: '', userSubnet: false, internal: false, attachable: false, labels: {}, options: {}, bridge: 'bb', isDefault: false, ...o,
})

function localBackend(recs: NetworkRecord[]): NetworkBackend & { removed: string[] } {
  const removed: string[] = []
  const view = (n: NetworkRecord): NetworkView => ({ network: n, endpoints: [] } as unknown as NetworkView)
  const find = (ref: string) => {
    const n = recs.find((x) => x.id === ref || x.name === ref || x.id.startsWith(ref))
    if (!n) throw new EngineError('NotFound', 'ERR_NETWORK_NOT_FOUND', `network ${ref} not found`)
    return n
  }
  return {
    removed,
    list: async (f: { scope?: string[]; driver?: string[] }) => recs.filter((n) => (!f.scope || f.scope.includes('local')) && (!f.driver || f.driver.includes(n.driver))).map(view),
    inspect: async (ref: string) => view(find(ref)),
    create: async () => ({ id: 'local-new', warning: '' }),
    remove: async (ref: string) => { removed.push(find(ref).id) },
  } as unknown as NetworkBackend & { removed: string[] }
}

function fakeCluster(role: 'manager' | 'worker' | 'none'): SwarmNetworks & { created: SwarmNetworkSpec[]; removed: string[] } {
  const nets: SwarmNetwork[] = [{
    id: 'swarmnet0000000000000000a', version: { index: 3 }, createdAt: '2026-01-02T00:00:00Z', updatedAt: '2026-01-02T00:00:00Z', vni: 4097,
    spec: { name: 'front', labels: { tier: 'web' }, driver: 'overlay', options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' }, attachable: true, ingress: false, internal: false, ipam: { driver: 'default', config: [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1' }] } },
  }]
  const gate = () => {
    if (role === 'none') throw new EngineError('Unavailable', 'ERR_SWARM_NOT_MANAGER', 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.')
    if (role === 'worker') throw new EngineError('Unavailable', 'ERR_SWARM_WORKER', 'worker')
  }
  const created: SwarmNetworkSpec[] = []
  const removed: string[] = []
  return {
    created, removed,
    listSwarmNetworks: async () => { gate(); return nets },
    inspectSwarmNetwork: async (ref: string) => { gate(); const n = nets.find((x) => x.id === ref || x.spec.name === ref); if (!n) throw new EngineError('NotFound', 'ERR_SWARM_NETWORK_NOT_FOUND', `network ${ref} not found`); return n },
    createSwarmNetwork: async (spec: SwarmNetworkSpec) => { gate(); created.push(spec); return 'newswarm00000000000000000' },
    removeSwarmNetwork: async (ref: string) => { gate(); removed.push(ref) },
  }
}

async function serve(b: NetworkBackend, cluster?: SwarmNetworks) {
  const r = new Router('Berth/test (linux)')
  networkRoutes(r, b, cluster)
  const srv = createServer((req, res) => void r.handle(req, res))
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {}) })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined }
  }
  return { call, close: () => new Promise((resolve) => srv.close(resolve)) }
}

test('network routes on a manager: ls shows swarm networks (Scope swarm), create -d overlay and rm go to the cluster', async () => {
  const local = localBackend([rec('b'.repeat(64), 'bridge', { isDefault: true })])
  const cluster = fakeCluster('manager')
  const s = await serve(local, cluster)
  try {
    const ls = await s.call('GET', '/networks')
    assert.deepEqual(ls.body.map((n: { Name: string; Scope: string; Driver: string }) => `${n.Name} ${n.Driver} ${n.Scope}`), ['bridge bridge local', 'front overlay swarm'])
    const front = ls.body[1]
    assert.deepEqual(front.IPAM.Config, [{ Subnet: '10.0.1.0/24', Gateway: '10.0.1.1' }])
    assert.equal(front.Attachable, true)
    assert.deepEqual((await s.call('GET', '/networks?filters=' + encodeURIComponent('{"scope":{"swarm":true}}'))).body.map((n: { Name: string }) => n.Name), ['front'])
    assert.deepEqual((await s.call('GET', '/networks?filters=' + encodeURIComponent('{"driver":{"bridge":true}}'))).body.map((n: { Name: string }) => n.Name), ['bridge'])
    const ins = await s.call('GET', '/networks/front')
    assert.equal(ins.status, 200)
    assert.equal(ins.body.Id, 'swarmnet0000000000000000a')
    assert.equal(ins.body.Options['com.docker.network.driver.overlay.vxlanid_list'], '4097')
    const cr = await s.call('POST', '/networks/create', { Name: 'back', Driver: 'overlay', Attachable: true, Labels: { a: 'b' }, IPAM: { Config: [{ Subnet: '10.5.0.0/24' }] } })
    assert.equal(cr.status, 201)
    assert.equal(cr.body.Id, 'newswarm00000000000000000')
    assert.deepEqual(cluster.created[0], { name: 'back', labels: { a: 'b' }, driver: 'overlay', options: {}, attachable: true, ingress: false, internal: false, ipam: { driver: 'default', config: [{ subnet: '10.5.0.0/24', gateway: '' }] } })
    assert.equal((await s.call('DELETE', '/networks/front')).status, 204)
    assert.deepEqual(cluster.removed, ['front'])
    assert.equal((await s.call('DELETE', '/networks/bridge')).status, 204)
    assert.deepEqual(local.removed, ['b'.repeat(64)])
    assert.equal((await s.call('GET', '/networks/nope')).status, 404)
  } finally {
    await s.close()
  }
})

test('network routes outside swarm and on a worker: local networks only; create -d overlay refused in Docker\'s words', async () => {
  for (const [role, status, message] of [
    ['none', 503, 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'],
    ['worker', 403, 'Cannot create a multi-host network from a worker node. Please create the network from a manager node.'],
  ] as const) {
    const s = await serve(localBackend([rec('b'.repeat(64), 'bridge')]), fakeCluster(role))
    try {
      assert.deepEqual((await s.call('GET', '/networks')).body.map((n: { Name: string }) => n.Name), ['bridge'])
      const cr = await s.call('POST', '/networks/create', { Name: 'x', Driver: 'overlay' })
      assert.equal(cr.status, status)
      assert.equal(cr.body.message, message)
      assert.equal((await s.call('GET', '/networks/front')).status, 404)
    } finally {
      await s.close()
    }
  }
  // No cluster wired at all: the same 503.
  const s = await serve(localBackend([]))
  try {
    const cr = await s.call('POST', '/networks/create', { Name: 'x', Driver: 'overlay' })
    assert.equal(cr.status, 503)
  } finally {
    await s.close()
  }
})

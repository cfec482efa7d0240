import { test } from 'node:test'
import assert from 'node:assert/strict'
import { nodeAddressOn, peersOf, type ClusterView } from './swarm-overlay.js'
import { makeNode, makeService, makeTask } from '../../cluster/testing/objects.js'

test('overlay peers: other nodes\' live tasks and their ingress addresses, never this node\'s, never ended tasks', () => {
  const a = makeNode('a', { id: 'a' }); a.status.addr = '192.168.1.10'
  const b = makeNode('b', { id: 'b' }); b.status.addr = '192.168.1.11'
  a.attachments = [{ networkId: 'ing', addresses: ['10.0.0.2/24'] }]
  b.attachments = [{ networkId: 'ing', addresses: ['10.0.0.3/24'] }]
  const svc = makeService('web')
  const t = (id: string, nodeId: string, state: 'running' | 'failed' | 'assigned', addr: string) => {
    const x = makeTask(svc, { id, nodeId, state })
    x.networksAttachments = [{ networkId: 'ing', addresses: [`10.0.0.${addr}/24`] }, { networkId: 'n1', addresses: [`10.0.1.${addr}/24`] }]
    return x
  }
  const tasks = [t('t1', 'a', 'running', '5'), t('t2', 'b', 'running', '6'), t('t3', 'b', 'failed', '7'), t('t4', 'b', 'assigned', '8'), t('t5', '', 'running', '9')]
  const view: ClusterView = { nodes: new Map([['a', a], ['b', b]]), tasks: new Map(tasks.map((x) => [x.id, x])), networks: new Map(), services: new Map() }
  assert.deepEqual(peersOf(view, 'n1', 'a'), [
    { ip: '10.0.1.6', mac: '02:42:0a:00:01:06', node: '192.168.1.11' },
    { ip: '10.0.1.8', mac: '02:42:0a:00:01:08', node: '192.168.1.11' },
  ])
  assert.deepEqual(peersOf(view, 'ing', 'b').map((p) => `${p.ip}@${p.node}`), ['10.0.0.2@192.168.1.10', '10.0.0.5@192.168.1.10'])
  assert.equal(nodeAddressOn(view, 'ing', 'b'), '10.0.0.3/24')
  assert.equal(nodeAddressOn(view, 'n1', 'b'), undefined)
})

test('service discovery and load balancing from cluster state: VIP, dnsrr, tasks.<service>, task names, ingress ports', async () => {
  const { resolveSwarmName, vipsFor, ingressPortsOf, taskName } = await import('./swarm-overlay.js')
  const web = makeService('web', { taskTemplate: { containerSpec: { image: 'x' }, networks: [{ target: 'n1', aliases: ['www'] }] } })
  web.endpoint = { spec: { mode: 'vip' }, ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'ingress' }], virtualIPs: [{ networkId: 'ing', addr: '10.0.0.2/24' }, { networkId: 'n1', addr: '10.0.1.2/24' }] }
  const rr = makeService('rr', { endpointSpec: { mode: 'dnsrr' } })
  rr.endpoint = { spec: { mode: 'dnsrr' }, ports: [], virtualIPs: [] }
  const task = (svc: typeof web, id: string, slot: number, state: 'running' | 'failed', addrs: Record<string, string>) => {
    const t = makeTask(svc, { id, slot, state, nodeId: 'a' })
    t.networksAttachments = Object.entries(addrs).map(([networkId, a]) => ({ networkId, addresses: [`${a}/24`] }))
    return t
  }
  const tasks = [
    task(web, 'w1', 1, 'running', { ing: '10.0.0.5', n1: '10.0.1.5' }),
    task(web, 'w2', 2, 'running', { ing: '10.0.0.6', n1: '10.0.1.6' }),
    task(web, 'w3', 3, 'failed', { ing: '10.0.0.7', n1: '10.0.1.7' }),
    task(rr, 'r1', 1, 'running', { n1: '10.0.1.8' }),
    task(rr, 'r2', 2, 'running', { n1: '10.0.1.9' }),
  ]
  const view: ClusterView = { nodes: new Map(), tasks: new Map(tasks.map((t) => [t.id, t])), networks: new Map(), services: new Map([[web.id, web], [rr.id, rr]]) }
  assert.deepEqual(resolveSwarmName(view, ['n1'], 'web'), ['10.0.1.2'])
  assert.deepEqual(resolveSwarmName(view, ['n1'], 'WWW.'), ['10.0.1.2'])
  assert.deepEqual(resolveSwarmName(view, ['n1'], 'tasks.web'), ['10.0.1.5', '10.0.1.6'])
  assert.deepEqual(resolveSwarmName(view, ['n1'], 'rr'), ['10.0.1.8', '10.0.1.9'])
  assert.deepEqual(resolveSwarmName(view, ['n1'], taskName(tasks[1]!)), ['10.0.1.6'])
  assert.equal(taskName(tasks[1]!), 'web.2.w2')
  assert.equal(resolveSwarmName(view, ['n2'], 'web'), undefined, 'no shared network')
  assert.equal(resolveSwarmName(view, ['n1'], 'nothing'), undefined)
  assert.deepEqual(vipsFor(view, ['n1']), [{ vip: '10.0.1.2', backends: ['10.0.1.5', '10.0.1.6'] }])
  assert.deepEqual(ingressPortsOf(view, 'ing'), [{ proto: 'tcp', port: 8080, backends: ['10.0.0.5:80', '10.0.0.6:80'] }])
})

test('overlay peers: another node\'s VXLAN endpoint is its advertised data path address (--data-path-addr), else its status address', () => {
  const a = makeNode('a', { id: 'a' }); a.status.addr = '192.168.1.10'
  const b = makeNode('b', { id: 'b' }); b.status.addr = '192.168.1.11'; b.status.dataPathAddr = '172.30.0.11'
  const c = makeNode('c', { id: 'c' }); c.status.addr = '192.168.1.12'
  b.attachments = [{ networkId: 'ing', addresses: ['10.0.0.3/24'] }]
  const svc = makeService('web')
  const t = makeTask(svc, { id: 't1', nodeId: 'b', state: 'running' })
  t.networksAttachments = [{ networkId: 'n1', addresses: ['10.0.1.6/24'] }]
  const u = makeTask(svc, { id: 't2', nodeId: 'c', state: 'running' })
  u.networksAttachments = [{ networkId: 'n1', addresses: ['10.0.1.7/24'] }]
  const view: ClusterView = { nodes: new Map([['a', a], ['b', b], ['c', c]]), tasks: new Map([[t.id, t], [u.id, u]]), networks: new Map(), services: new Map() }
  assert.deepEqual(peersOf(view, 'n1', 'a').map((p) => `${p.ip}@${p.node}`), ['10.0.1.6@172.30.0.11', '10.0.1.7@192.168.1.12'])
  assert.deepEqual(peersOf(view, 'ing', 'a').map((p) => `${p.ip}@${p.node}`), ['10.0.0.3@172.30.0.11'])
})

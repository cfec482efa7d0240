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

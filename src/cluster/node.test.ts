import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { NetworkInterfaceInfo } from 'node:os'
import { chooseAdvertiseAddr, mergeSwarmSpec, etcdClientUrl, etcdPeerUrl } from './node.js'
import { defaultSwarmSpec } from './types.js'
import { JoinServer, NodeHandlers, fetchRemoteCa, nodeCall, requestJoin } from './join-server.js'
import { EngineError } from '../lib/errors.js'
import { caDigest, issueNodeCertificate, loadPki, newCaRecord } from './ca.js'

function v4(address: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: `${address}/24` }
}

test('advertise address: dockerd\'s choice and its errors', () => {
  const one = { lo: [v4('127.0.0.1', true)], eth0: [v4('192.0.2.2')], docker0: [v4('172.17.0.1')] }
  assert.deepEqual(chooseAdvertiseAddr(undefined, '0.0.0.0', one, ['172.17.0.0/16']), { ip: '192.0.2.2' })
  assert.deepEqual(chooseAdvertiseAddr('10.1.2.3', '0.0.0.0', one), { ip: '10.1.2.3' })
  assert.deepEqual(chooseAdvertiseAddr('10.1.2.3:4000', '0.0.0.0', one), { ip: '10.1.2.3', port: 4000 })
  assert.deepEqual(chooseAdvertiseAddr('eth0', '0.0.0.0', one), { ip: '192.0.2.2' })
  assert.deepEqual(chooseAdvertiseAddr('eth0:2400', '0.0.0.0', one), { ip: '192.0.2.2', port: 2400 })
  assert.deepEqual(chooseAdvertiseAddr(undefined, '192.0.2.9', one), { ip: '192.0.2.9' }, 'a specific listen address is advertised')
  assert.throws(() => chooseAdvertiseAddr('nosuch0', '0.0.0.0', one), /advertise address must be a non-zero IP address or network interface \(with optional port number\)/)
  assert.throws(() => chooseAdvertiseAddr('0.0.0.0', '0.0.0.0', one), /advertise address must be a non-zero IP address/)
  const two = { lo: [v4('127.0.0.1', true)], eth0: [v4('192.0.2.2')], eth1: [v4('198.51.100.7')] }
  assert.throws(() => chooseAdvertiseAddr(undefined, '0.0.0.0', two), /^EngineError: could not choose an IP address to advertise since this system has multiple addresses on different interfaces \(192\.0\.2\.2 on eth0 and 198\.51\.100\.7 on eth1\)$/)
  const same = { eth0: [v4('192.0.2.2'), v4('192.0.2.3')] }
  assert.throws(() => chooseAdvertiseAddr(undefined, '0.0.0.0', same), /could not choose an IP address to advertise since this system has multiple addresses on interface eth0 \(192\.0\.2\.2 and 192\.0\.2\.3\)/)
  assert.throws(() => chooseAdvertiseAddr('eth0', '0.0.0.0', same), /interface eth0 has more than one IPv4 address \(192\.0\.2\.2 and 192\.0\.2\.3\)/)
  assert.throws(() => chooseAdvertiseAddr(undefined, '0.0.0.0', { lo: [v4('127.0.0.1', true)] }), /could not find the system's IP address/)
})

test('etcd URLs: swarm port + 2 and + 3 on the advertise address', () => {
  assert.equal(etcdClientUrl('10.0.0.1', 2377), 'https://10.0.0.1:2379')
  assert.equal(etcdPeerUrl('10.0.0.1', 2377), 'https://10.0.0.1:2380')
  assert.equal(etcdClientUrl('fd00::1', 3000), 'https://[fd00::1]:3002')
})

test('swarm spec: given sections over the defaults', () => {
  const s = mergeSwarmSpec(defaultSwarmSpec(), { orchestration: { taskHistoryRetentionLimit: 7 }, encryptionConfig: { autoLockManagers: true }, labels: { a: 'b' } })
  assert.equal(s.orchestration.taskHistoryRetentionLimit, 7)
  assert.equal(s.encryptionConfig.autoLockManagers, true)
  assert.deepEqual(s.labels, { a: 'b' })
  assert.equal(s.raft.electionTick, 10)
  assert.equal(s.dispatcher.heartbeatPeriod, 5_000_000_000)
})

test('swarm port: CA without a client certificate, join by token, mounted handlers need a swarm certificate', async (t) => {
  const pki = await loadPki()
  const ca = await newCaRecord(pki)
  const server = await issueNodeCertificate(pki, ca, { nodeId: 'mgr1', role: 'manager', clusterId: 'c1' }, { extraAltNames: ['127.0.0.1'] })
  const client = await issueNodeCertificate(pki, ca, { nodeId: 'wrk1', role: 'worker', clusterId: 'c1' })
  const other = await newCaRecord(pki)
  const stranger = await issueNodeCertificate(pki, other, { nodeId: 'x', role: 'worker', clusterId: 'c2' })
  const handlers = new NodeHandlers()
  handlers.mount('/berth/echo/', (req, res, peer) => {
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ path: req.url, peer }))
  })
  const srv = new JoinServer({
    tls: { certPem: server.certPem, keyPem: server.keyPem!, caPem: ca.rootCertPem },
    handlers,
    onJoin: async (b) => {
      if (b.token !== 'good') throw new EngineError('InvalidArgument', 'ERR_SWARM_TOKEN_REJECTED', 'A valid join token is necessary to join this cluster')
      return { nodeId: 'n2', clusterId: 'c1', role: 'worker', certPem: 'CERT', caPem: ca.rootCertPem, etcdEndpoints: ['https://127.0.0.1:2379'], managers: [] }
    },
  })
  await srv.listen('127.0.0.1', 0)
  t.after(() => srv.close())
  const addr = `127.0.0.1:${srv.port}`

  const got = await fetchRemoteCa(addr, ca.digest)
  assert.equal(got.caPem, ca.rootCertPem)
  assert.equal(got.localAddress, '127.0.0.1')
  await assert.rejects(fetchRemoteCa(addr, caDigest(other.rootCertPem)), /remote CA does not match fingerprint\. Expected: [0-9a-f]{64}/)

  const body = { token: 'good', csrPem: 'CSR', advertiseAddr: '127.0.0.1', swarmPort: 2377, description: { hostname: 'h', platform: { architecture: 'x86_64', os: 'linux' }, resources: { nanoCPUs: 1, memoryBytes: 1 }, engine: { engineVersion: 'v', labels: {} } } }
  assert.equal((await requestJoin(addr, ca.rootCertPem, body)).nodeId, 'n2')
  await assert.rejects(requestJoin(addr, ca.rootCertPem, { ...body, token: 'bad' }), (err: Error & { kind?: string }) => err.message === 'rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster' && err.kind === 'InvalidArgument')

  const tls = { certPem: client.certPem, keyPem: client.keyPem!, caPem: ca.rootCertPem }
  const ok = await nodeCall(addr, tls, 'GET', '/berth/echo/x')
  assert.equal(ok.status, 200)
  assert.deepEqual(JSON.parse(ok.body.toString()).peer, { nodeId: 'wrk1', role: 'worker', clusterId: 'c1' })
  assert.equal((await nodeCall(addr, tls, 'GET', '/berth/nothing')).status, 404)
  const bad = await nodeCall(addr, { certPem: stranger.certPem, keyPem: stranger.keyPem!, caPem: ca.rootCertPem }, 'GET', '/berth/echo/x').catch((e: Error) => ({ status: -1, body: Buffer.from(e.message) }))
  assert.equal(bad.status, 401)
})

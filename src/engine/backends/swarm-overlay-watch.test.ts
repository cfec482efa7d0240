import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { ETCD_SKIP } from '../../cluster/testing/etcd-fixture.js'

/**
 * OverlayNetworks over a real cluster store: in a child inside a fresh "host" namespace (its own
 * etcd on its loopback), `start` follows the store and `ensure` sets up a swarm network whose
 * remote endpoints (a task running on another node) appear as static FDB/neighbour entries, and
 * go when the task ends.
 */
const root = process.getuid?.() === 0
const SKIP = !root ? 'needs root (network namespaces)' : ETCD_SKIP
const url = (p: string) => JSON.stringify(new URL(p, import.meta.url).href)
const sh = (args: string[]) => spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' })

test('swarm overlay: the watcher programs FDB and neighbour entries for remote tasks and removes them when the task ends', { skip: SKIP, timeout: 90_000 }, async () => {
  const id = randomBytes(3).toString('hex')
  const host = `ovw-${id}-h`
  const dataRoot = sh(['mktemp', '-d', '/tmp/berth-ovw-XXXXXX']).stdout.trim()
  const script = `
    import { spawnSync } from 'node:child_process'
    import { startTestEtcd } from ${url('../../cluster/testing/etcd-fixture.js')}
    import { ClusterStore } from ${url('../../cluster/store.js')}
    import { makeNode, makeService, makeTask } from ${url('../../cluster/testing/objects.js')}
    import { NetworkService } from ${url('../../network/service.js')}
    import { swarmOverlay } from ${url('./swarm-overlay.js')}
    const out = {}
    let fx, stop, svc
    try {
      fx = await startTestEtcd('ovw')
      const store = new ClusterStore(fx.member.client)
      const n1 = makeNode('n1', { id: 'n1' }); n1.status.addr = '10.199.0.1'
      const n2 = makeNode('n2', { id: 'n2' }); n2.status.addr = '10.199.0.2'
      await store.create('nodes', n1); await store.create('nodes', n2)
      const now = new Date().toISOString()
      const net = { id: 'swarmnet00000000000000000', version: { index: 0 }, createdAt: now, updatedAt: now, vni: 4097,
        spec: { name: 'front', labels: {}, driver: 'overlay', options: {}, attachable: false, ingress: false, internal: false, ipam: { driver: 'default', config: [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1' }] } } }
      await store.create('networks', net)
      const s = makeService('web')
      const t = makeTask(s, { id: 'task2', nodeId: 'n2', state: 'running' })
      t.networksAttachments = [{ networkId: net.id, addresses: ['10.0.1.7/24'] }]
      await store.create('tasks', t)
      svc = new NetworkService({ dataRoot: ${JSON.stringify(dataRoot)}, log: (m) => console.error(m), containers: () => ({ all: () => [], get: () => undefined, resolve: () => { throw new Error('none') } }) })
      await svc.init()
      const ov = swarmOverlay({ networks: svc, log: (m) => console.error(m) })
      stop = await ov.start({ nodeId: 'n1', role: 'worker', store, advertiseAddr: '10.199.0.1', swarmAddr: '10.199.0.1:2377', dataPathAddr: '10.199.0.1', dataPathPort: 4789, tls: { certPem: '', keyPem: '', caPem: '' } })
      out.localId = await ov.ensure(await store.get('networks', net.id))
      const ns = svc.overlay.names(4097).ns
      const dump = () => spawnSync('bridge', ['-n', ns, 'fdb', 'show', 'dev', 'vxlan0'], { encoding: 'utf8' }).stdout + spawnSync('ip', ['-n', ns, 'neigh', 'show', 'dev', 'vxlan0'], { encoding: 'utf8' }).stdout
      out.before = dump()
      await store.modify('tasks', 'task2', (x) => ({ ...x, status: { ...x.status, state: 'failed' } }))
      for (let i = 0; i < 100 && dump().includes('10.0.1.7'); i++) await new Promise((r) => setTimeout(r, 20))
      out.after = dump()
      // A new task on n2: programmed without any call, from the watch.
      const t3 = makeTask(s, { id: 'task3', nodeId: 'n2', state: 'running', slot: 2 })
      t3.networksAttachments = [{ networkId: net.id, addresses: ['10.0.1.8/24'] }]
      await store.create('tasks', t3)
      for (let i = 0; i < 100 && !dump().includes('10.0.1.8'); i++) await new Promise((r) => setTimeout(r, 20))
      out.added = dump()
    } catch (e) { out.error = e.stack }
    try { await stop?.stop() } catch (e) { out.stopError = e.message }
    out.left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\\n').filter((l) => l.startsWith('ov-')).join(',')
    out.records = svc ? svc.list().map((n) => n.driver) : []
    svc?.close()
    await fx?.close()
    console.log('result ' + JSON.stringify(out))
    process.exit(0)
  `
  assert.equal(sh(['ip', 'netns', 'add', host]).status, 0)
  sh(['ip', '-n', host, 'link', 'set', 'lo', 'up'])
  try {
    const child = spawn('nsenter', [`--net=/run/netns/${host}`, process.execPath, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BERTH_IPAM_DIR: `${dataRoot}/ipam` } })
    let text = ''
    child.stdout.on('data', (b: Buffer) => { text += b.toString() })
    await new Promise((resolve) => child.on('exit', resolve))
    const m = /^result (.*)$/m.exec(text)
    assert.ok(m, text)
    const out = JSON.parse(m[1]!) as Record<string, string>
    assert.equal(out.error, undefined)
    assert.equal(out.localId, 'swarmnet00000000000000000')
    assert.match(out.before!, /02:42:0a:00:01:07 dst 10\.199\.0\.2 .*self permanent/)
    assert.match(out.before!, /10\.0\.1\.7 lladdr 02:42:0a:00:01:07 PERMANENT/)
    assert.doesNotMatch(out.after!, /10\.0\.1\.7|02:42:0a:00:01:07/)
    assert.match(out.added!, /10\.0\.1\.8 lladdr 02:42:0a:00:01:08 PERMANENT/)
    assert.equal(out.left, '', 'stop (leave) removes the overlay namespaces')
    assert.ok(!(out.records as unknown as string[]).includes('overlay'), 'and the local records')
  } finally {
    sh(['ip', 'netns', 'del', host])
    sh(['rm', '-rf', dataRoot])
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

/**
 * The network service's overlay path, in a child process inside a fresh "host" namespace: a
 * swarm network ensured (local record of driver overlay, scope swarm), a container started on it
 * with the task's address (veth on the network's br0, default route via the gateway), the
 * embedded DNS answering a service name from the swarm resolver, then everything released.
 */
const root = process.getuid?.() === 0
const SKIP = root ? false : 'needs root (network namespaces)'
const serviceUrl = new URL('./service.js', import.meta.url).href
const sh = (args: string[]) => spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' })

test('network service: a container on a swarm network gets its address, route, DNS of service names; release removes the namespace', { skip: SKIP, timeout: 60_000 }, async () => {
  const id = randomBytes(3).toString('hex')
  const host = `ovs-${id}-h`
  const dataRoot = sh(['mktemp', '-d', '/tmp/berth-ovs-XXXXXX']).stdout.trim()
  const ctrId = `c${id}`.padEnd(64, '0')
  const script = `
    import { NetworkService } from ${JSON.stringify(serviceUrl)}
    const ctr = { id: ${JSON.stringify(ctrId)}, name: 'web.1.abc', config: { hostname: 'h', domainname: '', exposedPorts: {} },
      hostConfig: { networkMode: 'swarmnet00000000000000000', portBindings: {}, publishAllPorts: false, links: [], extraHosts: [], dns: [], dnsSearch: [], dnsOptions: [] },
      state: { status: 'running', pid: 0 }, endpointsConfig: { swarmnet00000000000000000: { aliases: [], ipv4Address: '10.0.1.5', ipv6Address: '', macAddress: '', links: [] } } }
    const svc = new NetworkService({ dataRoot: ${JSON.stringify(dataRoot)}, log: (m) => console.error(m), containers: () => ({ all: () => [ctr], get: (i) => (i === ctr.id ? ctr : undefined), resolve: () => ctr }) })
    const out = {}
    try {
      await svc.init()
      await svc.ensureOverlay({ id: 'swarmnet00000000000000000', name: 'front', vni: 4097, subnet: '10.0.1.0/24', gateway: '10.0.1.1', created: '2026-01-01T00:00:00Z', labels: {}, options: {}, attachable: false, internal: false, ingress: false }, { addr: '127.0.0.1', port: 4789 })
      const rec = svc.resolveNetwork('front')
      out.record = { driver: rec.driver, scope: rec.overlay?.scope, subnet: rec.subnet }
      svc.useSwarmResolver((nets, name) => (name === 'api' && nets.includes('swarmnet00000000000000000') ? ['10.0.1.2'] : undefined))
      const up = await svc.setUp(ctr)
      out.netns = up.state.netns
      out.resolv = up.resolvConf
      out.ep = up.state.endpoints.map((e) => [e.ip, e.prefixLen, e.mac, e.gateway])
      ctr.network = up.state
      console.log('ready ' + JSON.stringify(out))
    } catch (e) { console.log('error ' + e.stack) }
    process.stdin.resume()
    process.stdin.on('end', async () => {
      await svc.tearDown(ctr)
      await svc.releaseOverlay('swarmnet00000000000000000')
      svc.close()
      console.log('done ' + JSON.stringify(svc.list().map((n) => n.name)))
      process.exit(0)
    })
  `
  assert.equal(sh(['ip', 'netns', 'add', host]).status, 0)
  sh(['ip', '-n', host, 'link', 'set', 'lo', 'up'])
  const child = spawn('nsenter', [`--net=/run/netns/${host}`, process.execPath, '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, BERTH_IPAM_DIR: `${dataRoot}/ipam` } })
  let text = ''
  child.stdout.on('data', (b: Buffer) => { text += b.toString() })
  const waitFor = (word: string) => new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      const m = new RegExp(`^${word} (.*)$`, 'm').exec(text)
      if (m) { clearInterval(t); resolve(m[1]!) }
      if (/^error /m.test(text)) { clearInterval(t); reject(new Error(text)) }
    }, 20)
  })
  let netns = ''
  try {
    const info = JSON.parse(await waitFor('ready')) as { record: unknown; netns: string; resolv: string; ep: unknown[] }
    netns = info.netns
    assert.deepEqual(info.record, { driver: 'overlay', scope: 'swarm', subnet: '10.0.1.0/24' })
    assert.deepEqual(info.ep, [['10.0.1.5', 24, '02:42:0a:00:01:05', '10.0.1.1']])
    assert.match(info.resolv, /nameserver 127\.0\.0\.11/)
    assert.match(sh(['ip', '-n', netns, 'addr', 'show', 'eth0']).stdout, /inet 10\.0\.1\.5\/24/)
    assert.match(sh(['ip', '-n', netns, 'route']).stdout, /default via 10\.0\.1\.1 dev eth0/)
    // The embedded DNS (on the host side of the network's host link) answers the service name from the swarm.
    const ns = sh(['ip', 'netns', 'exec', netns, 'busybox', 'nslookup', 'api', '127.0.0.11'])
    assert.match(ns.stdout, /Address:\s+10\.0\.1\.2/, ns.stdout + ns.stderr)
  } finally {
    child.stdin.end()
    const left = await waitFor('done').catch((e: Error) => e.message)
    assert.doesNotMatch(left, /front/, 'the local record of the swarm network is gone')
    sh(['ip', 'netns', 'del', host])
    sh(['rm', '-rf', dataRoot])
  }
  const list = sh(['ip', 'netns', 'list']).stdout
  assert.ok(!netns || !list.includes(netns), 'the container namespace is gone')
  assert.doesNotMatch(list, /ov-[0-9a-f]{6}-4097/)
})

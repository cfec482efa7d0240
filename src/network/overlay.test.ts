import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { overlayMac } from './overlay.js'

/**
 * Two "hosts" (network namespaces joined by a veth, 10.199.0.1 and .2), each running an
 * OverlayDriver in a child process inside it, one container namespace on each: ping and TCP
 * between the containers cross the VXLAN with static FDB/neighbour entries only.
 */

const root = process.getuid?.() === 0
const hasVxlan = root && spawnSync('ip', ['link', 'help', 'vxlan'], { stdio: 'ignore' }).status !== null
const SKIP = !root ? 'needs root (network namespaces)' : !hasVxlan ? 'no ip/vxlan' : false
const driverUrl = new URL('./overlay.js', import.meta.url).href

const sh = (args: string[]) => spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' })

/** A child in `hostNs` that sets up the overlay, prints "ready", and tears it down when its stdin closes. */
function hostDriver(hostNs: string, tag: string, local: string, ctrNs: string, addr: string, peer: { ip: string; node: string }) {
  const script = `
    import { OverlayDriver, overlayMac } from ${JSON.stringify(driverUrl)}
    const d = new OverlayDriver({ tag: ${JSON.stringify(tag)}, log: (m) => console.error(m) })
    try {
      await d.ensureNetwork({ vni: 4321, subnet: '10.250.0.0/24', gateway: '10.250.0.1' }, { addr: ${JSON.stringify(local)}, port: 4789 })
      await d.attach(4321, { containerId: ${JSON.stringify(ctrNs)}, netns: ${JSON.stringify(ctrNs)}, ifname: 'eth0', address: ${JSON.stringify(addr + '/24')}, mac: overlayMac(${JSON.stringify(addr)}), defaultRoute: true, makeNetns: true })
      await d.setPeers(4321, [{ ip: ${JSON.stringify(peer.ip)}, mac: overlayMac(${JSON.stringify(peer.ip)}), node: ${JSON.stringify(peer.node)} }])
      console.log('ready')
    } catch (e) { console.log('error ' + e.message) }
    process.stdin.resume()
    process.stdin.on('end', async () => { await d.removeAll(); console.log('done'); process.exit(0) })
  `
  const child = spawn('nsenter', [`--net=/run/netns/${hostNs}`, process.execPath, '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  const waitFor = (word: string) => new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      if (out.includes(word)) { clearInterval(t); resolve(out) }
      if (/error /.test(out)) { clearInterval(t); reject(new Error(out)) }
    }, 20)
    child.on('exit', () => setTimeout(() => { clearInterval(t); out.includes(word) ? resolve(out) : reject(new Error(`driver exited: ${out}`)) }, 50))
  })
  return { child, waitFor, stop: async () => { child.stdin.end(); await waitFor('done') } }
}

test('overlay: two hosts, one container each, ping and TCP across the VXLAN; everything removed after', { skip: SKIP, timeout: 60_000 }, async () => {
  const id = randomBytes(3).toString('hex')
  const [hA, hB, cA, cB] = [`ovt-${id}-ha`, `ovt-${id}-hb`, `ovt-${id}-ca`, `ovt-${id}-cb`]
  const [tagA, tagB] = [`a${id.slice(0, 5)}`, `b${id.slice(0, 5)}`]
  const drivers: ReturnType<typeof hostDriver>[] = []
  try {
    for (const [args] of [
      [['ip', 'netns', 'add', hA]], [['ip', 'netns', 'add', hB]],
      [['ip', '-n', hA, 'link', 'add', 'u0', 'type', 'veth', 'peer', 'name', 'u0', 'netns', hB]],
      [['ip', '-n', hA, 'addr', 'add', '10.199.0.1/24', 'dev', 'u0']], [['ip', '-n', hB, 'addr', 'add', '10.199.0.2/24', 'dev', 'u0']],
      [['ip', '-n', hA, 'link', 'set', 'u0', 'up']], [['ip', '-n', hB, 'link', 'set', 'u0', 'up']],
      [['ip', '-n', hA, 'link', 'set', 'lo', 'up']], [['ip', '-n', hB, 'link', 'set', 'lo', 'up']],
    ] as string[][][]) assert.equal(sh(args!).status, 0, args!.join(' '))
    drivers.push(hostDriver(hA, tagA, '10.199.0.1', cA, '10.250.0.2', { ip: '10.250.0.3', node: '10.199.0.2' }))
    drivers.push(hostDriver(hB, tagB, '10.199.0.2', cB, '10.250.0.3', { ip: '10.250.0.2', node: '10.199.0.1' }))
    for (const d of drivers) await d.waitFor('ready')

    // The FDB entry is static (no learning), the neighbour permanent.
    const fdb = sh(['bridge', '-n', `ov-${tagA}-4321`, 'fdb', 'show', 'dev', 'vxlan0']).stdout
    assert.match(fdb, new RegExp(`${overlayMac('10.250.0.3')} dst 10.199.0.2 (link-netnsid \\d+ )?self permanent`))
    assert.match(sh(['ip', '-n', `ov-${tagA}-4321`, '-d', 'link', 'show', 'vxlan0']).stdout, /vxlan id 4321 local 10\.199\.0\.1 .*dstport 4789 nolearning proxy/)

    const ping = sh(['ip', 'netns', 'exec', cA, 'busybox', 'ping', '-c', '2', '-W', '2', '10.250.0.3'])
    assert.equal(ping.status, 0, ping.stdout + ping.stderr)
    // TCP: a server in B's container, a client in A's.
    const server = spawn('ip', ['netns', 'exec', cB, process.execPath, '-e', "require('net').createServer((s) => { s.end('hello over vxlan\\n') }).listen(7000, '10.250.0.3', () => console.log('listening'))"], { stdio: ['ignore', 'pipe', 'inherit'] })
    try {
      await new Promise<void>((resolve) => server.stdout.once('data', () => resolve()))
      const got = sh(['ip', 'netns', 'exec', cA, process.execPath, '-e', "const s = require('net').connect(7000, '10.250.0.3'); let b = ''; s.on('data', (d) => b += d); s.on('end', () => { process.stdout.write(b) })"])
      assert.equal(got.stdout, 'hello over vxlan\n', got.stderr)
    } finally {
      server.kill()
    }
    // A peer removed: its entries go.
  } finally {
    for (const d of drivers) await d.stop().catch((e: Error) => console.error(e.message))
    for (const ns of [cA, cB, hA, hB]) sh(['ip', 'netns', 'del', ns])
  }
  const left = sh(['ip', 'netns', 'list']).stdout
  assert.doesNotMatch(left, new RegExp(`ovt-${id}|ov-${tagA}|ov-${tagB}`))
  void fileURLToPath
})

test('a restarted driver adopts its network namespace (the containers keep their endpoints); a different one is replaced', { skip: SKIP, timeout: 30_000 }, async () => {
  const { OverlayDriver } = await import('./overlay.js')
  const tag = `r${randomBytes(2).toString('hex')}`
  const ctr = `ovt-${tag}-c`
  const spec = { vni: 9123, subnet: '10.252.0.0/24', gateway: '10.252.0.1' }
  const vtep = { addr: '127.0.0.1', port: 4789 }
  const first = new OverlayDriver({ tag, log: () => {} })
  try {
    // In this host namespace: a unique tag, an unused subnet, all removed in finally.
    const ns = await first.ensureNetwork(spec, vtep)
    await first.attach(9123, { containerId: ctr, netns: ctr, ifname: 'eth0', address: '10.252.0.2/24', mac: overlayMac('10.252.0.2'), defaultRoute: false, makeNetns: true })
    const again = new OverlayDriver({ tag, log: () => {} })
    assert.equal(await again.ensureNetwork(spec, vtep), ns)
    assert.equal(sh(['ip', '-n', ctr, 'link', 'show', 'eth0']).status, 0, 'the container kept its endpoint')
    const other = new OverlayDriver({ tag, log: () => {} })
    await other.ensureNetwork({ ...spec, subnet: '10.253.0.0/24', gateway: '10.253.0.1' }, vtep)
    assert.notEqual(sh(['ip', '-n', ctr, 'link', 'show', 'eth0']).status, 0, 'a different network replaced it (its veths went)')
    await other.removeAll()
  } finally {
    await first.removeAll()
    sh(['ip', 'netns', 'del', ctr])
  }
  assert.doesNotMatch(sh(['ip', 'netns', 'list']).stdout, new RegExp(`ov-${tag}|${ctr}`))
})

test('load-balancing rules: nth statistic spreads evenly, the last backend takes the rest; ingress chains and jumps', async () => {
  const { spreadRules, vipRulesInput, ingressRulesInput } = await import('./overlay.js')
  assert.deepEqual(spreadRules('C', '-d 10.0.1.2/32', ['a', 'b', 'c']), [
    '-A C -d 10.0.1.2/32 -m statistic --mode nth --every 3 --packet 0 -j DNAT --to-destination a',
    '-A C -d 10.0.1.2/32 -m statistic --mode nth --every 2 --packet 0 -j DNAT --to-destination b',
    '-A C -d 10.0.1.2/32 -j DNAT --to-destination c',
  ])
  assert.equal(vipRulesInput([{ vip: '10.0.1.2', backends: [] }]), '*nat\n:BERTH-VIP - [0:0]\nCOMMIT\n')
  const ing = ingressRulesInput('t1', 'ovt14096', [{ proto: 'tcp', port: 8080, backends: ['10.0.0.6:80', '10.0.0.5:80'] }])
  assert.match(ing.input, /-A BERTH-t1-ING -p tcp -m tcp --dport 8080 -m statistic --mode nth --every 2 --packet 0 -j DNAT --to-destination 10\.0\.0\.5:80\n-A BERTH-t1-ING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10\.0\.0\.6:80/)
  assert.deepEqual(ing.jumps.map((j) => j.rule), ['PREROUTING -m addrtype --dst-type LOCAL -j BERTH-t1-ING', 'OUTPUT -m addrtype --dst-type LOCAL -j BERTH-t1-ING', 'POSTROUTING -j BERTH-t1-INGP', 'FORWARD -j BERTH-t1-INGF'])
})

/** A child in `hostNs` running `body` (with `d`, an OverlayDriver, and overlayMac in scope), "ready" after it, removeAll when stdin closes. */
function hostScript(hostNs: string, tag: string, body: string) {
  const script = `
    import { OverlayDriver, overlayMac } from ${JSON.stringify(driverUrl)}
    const d = new OverlayDriver({ tag: ${JSON.stringify(tag)}, log: (m) => console.error(m) })
    try { ${body}; console.log('ready') } catch (e) { console.log('error ' + e.message) }
    process.stdin.resume()
    process.stdin.on('end', async () => { await d.removeAll(); console.log('done'); process.exit(0) })
  `
  const child = spawn('nsenter', [`--net=/run/netns/${hostNs}`, process.execPath, '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  const waitFor = (word: string) => new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      if (out.includes(word)) { clearInterval(t); resolve(out) }
      if (/error /.test(out)) { clearInterval(t); reject(new Error(out)) }
    }, 20)
    child.on('exit', () => setTimeout(() => { clearInterval(t); out.includes(word) ? resolve(out) : reject(new Error(`driver exited: ${out}`)) }, 50))
  })
  return { waitFor, stop: async () => { child.stdin.end(); await waitFor('done') } }
}

test('routing mesh and VIP: a port published on host A reaches the task on host B (from A itself and from outside); a VIP in a container balances to the task', { skip: SKIP, timeout: 60_000 }, async () => {
  const id = randomBytes(3).toString('hex')
  const [hA, hB, cA, cB] = [`ovt-${id}-ha`, `ovt-${id}-hb`, `ovt-${id}-ca`, `ovt-${id}-cb`]
  const [tagA, tagB] = [`a${id.slice(0, 5)}`, `b${id.slice(0, 5)}`]
  const drivers: ReturnType<typeof hostScript>[] = []
  const ing = (nodeAddr: string, local: string) => `await d.ensureNetwork({ vni: 4096, subnet: '10.0.0.0/24', gateway: '10.0.0.1', nodeAddr: '${nodeAddr}' }, { addr: '${local}', port: 4789 })`
  const peer = (ipx: string, node: string) => `{ ip: '${ipx}', mac: overlayMac('${ipx}'), node: '${node}' }`
  let server: ReturnType<typeof spawn> | undefined
  try {
    for (const args of [
      ['ip', 'netns', 'add', hA], ['ip', 'netns', 'add', hB],
      ['ip', '-n', hA, 'link', 'add', 'u0', 'type', 'veth', 'peer', 'name', 'u0', 'netns', hB],
      ['ip', '-n', hA, 'addr', 'add', '10.199.0.1/24', 'dev', 'u0'], ['ip', '-n', hB, 'addr', 'add', '10.199.0.2/24', 'dev', 'u0'],
      ['ip', '-n', hA, 'link', 'set', 'u0', 'up'], ['ip', '-n', hB, 'link', 'set', 'u0', 'up'],
      ['ip', '-n', hA, 'link', 'set', 'lo', 'up'], ['ip', '-n', hB, 'link', 'set', 'lo', 'up'],
    ]) assert.equal(sh(args).status, 0, args.join(' '))
    // Host A: ingress (node address .2), a client container .9, the published port 8080 → the task's :80, a VIP .4 → the task.
    drivers.push(hostScript(hA, tagA, `${ing('10.0.0.2/24', '10.199.0.1')}
      await d.attach(4096, { containerId: '${cA}', netns: '${cA}', ifname: 'eth0', address: '10.0.0.9/24', mac: overlayMac('10.0.0.9'), defaultRoute: true, makeNetns: true })
      await d.setPeers(4096, [${peer('10.0.0.3', '10.199.0.2')}, ${peer('10.0.0.5', '10.199.0.2')}])
      await d.applyIngress(4096, [{ proto: 'tcp', port: 8080, backends: ['10.0.0.5:80'] }])
      await d.applyVips('${cA}', [{ vip: '10.0.0.4', backends: ['10.0.0.5'] }])`))
    // Host B: ingress (node address .3), the task .5 listening on :80.
    drivers.push(hostScript(hB, tagB, `${ing('10.0.0.3/24', '10.199.0.2')}
      await d.attach(4096, { containerId: '${cB}', netns: '${cB}', ifname: 'eth0', address: '10.0.0.5/24', mac: overlayMac('10.0.0.5'), defaultRoute: true, makeNetns: true })
      await d.setPeers(4096, [${peer('10.0.0.2', '10.199.0.1')}, ${peer('10.0.0.9', '10.199.0.1')}])`))
    for (const d of drivers) await d.waitFor('ready')
    server = spawn('ip', ['netns', 'exec', cB, process.execPath, '-e', "require('net').createServer((s) => { s.end('task on B saw ' + s.remoteAddress + '\\n') }).listen(80, '0.0.0.0', () => console.log('listening'))"], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>((resolve) => server!.stdout!.once('data', () => resolve()))
    const get = (ns: string, host: string, port: number) => sh(['nsenter', `--net=/run/netns/${ns}`, 'curl', '-s', '--http0.9', '--max-time', '5', `http://${host}:${port}/`])
    const fromA = get(hA, '127.0.0.1', 8080)
    assert.equal(fromA.stdout, 'task on B saw 10.0.0.2\n', `from host A itself: ${fromA.stderr}`)
    const fromOutside = get(hB, '10.199.0.1', 8080)
    assert.equal(fromOutside.stdout, 'task on B saw 10.0.0.2\n', `from outside (host B's address to host A's port): ${fromOutside.stderr}`)
    const vip = sh(['ip', 'netns', 'exec', cA, 'curl', '-s', '--http0.9', '--max-time', '5', 'http://10.0.0.4:80/'])
    assert.equal(vip.stdout, 'task on B saw 10.0.0.9\n', `VIP from the container on A: ${vip.stderr}`)
  } finally {
    server?.kill()
    for (const d of drivers) await d.stop().catch((e: Error) => console.error(e.message))
    for (const ns of [cA, cB, hA, hB]) sh(['ip', 'netns', 'del', ns])
  }
  assert.doesNotMatch(sh(['ip', 'netns', 'list']).stdout, new RegExp(`ovt-${id}|ov-${tagA}|ov-${tagB}`))
})

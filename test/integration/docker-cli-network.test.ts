/**
 * The real docker CLI (28.x) against berthd: networks. Published ports reached from the host and
 * from containers, user-defined networks with the embedded DNS, live connect/disconnect,
 * --network container:, --internal, isolation, clean-up after rm -f and after a berthd crash,
 * and Docker's errors for bad input. Needs root, iproute2 and iptables.
 * Traffic goes only to loopback, the host's own addresses and the test's namespaces.
 */
import { after, before, beforeEach, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { createSocket } from 'node:dgram'
import { networkInterfaces } from 'node:os'
import { get } from 'node:http'
import { api, fixture, startDaemon, type DaemonHandle } from './harness.js'
import { dockerSuite, waitFor } from './image-helpers.js'
import { dockerT, forceCleanup, listedContainerIds } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

const sh = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch {
    return ''
  }
}
const hostAddr = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address

/** GET http://addr:port/path from the host; the body, or an error string. */
function fetchText(addr: string, port: number, path = '/'): Promise<string> {
  return new Promise((resolve) => {
    const req = get({ host: addr, port, path, timeout: 3000 }, (res) => {
      let body = ''
      res.on('data', (b: Buffer) => (body += b.toString()))
      res.on('end', () => resolve(body))
    })
    req.on('timeout', () => { req.destroy(); resolve('ERR timeout') })
    req.on('error', (e) => resolve(`ERR ${e.message}`))
  })
}

/** A free TCP port on the host (bound then released). */
async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '0.0.0.0', r))
  const p = (s.address() as { port: number }).port
  await new Promise((r) => s.close(r))
  return p
}

dockerSuite('docker CLI: networks', () => {
  let h: DaemonHandle
  let tag = ''
  const nets = new Set<string>()

  const ok = async (...args: string[]): Promise<string> => {
    const r = await dockerT(h, 30, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }
  const d = (...args: string[]) => dockerT(h, 30, ...args)
  const inspect = async (ref: string): Promise<Json> => (JSON.parse(await ok('inspect', ref)) as Json[])[0]
  const netCreate = async (name: string, ...args: string[]) => {
    nets.add(name)
    return (await ok('network', 'create', ...args, name)).trim()
  }
  /** This berthd's namespaces, bridges and iptables rules still present. */
  const leftovers = async (): Promise<{ netns: string[]; bridges: string[]; rules: string[] }> => {
    const bridges = new Set<string>(['bb-apptest'])
    for (const n of JSON.parse(await ok('network', 'ls', '--format', '{{json .}}', '--no-trunc').then((s) => `[${s.trim().split('\n').join(',')}]`)) as Json[]) bridges.add(`bb-${String(n.ID).slice(0, 12)}`)
    const links = sh('ip', ['-o', 'link', 'show']).split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '')
    return {
      netns: sh('ip', ['netns', 'list']).split('\n').filter((l) => l.startsWith(`berth-${tag}-`)),
      bridges: links.filter((l) => bridges.has(l)),
      rules: [...sh('iptables-save', ['-t', 'filter']).split('\n'), ...sh('iptables-save', ['-t', 'nat']).split('\n')].filter((l) => l.includes(`BERTH-${tag}-`)),
    }
  }
  const assertClean = async (what: string) => {
    await waitFor(`${what}: no network leftovers`, async () => {
      const l = await leftovers()
      return !l.netns.length && !l.bridges.length && !l.rules.length
    }, 5000).catch(async (err) => {
      assert.deepEqual(await leftovers(), { netns: [], bridges: [], rules: [] }, String(err))
    })
  }

  before(async () => {
    h = await startDaemon()
    tag = createHash('sha256').update(h.dataRoot).digest('hex').slice(0, 6)
    assert.equal((await ok('load', '-i', await fixture('busybox'))).trim(), 'Loaded image: busybox:latest')
  })
  beforeEach(async () => {
    for (const id of await listedContainerIds(h)) await api(h, 'DELETE', `/containers/${id}?force=1`)
    for (const n of nets) await d('network', 'rm', n)
    nets.clear()
  })
  after(async () => {
    if (!h) return
    await forceCleanup(h).catch(() => {})
    for (const n of nets) await d('network', 'rm', n).catch(() => {})
    await h.cleanup()
  })

  it('the predefined networks are listed; the default bridge is not docker0 and gives containers an address, a route and Docker-shaped /etc files', async () => {
    const names = (await ok('network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}')).trim().split('\n').sort()
    assert.deepEqual(names, ['bridge bridge local', 'host host local', 'none null local'])
    const out = await ok('run', '--rm', '--hostname', 'box1', '--add-host', 'extra.example:10.1.2.3', '--add-host', 'gw.example:host-gateway', '--dns', '10.9.9.9', '--dns-search', 'corp.example', '--dns-option', 'ndots:3',
      'busybox', 'sh', '-c', 'ip -4 addr show eth0; ip route; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; hostname')
    const [addrs = '', hosts = '', resolv = '', hostname = ''] = out.split('---\n')
    const ipm = /inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(addrs)
    assert.ok(ipm, addrs)
    const bridge = JSON.parse(await ok('network', 'inspect', 'bridge'))[0]
    const gw = bridge.IPAM.Config[0].Gateway as string
    assert.match(addrs, new RegExp(`default via ${gw.replace(/\./g, '\\.')} dev eth0`))
    assert.notEqual(bridge.Options['com.docker.network.bridge.name'], 'docker0')
    assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m)
    assert.match(hosts, /^10\.1\.2\.3\textra\.example$/m)
    assert.match(hosts, new RegExp(`^${gw.replace(/\./g, '\\.')}\\tgw\\.example$`, 'm'))
    assert.match(hosts, new RegExp(`^${ipm[1]!.replace(/\./g, '\\.')}\\tbox1$`, 'm'))
    assert.match(resolv, /^nameserver 10\.9\.9\.9$/m)
    assert.match(resolv, /^search corp\.example$/m)
    assert.match(resolv, /^options ndots:3$/m)
    assert.equal(hostname.trim(), 'box1')
    await assertClean('run --rm')
  })

  it('-p publishes on all addresses and on 127.0.0.1 (reachable from the host and from another container); docker port, ps and inspect show the bindings', async () => {
    const [p1, p2] = [await freePort(), await freePort()]
    await ok('run', '-d', '--name', 'web', '-p', `${p1}:80`, '-p', `127.0.0.1:${p2}:80/tcp`, '-p', '5300/udp', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')
    const id = (await inspect('web')).Id as string
    await waitFor('httpd answers', async () => (await fetchText('127.0.0.1', p1, '/hostname')).trim() === id.slice(0, 12))
    assert.equal((await fetchText('127.0.0.1', p2, '/hostname')).trim(), id.slice(0, 12))
    if (hostAddr) {
      assert.equal((await fetchText(hostAddr, p1, '/hostname')).trim(), id.slice(0, 12))
      // 127.0.0.1 only: the host's other addresses are not published.
      assert.match(await fetchText(hostAddr, p2, '/hostname'), /^ERR/)
      const fromCtr = await ok('run', '--rm', 'busybox', 'wget', '-qO-', `http://${hostAddr}:${p1}/hostname`)
      assert.equal(fromCtr.trim(), id.slice(0, 12))
    }
    const port = (await ok('port', 'web')).trim().split('\n').sort()
    assert.equal(port.length, 3, port.join('\n'))
    assert.ok(port.includes(`80/tcp -> 0.0.0.0:${p1}`), port.join('\n'))
    assert.ok(port.includes(`80/tcp -> 127.0.0.1:${p2}`), port.join('\n'))
    assert.match(port.find((l) => l.startsWith('5300/udp'))!, /^5300\/udp -> 0\.0\.0\.0:\d+$/)
    assert.equal((await ok('port', 'web', '80/tcp')).trim().split('\n').sort().join(','), [`0.0.0.0:${p1}`, `127.0.0.1:${p2}`].sort().join(','))
    const ps = (await ok('ps', '--filter', 'name=web', '--format', '{{.Ports}}')).trim()
    assert.ok(ps.includes(`0.0.0.0:${p1}->80/tcp`) && ps.includes(`127.0.0.1:${p2}->80/tcp`), ps)
    const ports = (await inspect('web')).NetworkSettings.Ports
    assert.deepEqual(ports['80/tcp'].map((b: Json) => `${b.HostIp}:${b.HostPort}`).sort(), [`0.0.0.0:${p1}`, `127.0.0.1:${p2}`].sort())
    await ok('rm', '-f', 'web')
    assert.match(await fetchText('127.0.0.1', p1), /^ERR/)
    await assertClean('rm -f')
  })

  it('-P publishes the EXPOSEd ports on random host ports', async () => {
    await ok('run', '-d', '--name', 'pall', '--expose', '80', '-P', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')
    const line = (await ok('port', 'pall')).trim()
    const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/.exec(line)
    assert.ok(m, line)
    await waitFor('httpd answers', async () => !(await fetchText('127.0.0.1', Number(m[1]), '/hostname')).startsWith('ERR'))
  })

  it('a port already in use fails start with Docker\'s error and leaves nothing behind', async () => {
    const p = await freePort()
    const holder: Server = createServer()
    await new Promise<void>((r) => holder.listen(p, '0.0.0.0', r))
    try {
      const r = await d('run', '-d', '--name', 'busy', '-p', `${p}:80`, 'busybox', 'sleep', '30')
      assert.equal(r.code, 125)
      assert.match(r.stderr, new RegExp(`driver failed programming external connectivity on endpoint busy \\([0-9a-f]+\\): failed to bind host port for 0\\.0\\.0\\.0:${p}:[\\d.]+:80/tcp: address already in use`))
      assert.equal((await inspect('busy')).State.Status, 'created')
      await assertClean('failed start')
    } finally {
      await new Promise((r) => holder.close(r))
    }
    // Held by another container: Docker's allocator error.
    await ok('run', '-d', '--name', 'first', '-p', `${p}:80`, 'busybox', 'sleep', '30')
    const r2 = await d('run', '-d', '--name', 'second', '-p', `${p}:80`, 'busybox', 'sleep', '30')
    assert.equal(r2.code, 125)
    assert.match(r2.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${p} failed: port is already allocated`))
  })

  it('bad input gives Docker\'s errors: unknown network, bad port specs, overlapping subnets, duplicate names, predefined networks', async () => {
    const before = (await ok('ps', '-aq')).trim()
    let r = await d('run', '--rm', '--network', 'nope', 'busybox', 'true')
    assert.equal(r.code, 125)
    assert.match(r.stderr, /network nope not found/)
    r = await d('run', '--rm', '-p', 'abc', 'busybox', 'true')
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /invalid containerPort: abc/)
    r = await d('run', '--rm', '-p', '99999:80', 'busybox', 'true')
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /invalid hostPort: 99999/)
    assert.equal((await ok('ps', '-aq')).trim(), before, 'a failed create leaves no container')
    await netCreate('ov1', '--subnet', '10.123.0.0/16')
    r = await d('network', 'create', '--subnet', '10.123.4.0/24', 'ov2')
    assert.equal(r.code, 1)
    assert.match(r.stderr, /Error response from daemon: invalid pool request: Pool overlaps with other one on this address space/)
    r = await d('network', 'create', 'ov1')
    assert.match(r.stderr, /network with name ov1 already exists/)
    r = await d('network', 'rm', 'bridge')
    assert.match(r.stderr, /bridge is a pre-defined network and cannot be removed/)
    r = await d('network', 'inspect', 'nope')
    assert.match(r.stderr, /network nope not found/)
    r = await d('run', '--rm', '--ip', '172.30.9.9', 'busybox', 'true')
    assert.match(r.stderr, /user specified IP address is supported on user defined networks only/)
    await assertClean('bad input')
  })

  it('user-defined network: create with subnet, gateway, ip-range, labels; ls filters and --format; inspect; --ip and --mac-address; names and aliases resolve through the embedded DNS', async () => {
    const id = await netCreate('appnet', '--subnet', '10.124.0.0/24', '--gateway', '10.124.0.254', '--ip-range', '10.124.0.128/25', '--label', 'team=a', '-o', 'com.docker.network.bridge.name=bb-apptest')
    const n = JSON.parse(await ok('network', 'inspect', 'appnet'))[0]
    assert.equal(n.Id, id)
    assert.deepEqual(n.IPAM.Config, [{ Subnet: '10.124.0.0/24', Gateway: '10.124.0.254', IPRange: '10.124.0.128/25' }])
    assert.deepEqual(n.Labels, { team: 'a' })
    assert.equal((await ok('network', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}}')).trim(), 'appnet')
    assert.equal((await ok('network', 'ls', '--filter', 'type=custom', '-q')).trim(), id.slice(0, 12))
    await ok('run', '-d', '--name', 'srv', '--network', 'appnet', '--network-alias', 'db', '--ip', '10.124.0.10', '--mac-address', '02:42:00:00:00:aa', 'busybox', 'sleep', '300')
    const s = await inspect('srv')
    assert.equal(s.NetworkSettings.Networks.appnet.IPAddress, '10.124.0.10')
    assert.equal(s.NetworkSettings.Networks.appnet.MacAddress, '02:42:00:00:00:aa')
    assert.equal(s.NetworkSettings.Networks.appnet.Gateway, '10.124.0.254')
    assert.ok(s.NetworkSettings.Networks.appnet.Aliases.includes('db'))
    const out = await ok('run', '--rm', '--network', 'appnet', 'busybox', 'sh', '-c', 'ip -4 addr show eth0; cat /etc/resolv.conf; nslookup srv; nslookup db; ping -c1 -W2 db; ping -c1 -W2 srv.appnet')
    assert.match(out, /inet 10\.124\.0\.(1[2-9]\d|2[0-5]\d)\//, 'allocated from the ip-range')
    assert.match(out, /^nameserver 127\.0\.0\.11$/m, "Docker's embedded DNS address")
    assert.equal([...out.matchAll(/Address: 10\.124\.0\.10/g)].length, 2, out)
    assert.equal([...out.matchAll(/64 bytes from 10\.124\.0\.10/g)].length, 2, out)
    // --link on a user network: a name for the linking container only.
    assert.match(await ok('run', '--rm', '--network', 'appnet', '--link', 'srv:lnk', 'busybox', 'nslookup', 'lnk'), /Address: 10\.124\.0\.10/)
    assert.notEqual((await d('run', '--rm', '--network', 'appnet', 'busybox', 'nslookup', 'lnk')).code, 0)
    const ins = JSON.parse(await ok('network', 'inspect', 'appnet'))[0]
    assert.equal(ins.Containers[s.Id].IPv4Address, '10.124.0.10/24')
    // The default bridge does not resolve names.
    const r = await d('run', '--rm', 'busybox', 'sh', '-c', 'ping -c1 -W1 srv')
    assert.notEqual(r.code, 0)
    const inUse = await d('network', 'rm', 'appnet')
    assert.match(inUse.stderr, /has active endpoints/)
  })

  it('names the embedded DNS does not know go to the container\'s --dns servers (or the host\'s); docker restart keeps ports and names', async () => {
    // A fake upstream on a loopback address of the host: the forwarder runs in berthd, on the host.
    const upstream = createSocket('udp4')
    const seen: string[] = []
    upstream.on('message', (msg, rinfo) => {
      let off = 12
      const labels: string[] = []
      while (msg[off]) { labels.push(msg.subarray(off + 1, off + 1 + msg[off]!).toString()); off += msg[off]! + 1 }
      seen.push(labels.join('.'))
      const q = msg.subarray(12, off + 5)
      const head = Buffer.from(msg.subarray(0, 12))
      head.writeUInt16BE(0x8180, 2); head.writeUInt16BE(1, 4); head.writeUInt16BE(msg.readUInt16BE(off + 1) === 1 ? 1 : 0, 6); head.writeUInt32BE(0, 8)
      const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 99, 99, 99])
      upstream.send(Buffer.concat([head, q, ...(msg.readUInt16BE(off + 1) === 1 ? [rr] : [])]), rinfo.port, rinfo.address)
    })
    await new Promise<void>((r) => upstream.bind(53, '127.0.0.77', r))
    try {
      await netCreate('fwdnet', '--subnet', '10.128.0.0/24')
      const p = await freePort()
      await ok('run', '-d', '--name', 'fw', '--network', 'fwdnet', '--dns', '127.0.0.77', '-p', `127.0.0.1:${p}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')
      const out = await ok('exec', 'fw', 'nslookup', 'outside.example.test')
      assert.match(out, /Address: 10\.99\.99\.99/)
      assert.ok(seen.includes('outside.example.test'), seen.join(','))
      await ok('restart', '-t', '1', 'fw')
      await waitFor('httpd answers after restart', async () => !(await fetchText('127.0.0.1', p, '/hostname')).startsWith('ERR'))
      assert.match(await ok('run', '--rm', '--network', 'fwdnet', 'busybox', 'nslookup', 'fw'), /Address: 10\.128\.0\.\d+/)
      assert.match(await ok('exec', 'fw', 'nslookup', 'again.example.test'), /Address: 10\.99\.99\.99/)
    } finally {
      upstream.close()
    }
  })

  it('bridge options: mtu, enable_icc=false, host_binding_ipv4; unknown options are refused', async () => {
    await netCreate('optnet', '--subnet', '10.129.0.0/24', '-o', 'com.docker.network.driver.mtu=1400', '-o', 'com.docker.network.bridge.enable_icc=false', '-o', 'com.docker.network.bridge.host_binding_ipv4=127.0.0.1')
    const p = await freePort()
    await ok('run', '-d', '--name', 'o1', '--network', 'optnet', '-p', `${p}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')
    assert.match(await ok('exec', 'o1', 'ip', 'link', 'show', 'eth0'), /mtu 1400/)
    assert.equal((await ok('port', 'o1')).trim(), `80/tcp -> 127.0.0.1:${p}`)
    await waitFor('published on 127.0.0.1', async () => !(await fetchText('127.0.0.1', p, '/hostname')).startsWith('ERR'))
    const o1 = (await inspect('o1')).NetworkSettings.Networks.optnet.IPAddress
    const r = await d('run', '--rm', '--network', 'optnet', 'busybox', 'ping', '-c1', '-W1', o1)
    assert.notEqual(r.code, 0, 'no traffic between containers of an enable_icc=false network')
    const bad = await d('network', 'create', '-o', 'com.docker.network.bridge.gateway_mode_ipv4=routed', 'badopt')
    assert.notEqual(bad.code, 0)
    assert.match(bad.stderr, /not supported/)
  })

  it('connect and disconnect a running container; networks are isolated from each other', async () => {
    await netCreate('na', '--subnet', '10.125.1.0/24')
    await netCreate('nb', '--subnet', '10.125.2.0/24')
    await ok('run', '-d', '--name', 'a1', '--network', 'na', 'busybox', 'sleep', '300')
    await ok('run', '-d', '--name', 'b1', '--network', 'nb', 'busybox', 'sleep', '300')
    const aIp = (await inspect('a1')).NetworkSettings.Networks.na.IPAddress
    let r = await d('exec', 'b1', 'ping', '-c1', '-W1', aIp)
    assert.notEqual(r.code, 0, 'nb cannot reach na')
    r = await d('exec', 'b1', 'nslookup', 'a1')
    assert.notEqual(r.code, 0, 'a1 is not a name on nb')
    await ok('network', 'connect', '--alias', 'bee', 'nb', 'a1')
    const nets = (await inspect('a1')).NetworkSettings.Networks
    assert.deepEqual(Object.keys(nets).sort(), ['na', 'nb'])
    const out = await ok('exec', 'b1', 'sh', '-c', 'ping -c1 -W2 bee && ping -c1 -W2 a1')
    assert.match(out, new RegExp(`64 bytes from ${nets.nb.IPAddress.replace(/\./g, '\\.')}`))
    assert.match(await ok('exec', 'a1', 'ip', '-4', 'addr'), /inet 10\.125\.2\.\d+\/24/)
    await ok('network', 'disconnect', 'nb', 'a1')
    assert.deepEqual(Object.keys((await inspect('a1')).NetworkSettings.Networks), ['na'])
    r = await d('exec', 'b1', 'ping', '-c1', '-W1', 'bee')
    assert.notEqual(r.code, 0)
    assert.doesNotMatch(await ok('exec', 'a1', 'ip', '-4', 'addr'), /10\.125\.2\./)
    await ok('rm', '-f', 'a1', 'b1')
    await assertClean('after connect/disconnect')
  })

  it('--network container: shares the namespace; host and none; --internal has no way out', async () => {
    await netCreate('inner', '--internal', '--subnet', '10.126.0.0/24')
    await ok('run', '-d', '--name', 'owner', '--network', 'inner', 'busybox', 'sleep', '300')
    const out = await ok('run', '--rm', '--network', 'container:owner', 'busybox', 'ip', '-4', 'addr')
    assert.match(out, /inet 10\.126\.0\.2\/24/)
    assert.doesNotMatch(await ok('exec', 'owner', 'ip', 'route'), /default/)
    if (hostAddr) {
      const r = await d('exec', 'owner', 'ping', '-c1', '-W1', hostAddr)
      assert.notEqual(r.code, 0, 'an internal network reaches nothing outside')
      const r2 = await d('run', '--rm', 'busybox', 'ping', '-c1', '-W2', hostAddr)
      assert.equal(r2.code, 0, `the default bridge reaches the host: ${r2.stdout}${r2.stderr}`)
    }
    assert.equal((await ok('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net')).trim(), 'lo')
    const hostLinks = sh('ls', ['/sys/class/net']).trim().split('\n').sort()
    const inHost = (await ok('run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net')).trim().split('\n').sort()
    assert.ok(hostLinks.every((l) => inHost.includes(l) || l.startsWith('vb') || l.startsWith('bb-') || l.startsWith('veth')), `${hostLinks} vs ${inHost}`)
  })

  it('--link on the default bridge adds the linked container to /etc/hosts', async () => {
    await ok('run', '-d', '--name', 'target', 'busybox', 'sleep', '300')
    const t = await inspect('target')
    const out = await ok('run', '--rm', '--link', 'target:tgt', 'busybox', 'sh', '-c', 'cat /etc/hosts; ping -c1 -W2 tgt')
    assert.match(out, new RegExp(`^${t.NetworkSettings.IPAddress.replace(/\./g, '\\.')}\\ttgt ${t.Id.slice(0, 12)} target$`, 'm'))
    assert.match(out, /1 packets received/)
  })

  it('after berthd is killed (-9) and restarted, running containers keep their ports and names, and rm leaves nothing', async () => {
    const p = await freePort()
    await netCreate('crashnet', '--subnet', '10.127.0.0/24')
    await ok('run', '-d', '--name', 'cweb', '--network', 'crashnet', '-p', `${p}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')
    await ok('run', '-d', '--name', 'cpeer', '--network', 'crashnet', 'busybox', 'sleep', '300')
    await ok('run', '-d', '--name', 'gone', '--network', 'crashnet', 'busybox', 'sleep', '300')
    const gone = await inspect('gone')
    await waitFor('httpd answers', async () => !(await fetchText('127.0.0.1', p, '/hostname')).startsWith('ERR'))
    await h.kill()
    // A container that dies while berthd is down: its namespace must go at the restart.
    process.kill(gone.State.Pid, 'SIGKILL')
    await h.restart()
    const rules = (await leftovers()).rules
    assert.equal(rules.filter((l) => l.startsWith('-A FORWARD')).length, 1, rules.join('\n'))
    assert.equal(rules.filter((l) => l.includes('--dport')).length, 1, rules.join('\n'))
    assert.ok(!(await leftovers()).netns.some((n) => n.endsWith(gone.Id.slice(0, 12))), 'the dead container\'s namespace is gone')
    assert.notEqual(await fetchText('127.0.0.1', p, '/hostname').then((s) => s.startsWith('ERR')), true)
    const out = await ok('exec', 'cpeer', 'sh', '-c', 'nslookup cweb && wget -qO- http://cweb/hostname')
    assert.match(out, /Address: 10\.127\.0\.\d+/)
    // The held port survives: another container cannot take it.
    const r = await d('run', '-d', '--name', 'thief', '-p', `${p}:80`, 'busybox', 'sleep', '30')
    assert.notEqual(r.code, 0)
    await ok('rm', '-f', 'cweb', 'cpeer', 'gone', 'thief')
    await assertClean('after crash and rm')
  })

  it('network events: create, connect, disconnect, destroy', async () => {
    const since = (Date.now() / 1000 - 1).toFixed(3)
    const id = await netCreate('evnet')
    await ok('run', '--rm', '--name', 'evc', '--network', 'evnet', 'busybox', 'true')
    await ok('network', 'rm', 'evnet')
    nets.delete('evnet')
    const until = (Date.now() / 1000 + 1).toFixed(3)
    const out = await ok('events', '--since', since, '--until', until, '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}')
    const mine = out.trim().split('\n').filter((l) => l.includes(id))
    assert.deepEqual(mine.map((l) => l.split(' ')[0]), ['create', 'connect', 'disconnect', 'destroy'], out)
  })

  it('network rm and prune', async () => {
    await netCreate('p1', '--label', 'x=1')
    await netCreate('p2')
    await ok('run', '-d', '--name', 'user', '--network', 'p2', 'busybox', 'sleep', '300')
    const out = await ok('network', 'prune', '-f')
    assert.match(out, /Deleted Networks:\np1\n/)
    assert.deepEqual((await ok('network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}')).trim().split('\n'), ['p2'])
    await ok('rm', '-f', 'user')
    assert.equal((await ok('network', 'rm', 'p2')).trim(), 'p2')
    nets.clear()
    await assertClean('prune')
  })
})

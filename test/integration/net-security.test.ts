/**
 * Issue 12, networks (security and availability), with the docker CLI against private berthds:
 * - a bridge container cannot reach a service bound only to the host's 127.0.0.1 (the bridge has
 *   route_localnet=1 for 127.0.0.1 publishing), while a published 127.0.0.1 port still works;
 * - after kill -9 of berthd, the restart leaves each jump to Berth's chains once however many
 *   containers died meanwhile, and a clean stop leaves no rule, chain or bridge;
 * - address pools as Docker's, two berthds one after another get different subnets and both
 *   default bridges reach the host; daemon.json `bip` and `default-address-pools`.
 * Needs root, iproute2, iptables. Traffic goes only to loopback, the host's own addresses and the
 * test daemons' bridges.
 */
import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer, type Server } from 'node:net'
import { get } from 'node:http'
import { createSocket } from 'node:dgram'
import { fixture, startDaemon, type DaemonHandle } from './harness.js'
import { dockerSuite, waitFor } from './image-helpers.js'
import { dockerT, forceCleanup } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

const sh = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch {
    return ''
  }
}
const tagOf = (h: DaemonHandle) => createHash('sha256').update(h.dataRoot).digest('hex').slice(0, 6)

/** The lines of `iptables-save` (filter and nat) that name this daemon's chains. */
const ownRules = (h: DaemonHandle): string[] =>
  [...sh('iptables-save', ['-t', 'filter']).split('\n'), ...sh('iptables-save', ['-t', 'nat']).split('\n')].filter((l) => l.includes(`BERTH-${tagOf(h)}-`))
/** The jumps from the built-in chains to this daemon's chains. */
const jumps = (h: DaemonHandle): string[] => ownRules(h).filter((l) => /^-A (FORWARD|INPUT|PREROUTING|OUTPUT|POSTROUTING) /.test(l))
const linkExists = (name: string) => sh('ip', ['-o', 'link', 'show', name]).trim() !== ''

function fetchText(addr: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = get({ host: addr, port, path: '/hostname', timeout: 3000 }, (res) => {
      let body = ''
      res.on('data', (b: Buffer) => (body += b.toString()))
      res.on('end', () => resolve(body))
    })
    req.on('timeout', () => { req.destroy(); resolve('ERR timeout') })
    req.on('error', (e) => resolve(`ERR ${e.message}`))
  })
}

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const p = (s.address() as { port: number }).port
  await new Promise((r) => s.close(r))
  return p
}

const parseCidr = (s: string): [number, number] => {
  const [a = '', b = '32'] = s.split('/')
  const n = a.split('.').reduce((x, y) => ((x << 8) | Number(y)) >>> 0, 0)
  const bits = Number(b)
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
  return [(n & mask) >>> 0, bits]
}
const overlap = (a: string, b: string): boolean => {
  const [x, xb] = parseCidr(a)
  const [y, yb] = parseCidr(b)
  const bits = Math.min(xb, yb)
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
  return ((x & mask) >>> 0) === ((y & mask) >>> 0)
}
/** The host's IPv4 addresses of every link, down ones included, other than `except`'s. */
const hostNets = (except: string[]): string[] =>
  (JSON.parse(sh('ip', ['-4', '-j', 'addr', 'show']) || '[]') as Json[]).filter((l) => !except.includes(l.ifname)).flatMap((l) => (l.addr_info as Json[]).map((a) => `${a.local}/${a.prefixlen}`)).filter((c) => !c.startsWith('127.'))

dockerSuite('networks: loopback isolation, firewall recovery, address pools', () => {
  const daemons: DaemonHandle[] = []
  let h: DaemonHandle
  const servers: Server[] = []

  const start = async (): Promise<DaemonHandle> => {
    const d = await startDaemon()
    daemons.push(d)
    const r = await dockerT(d, 60, 'load', '-i', await fixture('busybox'))
    assert.equal(r.code, 0, r.stderr)
    return d
  }
  const ok = async (d: DaemonHandle, ...args: string[]): Promise<string> => {
    const r = await dockerT(d, 30, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }
  const inspect = async (d: DaemonHandle, ref: string): Promise<Json> => (JSON.parse(await ok(d, 'inspect', ref)) as Json[])[0]
  const defaultBridge = async (d: DaemonHandle): Promise<Json> => (JSON.parse(await ok(d, 'network', 'inspect', 'bridge')) as Json[])[0]

  before(async () => { h = await start() })
  after(async () => {
    for (const s of servers) s.close()
    for (const d of daemons) {
      await forceCleanup(d).catch(() => {})
      await d.cleanup().catch(() => {})
    }
  })

  it('a container on the default bridge cannot reach a TCP server bound to the host\'s 127.0.0.1; a published 127.0.0.1 port still works', async () => {
    const secret = createServer((c) => c.end('SECRET\n'))
    servers.push(secret)
    await new Promise<void>((r) => secret.listen(0, '127.0.0.1', r))
    const port = (secret.address() as { port: number }).port
    const pub = await freePort()
    await ok(h, 'run', '-d', '--name', 'web', '-p', `127.0.0.1:${pub}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')
    await ok(h, 'run', '-d', '--name', 'attacker', 'busybox', 'sleep', '300')
    const a = await inspect(h, 'attacker')
    const gw = a.NetworkSettings.Gateway as string
    const ns = `berth-${tagOf(h)}-${String(a.Id).slice(0, 12)}`
    // The attacker sends to 127.0.0.1 through the bridge, as a crafted frame to the gateway's MAC
    // would: inside its namespace, 127.0.0.1 is routed out of eth0 to the gateway.
    const attack = [
      'sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.eth0.route_localnet=1',
      'ip route del local 127.0.0.1 dev lo table local', 'ip route del local 127.0.0.0/8 dev lo table local',
      `ip route add 127.0.0.1/32 via ${gw} dev eth0`,
    ].join(' && ')
    assert.equal(sh('ip', ['netns', 'exec', ns, 'sh', '-c', `${attack} && echo set`]).trim(), 'set', 'the attacker\'s routes are set')
    const probe = `const s=require('net').connect(${port},'127.0.0.1');s.setTimeout(3000,()=>{console.log('TIMEOUT');process.exit(0)});s.on('data',(d)=>{console.log('GOT '+d);process.exit(0)});s.on('error',(e)=>{console.log('ERR '+e.code);process.exit(0)})`
    const got = sh('ip', ['netns', 'exec', ns, process.execPath, '-e', probe]).trim()
    assert.doesNotMatch(got, /SECRET/, 'the host\'s loopback-only service answered a container')
    assert.match(got, /TIMEOUT|ERR/)
    // UDP needs no answer: the datagram reaching the host's 127.0.0.1 socket is the breach.
    const udp = createSocket('udp4')
    const heard: string[] = []
    udp.on('message', (m) => heard.push(m.toString()))
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r))
    const uport = udp.address().port
    try {
      const send = `const s=require('dgram').createSocket('udp4');let n=0;const go=()=>s.send('PING',${uport},'127.0.0.1',()=>{if(++n<5)setTimeout(go,100);else{console.log('sent');process.exit(0)}});go()`
      assert.equal(sh('ip', ['netns', 'exec', ns, process.execPath, '-e', send]).trim(), 'sent')
      await new Promise((r) => setTimeout(r, 500))
      assert.deepEqual(heard, [], 'datagrams from a container reached a socket bound to the host\'s 127.0.0.1')
    } finally {
      udp.close()
    }
    await waitFor('published 127.0.0.1 port answers', async () => !(await fetchText('127.0.0.1', pub)).startsWith('ERR'))
    assert.equal((await fetchText('127.0.0.1', pub)).trim(), (await inspect(h, 'web')).Config.Hostname)
    await ok(h, 'rm', '-f', 'web', 'attacker')
  })

  it('kill -9 of berthd: the restart leaves each jump once, however many containers died meanwhile; a clean stop leaves no rule, chain or bridge', async () => {
    const d = await start()
    const bridge = (await defaultBridge(d)).Options['com.docker.network.bridge.name'] as string
    const ports = [await freePort(), await freePort(), await freePort()]
    for (const [i, p] of ports.entries()) await ok(d, 'run', '-d', '--name', `c${i}`, '-p', `${p}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')
    const baseline = jumps(d)
    assert.equal(baseline.length, 5, baseline.join('\n'))
    assert.equal(ownRules(d).filter((l) => l.includes('--dport')).length, 3)
    // Several containers with published ports die while berthd is down.
    const pids = await Promise.all([0, 1, 2].map(async (i) => (await inspect(d, `c${i}`)).State.Pid as number))
    await d.kill()
    for (const pid of pids) process.kill(pid, 'SIGKILL')
    await new Promise((r) => setTimeout(r, 500))
    await d.restart()
    await waitFor('nothing of the dead containers is left', async () => ownRules(d).length === 0 && !linkExists(bridge), 8000).catch(() => {})
    assert.deepEqual(ownRules(d), [], 'rules after the restart with no running container')
    assert.equal(linkExists(bridge), false, 'the idle bridge is removed')
    // One container with a port, then two more crashes of berthd while it runs: still one of each jump.
    const p = await freePort()
    await ok(d, 'run', '-d', '--name', 'live', '-p', `${p}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')
    for (let i = 0; i < 2; i++) {
      await d.kill()
      await d.restart()
    }
    assert.deepEqual(jumps(d).sort(), baseline.sort(), 'each jump once')
    assert.equal(ownRules(d).filter((l) => l.includes('--dport')).length, 1)
    await waitFor('the live container still answers', async () => !(await fetchText('127.0.0.1', p)).startsWith('ERR'))
    // One container dying while berthd is down leaves nothing either.
    const pid = (await inspect(d, 'live')).State.Pid as number
    await d.kill()
    process.kill(pid, 'SIGKILL')
    await new Promise((r) => setTimeout(r, 500))
    await d.restart()
    await waitFor('the dead container\'s rules are gone', async () => ownRules(d).length === 0, 8000).catch(() => {})
    assert.deepEqual(ownRules(d), [])
    // A clean stop after new work leaves nothing.
    await ok(d, 'run', '--rm', '-p', `${await freePort()}:80`, 'busybox', 'true')
    await ok(d, 'rm', '-f', 'c0', 'c1', 'c2', 'live')
    await d.stop()
    assert.deepEqual(ownRules(d), [], 'rules after a clean stop')
    assert.equal(linkExists(bridge), false, 'the bridge after a clean stop')
  })

  it('address pools: Docker\'s defaults, two berthds one after another get different subnets and both reach the host; bip and default-address-pools', async () => {
    const a = await start()
    const b = await start()
    const [na, nb] = [await defaultBridge(a), await defaultBridge(b)]
    const [sa, sb] = [na.IPAM.Config[0].Subnet as string, nb.IPAM.Config[0].Subnet as string]
    const brs = [na.Options['com.docker.network.bridge.name'] as string, nb.Options['com.docker.network.bridge.name'] as string]
    assert.ok(!overlap(sa, sb), `${sa} and ${sb} overlap`)
    for (const s of [sa, sb]) {
      assert.match(s, /^(172\.(1[7-9]|2\d|3[01])\.0\.0\/16|192\.168\.\d+\.0\/20)$/, `${s} is one of Docker's default pools`)
      for (const other of hostNets(brs)) assert.ok(!overlap(s, other), `${s} overlaps the host's ${other}`)
    }
    // Both default bridges up at once; each container reaches its gateway and the host.
    const hostIp = hostNets(brs).find((c) => !c.startsWith('172.') || true)?.split('/')[0]
    for (const d of [a, b]) {
      const out = await ok(d, 'run', '-d', '--name', 'pinger', 'busybox', 'sleep', '300')
      assert.ok(out.trim())
    }
    for (const [d, n] of [[a, na], [b, nb]] as const) {
      const gw = n.IPAM.Config[0].Gateway as string
      const r = await dockerT(d, 30, 'exec', 'pinger', 'sh', '-c', `ping -c1 -W2 ${gw} && ${hostIp ? `ping -c1 -W2 ${hostIp}` : 'true'}`)
      assert.equal(r.code, 0, `${n.IPAM.Config[0].Subnet}: ${r.stdout}${r.stderr}`)
    }
    // A user network takes the next free block of the pools.
    const user = JSON.parse(await ok(a, 'network', 'inspect', (await ok(a, 'network', 'create', 'pooled')).trim()))[0]
    const su = user.IPAM.Config[0].Subnet as string
    assert.ok(![sa, sb].some((s) => overlap(s, su)), su)
    assert.match(su, /^(172\.(1[7-9]|2\d|3[01])\.0\.0\/16|192\.168\.\d+\.0\/20)$/)
    await ok(a, 'rm', '-f', 'pinger')
    await ok(a, 'network', 'rm', 'pooled')
    // daemon.json bip and default-address-pools.
    await writeFile(join(a.root, 'daemon.json'), JSON.stringify({ bip: '10.231.5.1/24', 'default-address-pools': [{ base: '10.232.0.0/16', size: 24 }] }))
    await a.restart()
    const nbip = await defaultBridge(a)
    assert.equal(nbip.IPAM.Config[0].Subnet, '10.231.5.0/24')
    assert.equal(nbip.IPAM.Config[0].Gateway, '10.231.5.1')
    const ip = (await ok(a, 'run', '--rm', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0')).trim()
    assert.match(ip, /inet 10\.231\.5\.\d+\/24/)
    const pooled = JSON.parse(await ok(a, 'network', 'inspect', (await ok(a, 'network', 'create', 'pooled2')).trim()))[0]
    assert.equal(pooled.IPAM.Config[0].Subnet, '10.232.0.0/24')
    await ok(a, 'network', 'rm', 'pooled2')
    await writeFile(join(a.root, 'daemon.json'), JSON.stringify({ bip: 'nonsense' }))
    await assert.rejects(a.restart(), /invalid bip/)
  })

  it('embedded DNS at 127.0.0.11: in every container on a user network, and for a default-bridge container from its network connect on', async () => {
    await ok(h, 'network', 'create', 'dnsnet')
    try {
      await ok(h, 'run', '-d', '--name', 'peer', '--network', 'dnsnet', 'busybox', 'sleep', '300')
      const peerIp = (await inspect(h, 'peer')).NetworkSettings.Networks.dnsnet.IPAddress as string
      const onUser = await ok(h, 'run', '--rm', '--network', 'dnsnet', 'busybox', 'sh', '-c', 'grep nameserver /etc/resolv.conf; nslookup peer 127.0.0.11')
      assert.match(onUser, /^nameserver 127\.0\.0\.11$/m)
      assert.match(onUser, new RegExp(`Address: ${peerIp.replace(/\./g, '\\.')}`))
      await ok(h, 'run', '-d', '--name', 'late', 'busybox', 'sleep', '300')
      assert.doesNotMatch(await ok(h, 'exec', 'late', 'cat', '/etc/resolv.conf'), /127\.0\.0\.11/, 'the default bridge has no embedded DNS')
      await ok(h, 'network', 'connect', 'dnsnet', 'late')
      assert.match(await ok(h, 'exec', 'late', 'cat', '/etc/resolv.conf'), /^nameserver 127\.0\.0\.11$/m)
      const r = await dockerT(h, 30, 'exec', 'late', 'nslookup', 'peer')
      assert.equal(r.code, 0, r.stdout + r.stderr)
      assert.match(r.stdout, new RegExp(`Address: ${peerIp.replace(/\./g, '\\.')}`))
    } finally {
      await dockerT(h, 30, 'rm', '-f', 'peer', 'late')
      await dockerT(h, 30, 'network', 'rm', 'dnsnet')
    }
  })

  it('network inspect: names with spaces as Docker allows; endpoint Links kept and shown', async () => {
    const id = (await ok(h, 'network', 'create', 'my spaced net')).trim()
    try {
      assert.equal(JSON.parse(await ok(h, 'network', 'inspect', 'my spaced net'))[0].Id, id)
      await ok(h, 'run', '-d', '--name', 'lpeer', '--network', 'my spaced net', 'busybox', 'sleep', '300')
      await ok(h, 'run', '-d', '--name', 'linker', '--network', 'my spaced net', '--link', 'lpeer:al', 'busybox', 'sleep', '300')
      const ep = (await inspect(h, 'linker')).NetworkSettings.Networks['my spaced net']
      assert.deepEqual(ep.Links, ['lpeer:al'])
      assert.ok((ep.DNSNames as string[]).includes('linker'))
      const r = await dockerT(h, 30, 'exec', 'linker', 'nslookup', 'al')
      assert.equal(r.code, 0, r.stdout + r.stderr)
    } finally {
      await dockerT(h, 30, 'rm', '-f', 'lpeer', 'linker')
      await dockerT(h, 30, 'network', 'rm', 'my spaced net')
    }
  })
})

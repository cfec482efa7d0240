import { it } from 'node:test'
import assert from 'node:assert/strict'
import { allocate, formatCidr, macFor, overlaps, parseCidr, parseIp, pickSubnet, poolsOf } from './ipam.js'
import { chainsFor, removalFor, rulesFor } from './firewall.js'
import { portRequests } from './ports.js'
import { parsePublish } from '../cli/network-flags.js'
import type { NetworkRecord } from './types.js'

const net = (o: Partial<NetworkRecord>): NetworkRecord => ({ id: 'x', name: 'n', driver: 'bridge', created: '', subnet: '10.0.0.0/24', gateway: '10.0.0.1', ipRange: '', userSubnet: true, internal: false, attachable: false, labels: {}, options: {}, bridge: 'bb-a', isDefault: false, ...o })

it('ipam: CIDRs, overlap, subnet choice around taken ones, allocation in a range', () => {
  assert.equal(formatCidr(parseCidr('10.1.2.3/16')), '10.1.0.0/16')
  assert.throws(() => parseCidr('10.1.2/16'), /invalid CIDR address/)
  assert.ok(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.5.0.0/24')))
  assert.ok(!overlaps(parseCidr('10.0.0.0/24'), parseCidr('10.0.1.0/24')))
  assert.equal(formatCidr(pickSubnet([])), '172.17.0.0/16', 'Docker\'s first default pool')
  assert.equal(formatCidr(pickSubnet([parseCidr('172.17.0.0/16'), parseCidr('172.18.5.0/24')])), '172.19.0.0/16')
  const all172 = Array.from({ length: 15 }, (_, i) => parseCidr(`172.${17 + i}.0.0/16`))
  assert.equal(formatCidr(pickSubnet([...all172, parseCidr('192.168.1.0/24')])), '192.168.16.0/20', 'then 192.168.0.0/16 in /20s')
  assert.equal(formatCidr(pickSubnet([parseCidr('10.10.0.0/24')], poolsOf([{ base: '10.10.0.0/16', size: 24 }]))), '10.10.1.0/24', 'default-address-pools')
  const s = parseCidr('10.0.0.0/29')
  const used = new Set([parseIp('10.0.0.1')!, parseIp('10.0.0.2')!])
  assert.equal(allocate(s, s, used), parseIp('10.0.0.3'))
  for (let i = 3; i <= 6; i++) used.add(parseIp(`10.0.0.${i}`)!)
  assert.equal(allocate(s, s, used), undefined, 'the broadcast address is never given')
  assert.equal(macFor(parseIp('172.17.0.2')!), '02:42:ac:11:00:02')
})

it('firewall: isolation between active bridges, internal networks drop, ports DNAT, removal undoes the jumps', () => {
  const c = chainsFor('abc123')
  const rules = rulesFor(c, [net({ bridge: 'bb-a' }), net({ bridge: 'bb-b', subnet: '10.0.1.0/24', internal: true })], [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, proto: 'tcp', containerIp: '10.0.0.2', bridge: 'bb-a' }], { filter: [], nat: [] })
  assert.match(rules, /^-A BERTH-abc123-FWD -i bb-a -o bb-b -j DROP$/m)
  assert.match(rules, /^-A BERTH-abc123-FWD -i bb-b -o bb-a -j DROP$/m)
  assert.match(rules, /^-A BERTH-abc123-FWD -i bb-b -j DROP$/m)
  assert.match(rules, /^-A BERTH-abc123-POST -s 10\.0\.0\.0\/24 ! -o bb-a -j MASQUERADE$/m)
  assert.doesNotMatch(rules, /-s 10\.0\.1\.0\/24 ! -o bb-b -j MASQUERADE/)
  assert.match(rules, /^-A BERTH-abc123-DNAT -p tcp -d 127\.0\.0\.1\/32 --dport 8080 -j DNAT --to-destination 10\.0\.0\.2:80$/m)
  assert.match(rules, /^-I FORWARD -j BERTH-abc123-FWD$/m)
  assert.match(rules, /^-A BERTH-abc123-IN -i bb-a -d 127\.0\.0\.0\/8 -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP$/m)
  assert.match(rules, /^-I INPUT -j BERTH-abc123-IN$/m)
  assert.doesNotMatch(rulesFor(c, [net({})], []), /^-I /m)
  const present = {
    filter: ['-P FORWARD ACCEPT', '-N BERTH-abc123-FWD', '-A FORWARD -j BERTH-abc123-FWD', '-A FORWARD -j BERTH-abc123-FWD', '-A FORWARD -j OTHER', '-A BERTH-abc123-FWD -i x -j ACCEPT'],
    nat: ['-N BERTH-abc123-DNAT', '-N BERTH-abc123-POST', '-A POSTROUTING -j BERTH-abc123-POST', '-A PREROUTING -m addrtype --dst-type LOCAL -j BERTH-abc123-DNAT', '-A PREROUTING -m addrtype --dst-type LOCAL -j BERTH-abc123-DNAT'],
  }
  const again = rulesFor(c, [net({})], [], present)
  assert.equal(again.match(/^-D FORWARD -j BERTH-abc123-FWD$/gm)?.length, 2, 'each stale jump is deleted as often as it is there')
  assert.equal(again.match(/^-D PREROUTING -m addrtype --dst-type LOCAL -j BERTH-abc123-DNAT$/gm)?.length, 2)
  assert.equal(again.match(/^-I FORWARD -j BERTH-abc123-FWD$/gm)?.length, 1)
  assert.doesNotMatch(again, /OTHER/)
  const rm = removalFor(c, present)
  assert.match(rm, /^-D POSTROUTING -j BERTH-abc123-POST$/m)
  assert.match(rm, /^-X BERTH-abc123-DNAT$/m)
  assert.doesNotMatch(rm, /-X BERTH-abc123-IN/, 'a chain that is not there is not deleted')
  assert.equal(removalFor(c, { filter: ['-P INPUT ACCEPT'], nat: [] }), '')
})

it('ports: bindings, ranges and publish-all as requests; Docker\'s errors', () => {
  assert.deepEqual(portRequests({ '80/tcp': [{ hostIp: '', hostPort: '8080' }], '53/udp': [{ hostIp: '127.0.0.1', hostPort: '' }] }, true, { '80/tcp': {}, '443/tcp': {} }), [
    { hostIp: '', hostFrom: 8080, hostTo: 8080, containerPort: 80, proto: 'tcp' },
    { hostIp: '127.0.0.1', hostFrom: 0, hostTo: 0, containerPort: 53, proto: 'udp' },
    { hostIp: '', hostFrom: 0, hostTo: 0, containerPort: 443, proto: 'tcp' },
  ])
  assert.throws(() => portRequests({ '80/tcp': [{ hostIp: '', hostPort: '70000' }] }, false, {}), /invalid hostPort: 70000/)
  assert.throws(() => portRequests({ 'x/tcp': [] }, false, {}), /invalid containerPort: x/)
})

it('cli: -p specs as docker parses them', () => {
  assert.deepEqual(parsePublish('8080:80'), [{ key: '80/tcp', hostIp: '', hostPort: '8080' }])
  assert.deepEqual(parsePublish('127.0.0.1::53/udp'), [{ key: '53/udp', hostIp: '127.0.0.1', hostPort: '' }])
  assert.deepEqual(parsePublish('8000-8001:80-81'), [{ key: '80/tcp', hostIp: '', hostPort: '8000' }, { key: '81/tcp', hostIp: '', hostPort: '8001' }])
  assert.deepEqual(parsePublish('9000-9010:80'), [{ key: '80/tcp', hostIp: '', hostPort: '9000-9010' }])
  assert.deepEqual(parsePublish('80'), [{ key: '80/tcp', hostIp: '', hostPort: '' }])
  assert.throws(() => parsePublish('abc'), /invalid containerPort: abc/)
  assert.throws(() => parsePublish('8000-8002:80-81'), /invalid ranges/)
})

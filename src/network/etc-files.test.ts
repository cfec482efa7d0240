import { strict as assert } from 'node:assert'
import { describe, it } from 'node:test'
import { copiedResolvConf, generatedResolvConf, hostnameFile, hostsFile, type EtcInput } from './etc-files.js'

const input = (o: Partial<EtcInput> = {}): EtcInput => ({ hostname: 'c1', domainname: '', extraHosts: [], dns: [], dnsSearch: [], dnsOptions: [], ...o })
const HOST_RESOLV = 'nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n'

describe('/etc files of a container (one generator for the network and the container domain)', () => {
  it('hostname', () => assert.equal(hostnameFile('abc'), 'abc\n'))

  it('/etc/hosts: Docker\'s defaults, --add-host (host-gateway resolved), links and the own address', () => {
    const text = hostsFile(input({ hostname: 'web', domainname: 'corp', extraHosts: ['db:10.1.2.3', 'gw:host-gateway', 'v6:fe80::1'], hostGateway: '172.17.0.1' }), { links: ['172.17.0.5\tdb2 abc db2'], ownIp: '172.17.0.2' })
    assert.deepEqual(text.split('\n'), [
      '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::\tip6-localnet', 'ff00::\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters',
      '10.1.2.3\tdb', '172.17.0.1\tgw', 'fe80::1\tv6', '172.17.0.5\tdb2 abc db2', '172.17.0.2\tweb.corp web', '',
    ])
  })

  it('/etc/hosts on the host network: the host\'s file as is, --add-host lines after it', () => {
    assert.equal(hostsFile(input(), { hostFile: '127.0.0.1 localhost\n' }), '127.0.0.1 localhost\n')
    assert.equal(hostsFile(input({ extraHosts: ['db:10.1.2.3'] }), { hostFile: '127.0.0.1 localhost\n\n' }), '127.0.0.1 localhost\n10.1.2.3\tdb\n')
  })

  it('resolv.conf copied from the host, with --dns, --dns-search, --dns-option replacing its lines', () => {
    assert.equal(copiedResolvConf(HOST_RESOLV, input()), HOST_RESOLV)
    assert.equal(copiedResolvConf(HOST_RESOLV, input({ dns: ['9.9.9.9'], dnsOptions: ['ndots:2'] })), 'search corp.example\nnameserver 9.9.9.9\noptions ndots:2\n')
  })

  it('resolv.conf of a bridge endpoint: the embedded DNS on user networks, the host\'s non-loopback servers on the default bridge', () => {
    const user = generatedResolvConf(HOST_RESOLV, input(), { internalDns: '172.20.0.1' })
    assert.match(user, /^nameserver 172\.20\.0\.1$/m)
    assert.match(user, /^options edns0 ndots:0$/m)
    assert.match(user, /^# ExtServers: \[host\(127\.0\.0\.53\) host\(10\.0\.0\.2\)\]$/m)
    const dflt = generatedResolvConf(HOST_RESOLV, input())
    assert.deepEqual(dflt.split('\n').filter((l) => l.startsWith('nameserver')), ['nameserver 10.0.0.2'])
    assert.match(generatedResolvConf('nameserver 127.0.0.1\n', input()), /^nameserver 8\.8\.8\.8\nnameserver 8\.8\.4\.4$/m)
    assert.match(generatedResolvConf(HOST_RESOLV, input({ dns: ['1.1.1.1'], dnsSearch: ['x.y'] })), /^nameserver 1\.1\.1\.1\nsearch x\.y\noptions edns0$/m)
  })
})

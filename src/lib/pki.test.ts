import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect } from 'node:tls'
import type { AddressInfo } from 'node:net'
import {
  createCA,
  createServerCert,
  createClientCert,
  createCsr,
  signCsr,
  certificateInfo,
  verifyIssuedBy,
  keyMatchesCertificate,
  type CertKeyPem,
} from './pki.js'

async function handshake(ca: CertKeyPem, server: CertKeyPem, client: CertKeyPem | undefined, servername: string, host = '127.0.0.1'): Promise<string> {
  const srv = createServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (s) => s.end('hello'))
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  try {
    const port = (srv.address() as AddressInfo).port
    return await new Promise<string>((resolve, reject) => {
      const opts = { host, port, ca: ca.certPem, servername, ...(client ? { cert: client.certPem, key: client.keyPem } : {}) }
      const s = connect(opts, () => undefined)
      let data = ''
      s.on('data', (d) => (data += d))
      s.on('end', () => (data === 'hello' ? resolve(data) : reject(new Error(`connection closed without the greeting (${JSON.stringify(data)})`))))
      s.on('error', reject)
    })
  } finally {
    srv.close()
  }
}

test('a CA issues server and client certificates that complete mutual TLS', async () => {
  const ca = await createCA({ commonName: 'berth-ca', organization: 'berth' })
  const ci = certificateInfo(ca.certPem)
  assert.equal(ci.isCA, true)
  assert.match(ci.subject, /CN=berth-ca/)
  const server = await createServerCert(ca, { commonName: 'h1', altNames: ['10.9.8.7', 'h1', 'h1.example'] })
  const si = certificateInfo(server.certPem)
  assert.deepEqual(si.ipAddresses.sort(), ['10.9.8.7', '127.0.0.1'])
  assert.deepEqual(si.dnsNames.sort(), ['h1', 'h1.example', 'localhost'])
  assert.equal(si.isCA, false)
  assert.ok(verifyIssuedBy(server.certPem, ca.certPem))
  assert.ok(keyMatchesCertificate(server.certPem, server.keyPem))
  assert.match(server.keyPem, /^-----BEGIN PRIVATE KEY-----/)
  const client = await createClientCert(ca, { commonName: 'client' })
  assert.equal(await handshake(ca, server, client, 'h1'), 'hello')
  assert.equal(await handshake(ca, server, client, 'localhost'), 'hello')
})

test('a name outside the SANs and a client from another CA are refused', async () => {
  const ca = await createCA({ commonName: 'ca1' })
  const other = await createCA({ commonName: 'ca2' })
  const server = await createServerCert(ca, { commonName: 'h1', altNames: ['h1'] })
  const good = await createClientCert(ca, { commonName: 'c' })
  const bad = await createClientCert(other, { commonName: 'c' })
  await assert.rejects(handshake(ca, server, good, 'h2'), /altnames|does not match|ERR_TLS_CERT_ALTNAME_INVALID/i)
  await assert.rejects(handshake(ca, server, bad, 'h1'))
  assert.equal(verifyIssuedBy(bad.certPem, ca.certPem), false)
  assert.equal(keyMatchesCertificate(good.certPem, bad.keyPem), false)
})

test('RSA keys work too, and a CSR is signed with the subject the CA chooses', async () => {
  const ca = await createCA({ commonName: 'rsa-ca' }, { keyAlgorithm: 'rsa-2048' })
  const { csrPem, keyPem } = await createCsr({ commonName: 'ignored' })
  const certPem = await signCsr(ca, csrPem, { subject: { commonName: 'node1', organization: 'cluster', organizationalUnit: 'swarm-manager' }, altNames: ['node1', '10.0.0.1'], usages: ['server', 'client'] })
  const info = certificateInfo(certPem)
  assert.match(info.subject, /CN=node1/)
  assert.match(info.subject, /OU=swarm-manager/)
  assert.match(info.subject, /O=cluster/)
  assert.ok(verifyIssuedBy(certPem, ca.certPem))
  assert.ok(keyMatchesCertificate(certPem, keyPem))
  const peer = { certPem, keyPem }
  assert.equal(await handshake(ca, peer, peer, 'node1'), 'hello')
  await assert.rejects(signCsr(ca, 'not a csr', { subject: { commonName: 'x' }, usages: ['client'] }), /invalid certificate request/)
})

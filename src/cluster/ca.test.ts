import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate, createHash } from 'node:crypto'
import {
  caDigest, generateJoinToken, parseJoinToken, roleForJoinToken, rotateJoinToken, generateUnlockKey, parseUnlockKey,
  sealWithUnlockKey, openWithUnlockKey, loadPki, newCaRecord, issueNodeCertificate, nodeIdentity, rotateRootCA,
} from './ca.js'

// A token as `docker swarm init` printed it (Docker's documentation).
const DOCKER_TOKEN = 'SWMTKN-1-0j52ln6hxjpxk2wgk917abcnxywj3xed0y8vi1e5m9t3uttrtu-7bnxvvlz2mrcpfonjuztmtts9'

test('join token: Docker\'s encoding round-trips (digest and secret in base 36, zero-padded)', () => {
  const p = parseJoinToken(DOCKER_TOKEN)
  assert.match(p.caDigest, /^sha256:[0-9a-f]{64}$/)
  let n = 0n
  for (const ch of p.secret) n = n * 36n + BigInt(parseInt(ch, 36))
  const bytes = Buffer.from(n.toString(16).padStart(32, '0'), 'hex')
  assert.equal(generateJoinToken(p.caDigest, bytes), DOCKER_TOKEN)
})

test('join token: shape, padding of small values, and rejects', () => {
  const digest = caDigest('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n')
  assert.equal(digest, `sha256:${createHash('sha256').update('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n').digest('hex')}`)
  const t = generateJoinToken(digest)
  assert.match(t, /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/)
  assert.equal(parseJoinToken(t).caDigest, digest)
  const small = generateJoinToken(`sha256:${'0'.repeat(63)}1`, new Uint8Array(16))
  assert.equal(small, `SWMTKN-1-${'0'.repeat(49)}1-${'0'.repeat(25)}`)
  assert.equal(parseJoinToken(small).caDigest, `sha256:${'0'.repeat(63)}1`)
  for (const bad of ['', 'SWMTKN-2-abc-def', 'SWMTKN-1-abc', `SWMTKN-1-${'z'.repeat(50)}-${'0'.repeat(25)}`, 'SWMTKN-1-A' + '0'.repeat(49) + '-' + '0'.repeat(25)]) {
    assert.throws(() => parseJoinToken(bad), { message: 'invalid join token' }, bad)
  }
})

test('join token: role lookup, CA pinning, rotation of one role', () => {
  const digest = caDigest('ca')
  const ca = { digest, joinTokens: { worker: generateJoinToken(digest), manager: generateJoinToken(digest) }, version: { index: 1 }, rootCertPem: 'ca', rootKeyPem: 'k' }
  assert.equal(roleForJoinToken(ca, ca.joinTokens.worker), 'worker')
  assert.equal(roleForJoinToken(ca, ` ${ca.joinTokens.manager}\n`), 'manager')
  const other = generateJoinToken(caDigest('other'))
  assert.throws(() => roleForJoinToken(ca, other), { message: `remote CA does not match fingerprint. Expected: ${caDigest('other')}` })
  const rotated = rotateJoinToken(ca, 'worker')
  assert.notEqual(rotated.joinTokens.worker, ca.joinTokens.worker)
  assert.equal(rotated.joinTokens.manager, ca.joinTokens.manager)
  assert.throws(() => roleForJoinToken(rotated, ca.joinTokens.worker), { message: 'A valid join token is necessary to join this cluster' })
})

test('unlock key: SWMKEY-1- and 43 base64 characters; seal and open; a wrong key is refused', () => {
  const k = generateUnlockKey()
  assert.match(k, /^SWMKEY-1-[A-Za-z0-9+/]{43}$/)
  assert.equal(parseUnlockKey(k).length, 32)
  // A key as Docker printed it parses.
  assert.equal(parseUnlockKey('SWMKEY-1-WuYH/IX284+lRcXuoVf38viIDK3HJEKY13MIHX+tTt8').length, 32)
  assert.throws(() => parseUnlockKey('SWMKEY-1-short'), { message: 'invalid key string' })
  const sealed = sealWithUnlockKey(k, 'secret key pem')
  assert.ok(!sealed.includes('secret'))
  assert.equal(openWithUnlockKey(k, sealed), 'secret key pem')
  assert.throws(() => openWithUnlockKey(generateUnlockKey(), sealed), { message: 'swarm could not be unlocked: invalid key' })
})


test('CA: root "swarm-ca", node certificates name the node (CN), role (OU) and cluster (O)', async () => {
  const pki = await loadPki()
  const ca = await newCaRecord(pki, { autolock: true })
  assert.equal(ca.digest, caDigest(ca.rootCertPem))
  assert.equal(parseJoinToken(ca.joinTokens.worker).caDigest, ca.digest)
  assert.match(ca.unlockKey!, /^SWMKEY-1-/)
  const root = new X509Certificate(ca.rootCertPem)
  assert.equal(root.subject, 'CN=swarm-ca')
  assert.ok(root.ca)
  assert.ok(new Date(root.validTo).getTime() > Date.now() + 19 * 365 * 86400_000)

  const w = await issueNodeCertificate(pki, ca, { nodeId: 'n0de1d', role: 'worker', clusterId: 'clust3r' })
  const wc = new X509Certificate(w.certPem)
  assert.equal(wc.subject, 'CN=n0de1d\nOU=swarm-worker\nO=clust3r')
  assert.ok(wc.checkIssued(root) && wc.verify(root.publicKey))
  assert.deepEqual(nodeIdentity(pki, w.certPem, ca.rootCertPem), { nodeId: 'n0de1d', role: 'worker', clusterId: 'clust3r' })

  // A joining manager sends a CSR: the CA names it, whatever the CSR asked for.
  const csr = await pki.createCsr({ commonName: 'i-want-to-be-root', organizationalUnit: 'swarm-manager' })
  const m = await issueNodeCertificate(pki, ca, { nodeId: 'mgr1', role: 'manager', clusterId: 'clust3r' }, { csrPem: csr.csrPem })
  assert.equal(m.keyPem, undefined)
  assert.deepEqual(nodeIdentity(pki, m.certPem, ca.rootCertPem), { nodeId: 'mgr1', role: 'manager', clusterId: 'clust3r' })

  // After a root rotation, old certificates are no longer trusted and the tokens changed.
  const rotated = await rotateRootCA(pki, ca)
  assert.notEqual(rotated.digest, ca.digest)
  assert.notEqual(rotated.joinTokens.worker, ca.joinTokens.worker)
  assert.throws(() => nodeIdentity(pki, w.certPem, rotated.rootCertPem), { kind: 'Unauthorized' })
})

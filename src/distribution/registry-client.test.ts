import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseChallenge, RegistryClient, RegistryError } from './registry-client.js'
import { decodeRegistryAuth, credentialsOf, encodeRegistryAuth } from './auth-header.js'
import { isInsecure, validateInsecureRegistry, validateMirror } from './hosts.js'
import { selectManifest } from './manifest.js'

/**
 * The client against a small HTTP server that speaks the parts of the distribution protocol a
 * real registry without a token server cannot show: bearer challenges with a token endpoint,
 * redirects to blob storage, 503s, and connections cut midway.
 */
const blob = Buffer.alloc(300_000, 7)
for (let i = 0; i < blob.length; i++) blob[i] = (i * 31) & 0xff
const blobDigest = `sha256:${createHash('sha256').update(blob).digest('hex')}`

let server: Server
let base = ''
const log: string[] = []
let tokenRequests = 0
let flaky = 0
let cutNext = false

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url!, base)
  log.push(`${req.method} ${url.pathname}${req.headers.range ? ` ${req.headers.range}` : ''}`)
  if (url.pathname === '/token') {
    tokenRequests++
    const auth = req.headers.authorization
    if (auth !== `Basic ${Buffer.from('bob:pw').toString('base64')}`) { res.writeHead(401); res.end(); return }
    assert.equal(url.searchParams.get('service'), 'test-registry')
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ token: `tok:${url.searchParams.getAll('scope').join(' ')}`, expires_in: 300 }))
    return
  }
  if (url.pathname === '/storage/blob') {
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''))
    const start = range ? Number(range[1]) : 0
    if (cutNext) {
      cutNext = false
      res.writeHead(200, { 'Content-Length': blob.length })
      res.write(blob.subarray(0, 100_000), () => res.destroy())
      return
    }
    res.writeHead(range ? 206 : 200, { 'Content-Length': blob.length - start })
    res.end(blob.subarray(start))
    return
  }
  const scope = url.pathname.startsWith('/v2/app/') ? 'repository:app:pull' : ''
  const auth = req.headers.authorization
  if (url.pathname === '/v2/' || auth !== `Bearer tok:${scope}`) {
    res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${base}/token",service="test-registry"${scope ? `,scope="${scope}"` : ''}`, 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }))
    return
  }
  if (url.pathname === '/v2/app/manifests/flaky' && flaky-- > 0) { res.writeHead(503); res.end(); return }
  if (url.pathname.startsWith('/v2/app/manifests/')) {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: blobDigest, size: blob.length, mediaType: 'x' }, layers: [] }))
    if (url.pathname.endsWith('/missing')) { res.writeHead(404, { 'Content-Type': 'application/json' }); res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] })); return }
    res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Docker-Content-Digest': `sha256:${createHash('sha256').update(body).digest('hex')}` })
    res.end(req.method === 'HEAD' ? undefined : body)
    return
  }
  if (url.pathname.startsWith('/v2/app/blobs/sha256:')) {
    res.writeHead(307, { Location: `${base}/storage/blob` })
    res.end()
    return
  }
  res.writeHead(404)
  res.end()
}

before(async () => {
  server = createServer(handle)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(() => new Promise<void>((r) => server.close(() => r())))

const client = () => new RegistryClient({ domain: base.slice(7), settings: { insecureRegistries: [] }, credentials: { username: 'bob', password: 'pw' } })

it('answers a bearer challenge with a token for the scope, and reuses it', async () => {
  tokenRequests = 0
  const c = client()
  const m = await c.getManifest('app', 'v1')
  assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json')
  const head = await c.headManifest('app', 'v1')
  assert.equal(head?.digest, m.digest)
  assert.equal(tokenRequests, 1)
  // A loopback registry is reached over plain HTTP after HTTPS fails.
  assert.ok(c.baseUrl.startsWith('http://'))
})

it('wrong credentials: docker\'s unauthorized message', async () => {
  const c = new RegistryClient({ domain: base.slice(7), settings: { insecureRegistries: [] }, credentials: { username: 'bob', password: 'nope' } })
  await assert.rejects(c.getManifest('app', 'v1'), /unauthorized: incorrect username or password/)
})

it('registry errors carry their codes', async () => {
  const err = await client().getManifest('app', 'missing').catch((e: unknown) => e)
  assert.ok(err instanceof RegistryError)
  assert.ok(err.has('MANIFEST_UNKNOWN'))
  assert.equal(err.message, 'manifest unknown: manifest unknown')
})

it('retries a 503 with backoff', async () => {
  flaky = 2
  const m = await client().getManifest('app', 'flaky')
  assert.ok(m.digest)
})

it('follows a redirect for a blob and resumes a cut download with Range; the digest is verified', async () => {
  log.length = 0
  cutNext = true
  const chunks: Buffer[] = []
  for await (const c of client().readBlob('app', blobDigest, blob.length)) chunks.push(c)
  assert.ok(Buffer.concat(chunks).equals(blob))
  assert.ok(log.some((l) => /^GET \/storage\/blob bytes=\d+-$/.test(l)), log.join('\n'))
  // The wrong digest for the same bytes is refused.
  const wrong = `sha256:${'0'.repeat(64)}`
  const read = async () => { for await (const c of client().readBlob('app', wrong, blob.length)) void c }
  await assert.rejects(read(), /filesystem layer verification failed for digest sha256:0+/)
})

it('parses challenges, auth headers and registry settings', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull,push"'), { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a:pull,push' } })
  assert.equal(parseChallenge('Basic realm="x"')?.scheme, 'basic')
  const hdr = encodeRegistryAuth({ username: 'u', password: 'p', serveraddress: 'r' })
  assert.deepEqual(credentialsOf(decodeRegistryAuth(hdr)), { username: 'u', password: 'p' })
  assert.deepEqual(credentialsOf({ auth: Buffer.from('a:b:c').toString('base64') }), { username: 'a', password: 'b:c' })
  assert.equal(decodeRegistryAuth(''), undefined)
  assert.ok(isInsecure('localhost:5000', { insecureRegistries: [] }))
  assert.ok(isInsecure('127.8.0.1:5000', { insecureRegistries: [] }))
  assert.ok(isInsecure('10.1.2.3:5000', { insecureRegistries: ['10.0.0.0/8'] }))
  assert.ok(isInsecure('reg.local:5000', { insecureRegistries: ['reg.local:5000'] }))
  assert.ok(!isInsecure('reg.example.com', { insecureRegistries: ['10.0.0.0/8'] }))
  assert.throws(() => validateInsecureRegistry('http://x'), /should not contain ':\/\/'/)
  assert.equal(validateMirror('https://mirror.example'), 'https://mirror.example/')
  assert.throws(() => validateMirror('https://mirror.example/path'), /path, query, or fragment/)
})

it('selects a platform from a list, exact variant first', () => {
  const d = (digit: string, platform: object) => ({ mediaType: 'm', digest: `sha256:${digit.repeat(64)}`, size: 1, platform })
  const idx = { schemaVersion: 2, manifests: [d('1', { os: 'linux', architecture: 'arm', variant: 'v6' }), d('2', { os: 'linux', architecture: 'arm', variant: 'v7' }), d('3', { os: 'linux', architecture: 'amd64' }), d('4', { os: 'unknown', architecture: 'unknown' })] }
  assert.equal(selectManifest(idx, { os: 'linux', architecture: 'amd64' }).digest, `sha256:${'3'.repeat(64)}`)
  assert.equal(selectManifest(idx, { os: 'linux', architecture: 'arm' }).digest, `sha256:${'2'.repeat(64)}`)
  assert.equal(selectManifest(idx, { os: 'linux', architecture: 'arm', variant: 'v6' }).digest, `sha256:${'1'.repeat(64)}`)
  assert.throws(() => selectManifest(idx, { os: 'linux', architecture: 'arm64' }), /no matching manifest for linux\/arm64\/v8 in the manifest list entries/)
})

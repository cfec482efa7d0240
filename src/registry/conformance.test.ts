/**
 * The OCI distribution spec's conformance workflows (pull, push, content discovery, content
 * management) against `berth registry` in process, every request and error case, plus the
 * users/rights model and the token server.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hashPassword, updateAccounts, accountsPath } from './accounts.js'
import { loadConfig } from './config.js'
import { collectGarbage } from './gc.js'
import { startRegistry, type RunningRegistry } from './serve.js'
import { streamLogger } from './server.js'

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`
const sha512 = (b: Buffer | string) => `sha512:${createHash('sha512').update(b).digest('hex')}`
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'

let reg: RunningRegistry
let dir: string
let base: string
const basic = (u: string, p = 'pw') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`
const ALICE = basic('alice')

interface Res { status: number; headers: Headers; body: Buffer; json: () => any }
async function req(method: string, path: string, opts: { body?: Buffer | string; headers?: Record<string, string>; auth?: string | null } = {}): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers }
  const auth = opts.auth === undefined ? ALICE : opts.auth
  if (auth) headers.authorization = auth
  const r = await fetch(path.startsWith('http') ? path : `${base}${path}`, { method, headers, ...(opts.body !== undefined ? { body: opts.body } : {}), redirect: 'manual' })
  const body = Buffer.from(await r.arrayBuffer())
  return { status: r.status, headers: r.headers, body, json: () => JSON.parse(body.toString()) }
}
const codeOf = (r: Res) => (r.json() as { errors: Array<{ code: string }> }).errors[0]!.code

async function pushBlob(repo: string, data: Buffer, auth?: string): Promise<string> {
  const d = sha256(data)
  const r = await req('POST', `/v2/${repo}/blobs/uploads/?digest=${d}`, { body: data, headers: { 'content-type': 'application/octet-stream' }, ...(auth ? { auth } : {}) })
  assert.equal(r.status, 201, r.body.toString())
  return d
}

function imageManifest(config: Buffer, layers: Buffer[], extra: Record<string, unknown> = {}, mediaType = OCI_MANIFEST) {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType,
    config: { mediaType: mediaType === OCI_MANIFEST ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json', digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l), size: l.length })),
    ...extra,
  }))
}

async function pushImage(repo: string, tag: string, opts: { extra?: Record<string, unknown>; mediaType?: string; auth?: string } = {}) {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rand: randomBytes(8).toString('hex') }))
  const layer = randomBytes(1000)
  await pushBlob(repo, config, opts.auth)
  await pushBlob(repo, layer, opts.auth)
  const m = imageManifest(config, [layer], opts.extra, opts.mediaType)
  const r = await req('PUT', `/v2/${repo}/manifests/${tag}`, { body: m, headers: { 'content-type': opts.mediaType ?? OCI_MANIFEST }, ...(opts.auth ? { auth: opts.auth } : {}) })
  assert.equal(r.status, 201, r.body.toString())
  return { manifest: m, digest: sha256(m), config, layer, res: r }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-registry-conf-'))
  const cfg = await loadConfig({ dataRoot: dir, listen: '127.0.0.1:0', logLevel: 'error' })
  cfg.gc.graceMs = 0
  const hash = await hashPassword('pw')
  await updateAccounts(accountsPath(dir), (a) => {
    for (const u of ['alice', 'bob', 'carol']) a.users[u] = { password: hash, created: new Date().toISOString() }
    a.orgs.acme = { created: new Date().toISOString(), members: { alice: 'push', bob: 'pull', carol: 'owner' } }
  })
  reg = await startRegistry(cfg, streamLogger('error'))
  base = `http://127.0.0.1:${reg.port}`
})
after(async () => {
  await reg?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('determining support', () => {
  it('GET /v2/ answers 200 with credentials, 401 with a Bearer challenge without', async () => {
    const ok = await req('GET', '/v2/')
    assert.equal(ok.status, 200)
    assert.equal(ok.headers.get('docker-distribution-api-version'), 'registry/2.0')
    const no = await req('GET', '/v2/', { auth: null })
    assert.equal(no.status, 401)
    assert.match(no.headers.get('www-authenticate')!, new RegExp(`^Bearer realm="http://127\\.0\\.0\\.1:${reg.port}/token",service="berth-registry"$`))
    assert.equal(codeOf(no), 'UNAUTHORIZED')
    const wrong = await req('GET', '/v2/', { auth: basic('alice', 'nope') })
    assert.equal(wrong.status, 401)
  })
  it('/health answers 200', async () => {
    assert.equal((await req('GET', '/health', { auth: null })).status, 200)
  })
})

describe('push', () => {
  it('monolithic POST ?digest= stores the blob; HEAD and GET find it', async () => {
    const data = randomBytes(4096)
    const d = sha256(data)
    const r = await req('POST', `/v2/alice/push/blobs/uploads/?digest=${d}`, { body: data })
    assert.equal(r.status, 201)
    assert.equal(r.headers.get('location'), `/v2/alice/push/blobs/${d}`)
    assert.equal(r.headers.get('docker-content-digest'), d)
    const h = await req('HEAD', `/v2/alice/push/blobs/${d}`)
    assert.equal(h.status, 200)
    assert.equal(h.headers.get('content-length'), '4096')
    assert.equal(h.headers.get('docker-content-digest'), d)
    const g = await req('GET', `/v2/alice/push/blobs/${d}`)
    assert.deepEqual(g.body, data)
  })
  it('POST then PUT: 202 with a Location, then 201', async () => {
    const data = randomBytes(3000)
    const p = await req('POST', '/v2/alice/push/blobs/uploads/')
    assert.equal(p.status, 202)
    const loc = p.headers.get('location')!
    assert.match(loc, /^\/v2\/alice\/push\/blobs\/uploads\/[0-9a-f-]{36}$/)
    assert.equal(p.headers.get('range'), '0-0')
    const put = await req('PUT', `${loc}?digest=${sha256(data)}`, { body: data, headers: { 'content-type': 'application/octet-stream' } })
    assert.equal(put.status, 201)
    assert.equal(put.headers.get('location'), `/v2/alice/push/blobs/${sha256(data)}`)
    assert.deepEqual((await req('GET', `/v2/alice/push/blobs/${sha256(data)}`)).body, data)
  })
  it('chunked PATCH with Content-Range: Range replies, status by GET, out-of-order chunk 416, resumed, closed by PUT', async () => {
    const data = randomBytes(10_000)
    const p = await req('POST', '/v2/alice/chunked/blobs/uploads/')
    const loc = p.headers.get('location')!
    const c1 = await req('PATCH', loc, { body: data.subarray(0, 4000), headers: { 'content-range': '0-3999', 'content-type': 'application/octet-stream' } })
    assert.equal(c1.status, 202)
    assert.equal(c1.headers.get('range'), '0-3999')
    assert.equal(c1.headers.get('location'), loc)
    const bad = await req('PATCH', loc, { body: data.subarray(5000, 6000), headers: { 'content-range': '5000-5999' } })
    assert.equal(bad.status, 416)
    assert.equal(codeOf(bad), 'RANGE_INVALID')
    const st = await req('GET', loc)
    assert.equal(st.status, 204)
    assert.equal(st.headers.get('range'), '0-3999')
    const c2 = await req('PATCH', loc, { body: data.subarray(4000, 8000), headers: { 'content-range': '4000-7999' } })
    assert.equal(c2.headers.get('range'), '0-7999')
    const fin = await req('PUT', `${loc}?digest=${sha256(data)}`, { body: data.subarray(8000), headers: { 'content-range': '8000-9999' } })
    assert.equal(fin.status, 201, fin.body.toString())
    assert.deepEqual((await req('GET', `/v2/alice/chunked/blobs/${sha256(data)}`)).body, data)
    assert.equal((await req('GET', loc)).status, 404, 'a finished upload is gone')
  })
  it('streamed PATCH without Content-Range (as docker does), then PUT without body', async () => {
    const data = randomBytes(20_000)
    const loc = (await req('POST', '/v2/alice/stream/blobs/uploads/')).headers.get('location')!
    const c = await req('PATCH', loc, { body: data })
    assert.equal(c.headers.get('range'), '0-19999')
    const fin = await req('PUT', `${loc}?digest=${sha256(data)}`)
    assert.equal(fin.status, 201)
  })
  it('Content-Range with a length other than the body is refused and nothing is appended', async () => {
    const loc = (await req('POST', '/v2/alice/push/blobs/uploads/')).headers.get('location')!
    const r = await req('PATCH', loc, { body: randomBytes(10), headers: { 'content-range': '0-99' } })
    assert.ok(r.status === 400 || r.status === 416, String(r.status))
    assert.equal((await req('GET', loc)).headers.get('range'), '0-0')
    const rev = await req('PATCH', loc, { body: randomBytes(10), headers: { 'content-range': '9-0' } })
    assert.equal(rev.status, 416)
  })
  it('a wrong digest is DIGEST_INVALID and nothing is stored', async () => {
    const data = randomBytes(100)
    const wrong = sha256(Buffer.from('other'))
    const r = await req('POST', `/v2/alice/push/blobs/uploads/?digest=${wrong}`, { body: data })
    assert.equal(r.status, 400)
    assert.equal(codeOf(r), 'DIGEST_INVALID')
    assert.equal((await req('HEAD', `/v2/alice/push/blobs/${wrong}`)).status, 404)
    assert.equal((await req('HEAD', `/v2/alice/push/blobs/${sha256(data)}`)).status, 404)
    const loc = (await req('POST', '/v2/alice/push/blobs/uploads/')).headers.get('location')!
    const put = await req('PUT', `${loc}?digest=${wrong}`, { body: data })
    assert.equal(codeOf(put), 'DIGEST_INVALID')
    const malformed = await req('PUT', `${(await req('POST', '/v2/alice/push/blobs/uploads/')).headers.get('location')}?digest=sha256:xyz`, { body: data })
    assert.equal(malformed.status, 400)
    assert.equal(codeOf(malformed), 'DIGEST_INVALID')
    assert.deepEqual((await readdir(join(dir, 'uploads'))).filter((u) => u === loc.split('/').pop()), [])
  })
  it('sha512 blobs and manifests', async () => {
    const data = randomBytes(500)
    const d = sha512(data)
    const r = await req('POST', `/v2/alice/sha512/blobs/uploads/?digest=${d}`, { body: data })
    assert.equal(r.status, 201, r.body.toString())
    assert.deepEqual((await req('GET', `/v2/alice/sha512/blobs/${d}`)).body, data)
    const p = await req('POST', '/v2/alice/sha512/blobs/uploads/?digest-algorithm=sha512')
    assert.equal(p.status, 202)
    const fin = await req('PUT', `${p.headers.get('location')}?digest=${sha512(Buffer.from('x'))}`, { body: 'x' })
    assert.equal(fin.status, 201)
    const cfg = randomBytes(10)
    await pushBlob('alice/sha512', cfg)
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(cfg), size: 10 }, layers: [{ mediaType: 'x', digest: d, size: 500 }] }))
    const put = await req('PUT', `/v2/alice/sha512/manifests/${sha512(m)}`, { body: m, headers: { 'content-type': OCI_MANIFEST } })
    assert.equal(put.status, 201, put.body.toString())
    assert.equal(put.headers.get('docker-content-digest'), sha512(m))
    assert.deepEqual((await req('GET', `/v2/alice/sha512/manifests/${sha512(m)}`)).body, m)
  })
  it('DELETE on an upload cancels it; an unknown upload is BLOB_UPLOAD_UNKNOWN', async () => {
    const loc = (await req('POST', '/v2/alice/push/blobs/uploads/')).headers.get('location')!
    assert.equal((await req('DELETE', loc)).status, 204)
    const gone = await req('GET', loc)
    assert.equal(gone.status, 404)
    assert.equal(codeOf(gone), 'BLOB_UPLOAD_UNKNOWN')
    assert.equal(codeOf(await req('PATCH', '/v2/alice/push/blobs/uploads/not-a-uuid', { body: 'x' })), 'BLOB_UPLOAD_UNKNOWN')
    assert.equal(codeOf(await req('PATCH', `/v2/alice/other/blobs/uploads/${loc.split('/').pop()}`, { body: 'x' })), 'BLOB_UPLOAD_UNKNOWN')
  })
  it('an upload of one repository is not visible from another', async () => {
    const loc = (await req('POST', '/v2/alice/a1/blobs/uploads/')).headers.get('location')!
    const uuid = loc.split('/').pop()!
    assert.equal((await req('GET', `/v2/alice/a2/blobs/uploads/${uuid}`)).status, 404)
    await req('DELETE', loc)
  })
  it('a client that disconnects mid-chunk leaves the upload at its previous size', async () => {
    const loc = (await req('POST', '/v2/alice/cut/blobs/uploads/')).headers.get('location')!
    await req('PATCH', loc, { body: randomBytes(100), headers: { 'content-range': '0-99' } })
    await new Promise<void>((resolve) => {
      const r = httpRequest(`${base}${loc}`, { method: 'PATCH', headers: { authorization: ALICE, 'content-length': '100000', 'content-range': '100-100099' } })
      r.on('error', () => resolve())
      r.write(randomBytes(5000))
      setTimeout(() => { r.destroy(); resolve() }, 100)
    })
    await new Promise((r) => setTimeout(r, 100))
    assert.equal((await req('GET', loc)).headers.get('range'), '0-99')
  })
  it('cross-repository mount: 201 when the user may pull the source, 202 (a new upload) otherwise', async () => {
    const data = randomBytes(700)
    const d = await pushBlob('alice/src', data)
    const m = await req('POST', `/v2/alice/dst/blobs/uploads/?mount=${d}&from=alice/src`)
    assert.equal(m.status, 201)
    assert.equal(m.headers.get('location'), `/v2/alice/dst/blobs/${d}`)
    assert.deepEqual((await req('GET', `/v2/alice/dst/blobs/${d}`)).body, data)
    // bob cannot read alice/src: no mount, an ordinary upload session instead.
    const bm = await req('POST', `/v2/bob/dst/blobs/uploads/?mount=${d}&from=alice/src`, { auth: basic('bob') })
    assert.equal(bm.status, 202)
    assert.equal((await req('HEAD', `/v2/bob/dst/blobs/${d}`, { auth: basic('bob') })).status, 404)
    const unknown = await req('POST', `/v2/alice/dst/blobs/uploads/?mount=${sha256('nothing')}&from=alice/src`)
    assert.equal(unknown.status, 202)
  })
  it('blobs are stored once, shared across repositories', async () => {
    const data = randomBytes(2222)
    await pushBlob('alice/share1', data)
    await pushBlob('alice/share2', data)
    const hex = sha256(data).slice(7)
    assert.deepEqual(await readdir(join(dir, 'blobs', 'sha256', hex.slice(0, 2))).then((l) => l.filter((f) => f === hex)), [hex])
  })
  it('a blob of another repository is BLOB_UNKNOWN here', async () => {
    const d = await pushBlob('alice/mine', randomBytes(50))
    const r = await req('GET', `/v2/alice/notmine/blobs/${d}`)
    assert.equal(r.status, 404)
    assert.equal(codeOf(r), 'BLOB_UNKNOWN')
  })
})

describe('manifests', () => {
  it('PUT by tag, GET/HEAD by tag and by digest with Docker-Content-Digest, stored byte for byte', async () => {
    const { manifest, digest, res } = await pushImage('alice/app', 'v1')
    assert.equal(res.headers.get('location'), `/v2/alice/app/manifests/${digest}`)
    assert.equal(res.headers.get('docker-content-digest'), digest)
    for (const ref of ['v1', digest]) {
      const g = await req('GET', `/v2/alice/app/manifests/${ref}`, { headers: { accept: OCI_MANIFEST } })
      assert.equal(g.status, 200)
      assert.deepEqual(g.body, manifest)
      assert.equal(g.headers.get('content-type'), OCI_MANIFEST)
      assert.equal(g.headers.get('docker-content-digest'), digest)
      const h = await req('HEAD', `/v2/alice/app/manifests/${ref}`)
      assert.equal(h.status, 200)
      assert.equal(h.headers.get('content-length'), String(manifest.length))
      assert.equal(h.body.length, 0)
    }
  })
  it('Docker schema 2 manifests, manifest lists and OCI indexes', async () => {
    const a = await pushImage('alice/multi', 'amd64', { mediaType: DOCKER_MANIFEST })
    const b = await pushImage('alice/multi', 'arm64')
    const list = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [
      { mediaType: DOCKER_MANIFEST, digest: a.digest, size: a.manifest.length, platform: { architecture: 'amd64', os: 'linux' } },
    ] }))
    const r = await req('PUT', '/v2/alice/multi/manifests/list', { body: list, headers: { 'content-type': DOCKER_LIST } })
    assert.equal(r.status, 201, r.body.toString())
    assert.equal((await req('GET', '/v2/alice/multi/manifests/list')).headers.get('content-type'), DOCKER_LIST)
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [
      { mediaType: DOCKER_MANIFEST, digest: a.digest, size: a.manifest.length }, { mediaType: OCI_MANIFEST, digest: b.digest, size: b.manifest.length },
    ] }))
    const ri = await req('PUT', '/v2/alice/multi/manifests/index', { body: index, headers: { 'content-type': OCI_INDEX } })
    assert.equal(ri.status, 201)
    const missing = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('none'), size: 4 }] }))
    const rm = await req('PUT', '/v2/alice/multi/manifests/broken', { body: missing, headers: { 'content-type': OCI_INDEX } })
    assert.equal(codeOf(rm), 'MANIFEST_BLOB_UNKNOWN')
  })
  it('a manifest referencing an unknown blob is MANIFEST_BLOB_UNKNOWN and not stored', async () => {
    const cfg = randomBytes(20)
    await pushBlob('alice/app', cfg)
    const m = imageManifest(cfg, [randomBytes(30)])
    const r = await req('PUT', '/v2/alice/app/manifests/missing', { body: m, headers: { 'content-type': OCI_MANIFEST } })
    assert.equal(r.status, 400)
    assert.equal(codeOf(r), 'MANIFEST_BLOB_UNKNOWN')
    assert.equal((await req('GET', '/v2/alice/app/manifests/missing')).status, 404)
    assert.equal((await req('GET', `/v2/alice/app/manifests/${sha256(m)}`)).status, 404)
  })
  it('malformed manifests are MANIFEST_INVALID', async () => {
    for (const body of ['not json', '{"schemaVersion":1}', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { digest: 'bad' }, layers: [] }), JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] })]) {
      const r = await req('PUT', '/v2/alice/app/manifests/bad', { body, headers: { 'content-type': OCI_MANIFEST } })
      assert.equal(r.status, 400, body)
      assert.equal(codeOf(r), 'MANIFEST_INVALID', body)
    }
    assert.equal((await req('GET', '/v2/alice/app/manifests/bad')).status, 404)
  })
  it('a manifest over 4 MiB is refused with 413', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 10, 0x20)
    const r = await req('PUT', '/v2/alice/app/manifests/big', { body: big, headers: { 'content-type': OCI_MANIFEST } })
    assert.equal(r.status, 413)
  })
  it('PUT by digest checks the digest; ?tag= adds tags with OCI-Tag', async () => {
    const { manifest } = await pushImage('alice/bydigest', 'first')
    const wrong = await req('PUT', `/v2/alice/bydigest/manifests/${sha256('x')}`, { body: manifest, headers: { 'content-type': OCI_MANIFEST } })
    assert.equal(codeOf(wrong), 'DIGEST_INVALID')
    const r = await req('PUT', `/v2/alice/bydigest/manifests/${sha256(manifest)}?tag=t1&tag=t2`, { body: manifest, headers: { 'content-type': OCI_MANIFEST } })
    assert.equal(r.status, 201)
    assert.equal(r.headers.get('oci-tag'), 't1, t2')
    assert.equal((await req('GET', '/v2/alice/bydigest/manifests/t2')).status, 200)
  })
  it('invalid tags and names are TAG_INVALID and NAME_INVALID', async () => {
    const { manifest } = await pushImage('alice/tags', 'ok')
    const r = await req('PUT', `/v2/alice/tags/manifests/${'x'.repeat(129)}`, { body: manifest, headers: { 'content-type': OCI_MANIFEST } })
    assert.equal(codeOf(r), 'TAG_INVALID')
    assert.equal(codeOf(await req('PUT', '/v2/alice/tags/manifests/-bad', { body: manifest, headers: { 'content-type': OCI_MANIFEST } })), 'TAG_INVALID')
    for (const name of ['alice/UPPER', 'alice//x', 'alice/a..b', 'alice/-x', 'alice/x_']) {
      const n = await req('GET', `/v2/${name}/manifests/latest`)
      assert.equal(n.status, 400, name)
      assert.equal(codeOf(n), 'NAME_INVALID', name)
    }
    // Sent raw: fetch would resolve the dot segments itself.
    for (const path of ['/v2/alice/../bob/blobs/uploads/', '/v2/alice/%2e%2e/blobs/uploads/', '/v2/alice/%2E%2E/x/manifests/latest']) {
      const status = await new Promise<number>((resolve, reject) => {
        const r = httpRequest({ host: '127.0.0.1', port: reg.port, path, method: 'POST', headers: { authorization: ALICE, 'content-length': '0' } }, (res) => { res.resume(); resolve(res.statusCode!) })
        r.on('error', reject)
        r.end()
      })
      assert.equal(status, 400, path)
    }
  })
  it('an unknown manifest is MANIFEST_UNKNOWN, an unknown repository NAME_UNKNOWN', async () => {
    await pushImage('alice/known', 'v1')
    const m = await req('GET', '/v2/alice/known/manifests/nope')
    assert.equal(m.status, 404)
    assert.equal(codeOf(m), 'MANIFEST_UNKNOWN')
    const n = await req('GET', '/v2/alice/never/manifests/v1')
    assert.equal(n.status, 404)
    assert.equal(codeOf(n), 'NAME_UNKNOWN')
  })
  it('methods the API does not have are UNSUPPORTED', async () => {
    const r = await req('POST', '/v2/alice/known/manifests/v1', { body: '{}' })
    assert.equal(r.status, 405)
    assert.equal(codeOf(r), 'UNSUPPORTED')
  })
})

describe('pull', () => {
  it('GET with Range: 206 and the bytes asked for; suffix and open ranges; unsatisfiable 416', async () => {
    const data = randomBytes(1000)
    const d = await pushBlob('alice/range', data)
    const r = await req('GET', `/v2/alice/range/blobs/${d}`, { headers: { range: 'bytes=10-19' } })
    assert.equal(r.status, 206)
    assert.equal(r.headers.get('content-range'), 'bytes 10-19/1000')
    assert.deepEqual(r.body, data.subarray(10, 20))
    assert.deepEqual((await req('GET', `/v2/alice/range/blobs/${d}`, { headers: { range: 'bytes=990-' } })).body, data.subarray(990))
    assert.deepEqual((await req('GET', `/v2/alice/range/blobs/${d}`, { headers: { range: 'bytes=-5' } })).body, data.subarray(995))
    const bad = await req('GET', `/v2/alice/range/blobs/${d}`, { headers: { range: 'bytes=2000-3000' } })
    assert.equal(bad.status, 416)
    assert.equal(bad.headers.get('content-range'), 'bytes */1000')
    assert.equal((await req('GET', `/v2/alice/range/blobs/${d}`, { headers: { range: 'bytes=20-10' } })).status, 416)
  })
  it('an unknown or malformed blob digest: BLOB_UNKNOWN, DIGEST_INVALID', async () => {
    const r = await req('GET', `/v2/alice/range/blobs/${sha256('absent')}`)
    assert.equal(r.status, 404)
    assert.equal(codeOf(r), 'BLOB_UNKNOWN')
    const m = await req('GET', '/v2/alice/range/blobs/sha256:1234')
    assert.equal(m.status, 400)
    assert.equal(codeOf(m), 'DIGEST_INVALID')
  })
})

describe('content discovery', () => {
  it('tags/list sorted, with n/last pagination and a Link header', async () => {
    for (const t of ['c', 'a', 'b', 'd']) await pushImage('alice/paged', t)
    const all = await req('GET', '/v2/alice/paged/tags/list')
    assert.deepEqual(all.json(), { name: 'alice/paged', tags: ['a', 'b', 'c', 'd'] })
    const p1 = await req('GET', '/v2/alice/paged/tags/list?n=2')
    assert.deepEqual(p1.json().tags, ['a', 'b'])
    assert.equal(p1.headers.get('link'), '</v2/alice/paged/tags/list?last=b&n=2>; rel="next"')
    const p2 = await req('GET', '/v2/alice/paged/tags/list?n=2&last=b')
    assert.deepEqual(p2.json().tags, ['c', 'd'])
    assert.equal(p2.headers.get('link'), null)
    const z = await req('GET', '/v2/alice/paged/tags/list?n=0')
    assert.deepEqual(z.json().tags, [])
    assert.equal(z.headers.get('link'), null)
    assert.equal(codeOf(await req('GET', '/v2/alice/nothing/tags/list')), 'NAME_UNKNOWN')
  })
  it('_catalog lists only what the caller may pull, paginated', async () => {
    await pushImage('bob/secret', 'v1', { auth: basic('bob') })
    const a = (await req('GET', '/v2/_catalog?n=1000')).json().repositories as string[]
    assert.ok(a.includes('alice/app'))
    assert.ok(!a.includes('bob/secret'))
    const b = (await req('GET', '/v2/_catalog?n=1000', { auth: basic('bob') })).json().repositories as string[]
    assert.ok(b.includes('bob/secret'))
    assert.ok(!b.includes('alice/app'))
    const anon = (await req('GET', '/v2/_catalog', { auth: null })).json().repositories as string[]
    assert.deepEqual(anon, [])
    const p = await req('GET', '/v2/_catalog?n=1')
    assert.equal(p.json().repositories.length, 1)
    assert.match(p.headers.get('link')!, /^<\/v2\/_catalog\?last=alice%2F[a-z0-9]+&n=1>; rel="next"$/)
  })
  it('referrers: OCI-Subject on push, the index of referrers, the artifactType filter', async () => {
    const subject = await pushImage('alice/signed', 'v1')
    const subj = { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.manifest.length }
    const sig = await pushImage('alice/signed', 'sig', { extra: { artifactType: 'application/vnd.example.sig', subject: subj, annotations: { 'org.example': 'x' } } })
    assert.equal(sig.res.headers.get('oci-subject'), subject.digest)
    const sbom = await pushImage('alice/signed', 'sbom', { extra: { subject: subj } })
    const r = await req('GET', `/v2/alice/signed/referrers/${subject.digest}`)
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('content-type'), OCI_INDEX)
    const idx = r.json()
    assert.equal(idx.mediaType, OCI_INDEX)
    const byDigest = new Map((idx.manifests as Array<{ digest: string; artifactType?: string; annotations?: Record<string, string> }>).map((m) => [m.digest, m]))
    assert.equal(byDigest.size, 2)
    assert.equal(byDigest.get(sig.digest)!.artifactType, 'application/vnd.example.sig')
    assert.deepEqual(byDigest.get(sig.digest)!.annotations, { 'org.example': 'x' })
    assert.equal(byDigest.get(sbom.digest)!.artifactType, 'application/vnd.oci.image.config.v1+json')
    const f = await req('GET', `/v2/alice/signed/referrers/${subject.digest}?artifactType=application/vnd.example.sig`)
    assert.equal(f.headers.get('oci-filters-applied'), 'artifactType')
    assert.deepEqual(f.json().manifests.map((m: { digest: string }) => m.digest), [sig.digest])
    const none = await req('GET', `/v2/alice/signed/referrers/${sha256('nobody')}`)
    assert.equal(none.status, 200)
    assert.deepEqual(none.json().manifests, [])
    assert.equal((await req('GET', '/v2/alice/signed/referrers/sha256:bad')).status, 400)
    // A subject that does not exist yet is allowed (pushed before its subject).
    const early = await pushImage('alice/signed', 'early', { extra: { subject: { mediaType: OCI_MANIFEST, digest: sha256('later'), size: 5 } } })
    assert.equal(early.res.headers.get('oci-subject'), sha256('later'))
    await req('DELETE', `/v2/alice/signed/manifests/${sig.digest}`)
    assert.equal((await req('GET', `/v2/alice/signed/referrers/${subject.digest}`)).json().manifests.length, 1)
  })
})

describe('content management', () => {
  it('DELETE a tag, DELETE a manifest by digest (with its tags), then 404', async () => {
    const a = await pushImage('alice/del', 'v1')
    await req('PUT', '/v2/alice/del/manifests/v2', { body: a.manifest, headers: { 'content-type': OCI_MANIFEST } })
    assert.equal((await req('DELETE', '/v2/alice/del/manifests/v2')).status, 202)
    assert.equal((await req('GET', '/v2/alice/del/manifests/v2')).status, 404)
    assert.equal((await req('GET', '/v2/alice/del/manifests/v1')).status, 200)
    assert.equal((await req('DELETE', `/v2/alice/del/manifests/${a.digest}`)).status, 202)
    assert.equal(codeOf(await req('GET', `/v2/alice/del/manifests/${a.digest}`)), 'MANIFEST_UNKNOWN')
    assert.equal((await req('GET', '/v2/alice/del/manifests/v1')).status, 404)
    assert.equal(codeOf(await req('DELETE', `/v2/alice/del/manifests/${a.digest}`)), 'MANIFEST_UNKNOWN')
  })
  it('DELETE a blob: 202, then BLOB_UNKNOWN', async () => {
    const d = await pushBlob('alice/delblob', randomBytes(10))
    assert.equal((await req('DELETE', `/v2/alice/delblob/blobs/${d}`)).status, 202)
    assert.equal((await req('GET', `/v2/alice/delblob/blobs/${d}`)).status, 404)
    assert.equal(codeOf(await req('DELETE', `/v2/alice/delblob/blobs/${d}`)), 'BLOB_UNKNOWN')
  })
  it('delete needs the delete right: an org member with push may not', async () => {
    const a = await pushImage('acme/keep', 'v1')
    const r = await req('DELETE', `/v2/acme/keep/manifests/${a.digest}`)
    assert.equal(r.status, 403)
    assert.equal(codeOf(r), 'DENIED')
    assert.equal((await req('DELETE', '/v2/acme/keep/manifests/v1', { auth: basic('carol') })).status, 202)
  })
})

describe('users and rights', () => {
  it('a push outside the own namespace is DENIED before any byte is stored', async () => {
    const before = (await readdir(join(dir, 'uploads'))).length
    const r = await req('POST', `/v2/bob/app/blobs/uploads/?digest=${sha256('x')}`, { body: 'x' })
    assert.equal(r.status, 403)
    assert.equal(codeOf(r), 'DENIED')
    assert.equal((await readdir(join(dir, 'uploads'))).length, before)
    assert.equal(codeOf(await req('PUT', '/v2/bob/app/manifests/v1', { body: '{}', headers: { 'content-type': OCI_MANIFEST } })), 'DENIED')
    assert.equal(codeOf(await req('POST', '/v2/acme/app/blobs/uploads/', { auth: basic('bob') })), 'DENIED')
  })
  it('org members push by role; pull-only members pull', async () => {
    await pushImage('acme/app', 'v1')
    assert.equal((await req('GET', '/v2/acme/app/manifests/v1', { auth: basic('bob') })).status, 200)
  })
  it('private namespaces: anonymous gets 401, other users DENIED; public namespaces anyone pulls', async () => {
    await pushImage('alice/pub', 'v1')
    const anon = await req('GET', '/v2/alice/pub/manifests/v1', { auth: null })
    assert.equal(anon.status, 401)
    assert.equal(anon.headers.get('www-authenticate'), `Bearer realm="http://127.0.0.1:${reg.port}/token",service="berth-registry",scope="repository:alice/pub:pull"`)
    assert.equal(codeOf(await req('GET', '/v2/alice/pub/manifests/v1', { auth: basic('bob') })), 'DENIED')
    await updateAccounts(accountsPath(dir), (a) => { a.public.push('alice') })
    await new Promise((r) => setTimeout(r, 250))
    assert.equal((await req('GET', '/v2/alice/pub/manifests/v1', { auth: null })).status, 200)
    assert.equal((await req('GET', '/v2/alice/pub/manifests/v1', { auth: basic('bob') })).status, 200)
    assert.equal(codeOf(await req('POST', '/v2/alice/pub/blobs/uploads/', { auth: basic('bob') })), 'DENIED')
    await updateAccounts(accountsPath(dir), (a) => { a.public = [] })
    await new Promise((r) => setTimeout(r, 250))
    assert.equal((await req('GET', '/v2/alice/pub/manifests/v1', { auth: null })).status, 401)
  })
  it('a removed user is refused at once', async () => {
    const hash = await hashPassword('pw2')
    await updateAccounts(accountsPath(dir), (a) => { a.users.dave = { password: hash, created: '' } })
    await new Promise((r) => setTimeout(r, 250))
    assert.equal((await req('GET', '/v2/', { auth: basic('dave', 'pw2') })).status, 200)
    await updateAccounts(accountsPath(dir), (a) => { delete a.users.dave })
    await new Promise((r) => setTimeout(r, 250))
    assert.equal((await req('GET', '/v2/', { auth: basic('dave', 'pw2') })).status, 401)
  })
})

describe('token server', () => {
  const getToken = async (scope: string[], auth: string | null = ALICE) => {
    const q = new URLSearchParams([['service', 'berth-registry'], ...scope.map((s) => ['scope', s] as [string, string])])
    return req('GET', `/token?${q}`, { auth })
  }
  const claims = (t: string) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString())
  it('grants only the actions the user holds', async () => {
    const r = await getToken(['repository:alice/app:pull,push', 'repository:bob/app:pull,push', 'repository:acme/app:push,pull,delete'])
    assert.equal(r.status, 200)
    const body = r.json()
    assert.equal(body.token, body.access_token)
    assert.ok(body.expires_in > 0)
    const c = claims(body.token)
    assert.equal(c.sub, 'alice')
    assert.equal(c.aud, 'berth-registry')
    assert.deepEqual(c.access, [
      { type: 'repository', name: 'alice/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'bob/app', actions: [] },
      { type: 'repository', name: 'acme/app', actions: ['push', 'pull'] },
    ])
    const h = JSON.parse(Buffer.from(body.token.split('.')[0], 'base64url').toString())
    assert.equal(h.alg, 'ES256')
  })
  it('wrong credentials get 401; anonymous gets an empty grant', async () => {
    assert.equal((await getToken([], basic('alice', 'bad'))).status, 401)
    const anon = await getToken(['repository:alice/app:pull'], null)
    assert.deepEqual(claims(anon.json().token).access, [{ type: 'repository', name: 'alice/app', actions: [] }])
  })
  it('a token works for its repository only; a forged or expired token is refused', async () => {
    const t = (await getToken(['repository:alice/app:pull'])).json().token as string
    const bearer = `Bearer ${t}`
    assert.equal((await req('GET', '/v2/', { auth: bearer })).status, 200)
    assert.equal((await req('GET', '/v2/alice/app/manifests/v1', { auth: bearer })).status, 200)
    const other = await req('GET', '/v2/alice/multi/manifests/amd64', { auth: bearer })
    assert.equal(other.status, 401)
    assert.match(other.headers.get('www-authenticate')!, /scope="repository:alice\/multi:pull",error="insufficient_scope"/)
    const push = await req('POST', '/v2/alice/app/blobs/uploads/', { auth: bearer })
    assert.equal(push.status, 401)
    const parts = t.split('.')
    const forged = `${parts[0]}.${Buffer.from(JSON.stringify({ ...claims(t), access: [{ type: 'repository', name: 'bob/secret', actions: ['pull'] }] })).toString('base64url')}.${parts[2]}`
    const f = await req('GET', '/v2/bob/secret/manifests/v1', { auth: `Bearer ${forged}` })
    assert.equal(f.status, 401)
    assert.match(f.headers.get('www-authenticate')!, /error="invalid_token"/)
    // An expired token: signed by the same key, exp in the past.
    const { TokenService } = await import('./token.js')
    const ts = new TokenService({ issuer: 'berth-registry', service: 'berth-registry', ttlSeconds: -60 })
    await ts.loadKey(join(dir, 'auth', 'token-key.pem'))
    const expired = (await ts.issue('alice', [{ type: 'repository', name: 'alice/app', actions: ['pull'] }])).token
    assert.equal((await req('GET', '/v2/alice/app/manifests/v1', { auth: `Bearer ${expired}` })).status, 401)
  })
})

describe('garbage collection', () => {
  it('deletes untagged manifests and unreferenced blobs, keeps what tags reach and uploads in progress', async () => {
    const kept = await pushImage('alice/gc', 'keep')
    const dropped = await pushImage('alice/gc', 'drop')
    await req('DELETE', '/v2/alice/gc/manifests/drop')
    const loose = await pushBlob('alice/gc', randomBytes(77))
    const up = (await req('POST', '/v2/alice/gc/blobs/uploads/')).headers.get('location')!
    await req('PATCH', up, { body: randomBytes(100) })
    const r = await collectGarbage(reg.storage, { graceMs: 0, uploadMaxAgeMs: 3_600_000 })
    const deleted = new Set(r.plan.blobs.map((b) => b.digest))
    assert.ok(deleted.has(dropped.digest) && deleted.has(sha256(dropped.layer)) && deleted.has(loose), r.plan.toString())
    assert.ok(!deleted.has(kept.digest) && !deleted.has(sha256(kept.layer)))
    assert.equal((await req('GET', '/v2/alice/gc/manifests/keep')).status, 200)
    assert.equal((await req('GET', `/v2/alice/gc/blobs/${sha256(kept.layer)}`)).status, 200)
    assert.equal((await req('GET', `/v2/alice/gc/manifests/${dropped.digest}`)).status, 404)
    assert.equal((await req('GET', `/v2/alice/gc/blobs/${loose}`)).status, 404)
    await assert.rejects(stat(reg.storage.blobPath(sha256(dropped.layer))))
    assert.equal((await req('GET', up)).headers.get('range'), '0-99', 'the upload in progress survives')
  })
  it('pushes during GC (grace 0) never leave a manifest pointing at a missing blob', async () => {
    let stop = false
    const accepted: Array<{ digest: string; blobs: string[] }> = []
    let refused = 0
    const pusher = (async () => {
      let i = 0
      while (!stop) {
        const config = randomBytes(64)
        const layer = randomBytes(512)
        await pushBlob('alice/busy', config)
        await pushBlob('alice/busy', layer)
        const m = imageManifest(config, [layer])
        const r = await req('PUT', `/v2/alice/busy/manifests/t${i++}`, { body: m, headers: { 'content-type': OCI_MANIFEST } })
        // With no grace period a blob may be collected before its manifest comes: refused, never dangling.
        if (r.status === 400 && codeOf(r) === 'MANIFEST_BLOB_UNKNOWN') refused++
        else {
          assert.equal(r.status, 201, r.body.toString())
          accepted.push({ digest: sha256(m), blobs: [sha256(config), sha256(layer)] })
        }
      }
    })()
    const deadline = Date.now() + 20_000
    for (let i = 0; i < 8 || (accepted.length < 5 && Date.now() < deadline); i++) await collectGarbage(reg.storage, { graceMs: 0, uploadMaxAgeMs: 3_600_000 })
    stop = true
    await pusher
    await collectGarbage(reg.storage, { graceMs: 0, uploadMaxAgeMs: 3_600_000 })
    assert.ok(accepted.length > 0, `accepted ${accepted.length}, refused ${refused}`)
    for (const p of accepted) {
      assert.equal((await req('GET', `/v2/alice/busy/manifests/${p.digest}`)).status, 200)
      for (const b of p.blobs) assert.equal((await req('HEAD', `/v2/alice/busy/blobs/${b}`)).status, 200, `blob ${b} of ${p.digest}`)
    }
  })
})

/**
 * The Engine API, route by route: one row per request with the status and body Docker gives,
 * then the archive endpoints, where a failed load must leave nothing behind.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import tarStream from 'tar-stream'
import { api, fixture, fixtureBytes, startDaemon, type DaemonHandle } from './harness.js'
import { listedIds, makeImageArchive, makeTar, rootSuite, settledSnapshot, sha256hex, snapshotStore, type StoreSnapshot } from './image-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any
type Res = Awaited<ReturnType<typeof api>>
/** [method, path, expected status, check of the JSON body (or of the whole response)] */
type Row = [string, string | (() => string), number, ((body: Json, res: Res) => void)?]

const q = (o: unknown) => encodeURIComponent(JSON.stringify(o))
const message = (m: string | RegExp | (() => string)) => (b: Json) => (m instanceof RegExp ? assert.match(b.message, m) : assert.equal(b.message, typeof m === 'function' ? m() : m))

/** Entries of a tar archive: name → bytes. */
async function untar(buf: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  const ex = tarStream.extract()
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = []
      for await (const c of e) chunks.push(c as Buffer)
      out.set(e.header.name, Buffer.concat(chunks))
    }
  })()
  ex.end(buf)
  await done
  return out
}

rootSuite('Engine API table', () => {
  let h: DaemonHandle
  let busyboxId = ''
  let helloId = ''
  let importedId = ''
  let chainOfImported = ''
  const t0 = (Date.now() / 1000).toFixed(3)

  before(async () => {
    h = await startDaemon()
    for (const name of ['busybox', 'hello-world'] as const) {
      const r = await api(h, 'POST', '/images/load?quiet=1', await fixtureBytes(name), { 'Content-Type': 'application/x-tar' })
      assert.equal(r.status, 200, r.body.toString())
    }
    busyboxId = ((await api(h, 'GET', '/images/busybox/json')).json() as Json).Id
    helloId = ((await api(h, 'GET', '/images/hello-world/json')).json() as Json).Id
  })
  after(async () => {
    await h?.cleanup()
  })

  const rows: Row[] = [
    // system
    ['GET', '/_ping', 200, (_b, r) => { assert.equal(r.body.toString(), 'OK'); assert.equal(r.headers['api-version'], '1.50') }],
    ['HEAD', '/_ping', 200, (_b, r) => { assert.equal(r.body.length, 0); assert.equal(r.headers['api-version'], '1.50'); assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8') }],
    ['GET', '/v1.50/_ping', 200],
    ['GET', '/v1.24/version', 200, (b) => { assert.equal(b.ApiVersion, '1.50'); assert.equal(b.MinAPIVersion, '1.24'); assert.equal(b.Os, 'linux') }],
    ['GET', '/v1.23/version', 400, message('client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version')],
    ['GET', '/v1.99/version', 400, message('client version 1.99 is too new. Maximum supported API version is 1.50')],
    ['GET', '/version', 200, (b) => { assert.equal(b.ApiVersion, '1.50'); assert.ok(Array.isArray(b.Components)); assert.equal(b.Components[0].Name, 'Engine') }],
    ['GET', '/info', 200, (b) => { assert.equal(b.Images, 2); assert.equal(b.Driver, 'overlay2'); assert.equal(b.DockerRootDir, h.dataRoot); assert.ok(Array.isArray(b.Labels)) }],
    ['GET', '/system/df', 200, (b) => { assert.equal(b.Images.length, 2); assert.ok(b.LayersSize > 0); assert.deepEqual(b.Containers, []); assert.deepEqual(b.Volumes, []); assert.deepEqual(b.BuildCache, []) }],
    ['GET', '/system/df?type=image', 200, (b) => { assert.deepEqual(Object.keys(b).sort(), ['Images', 'LayersSize']); assert.equal(b.Images[0].Containers, 0) }],
    ['GET', '/system/df?type=bogus', 400, message('unknown object type: bogus')],
    ['GET', () => `/events?since=${t0}&until=${(Date.now() / 1000).toFixed(3)}`, 200, (_b, r) => {
      const evs = r.body.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json)
      assert.deepEqual(evs.map((e) => e.Action), ['load', 'load'])
      assert.ok(evs.every((e) => e.Type === 'image' && typeof e.timeNano === 'number'))
    }],
    ['GET', () => `/events?since=${t0}&until=${(Date.now() / 1000).toFixed(3)}&filters=${q({ bogus: ['x'] })}`, 400, message("invalid filter 'bogus'")],

    // list
    ['GET', '/images/json', 200, (b) => { assert.equal(b.length, 2); assert.deepEqual(b.map((i: Json) => i.RepoTags[0]).sort(), ['busybox:latest', 'hello-world:latest']) }],
    ['GET', `/images/json?filters=${q({ reference: ['busy*'] })}`, 200, (b) => assert.deepEqual(b.map((i: Json) => i.RepoTags), [['busybox:latest']])],
    ['GET', `/images/json?filters=${q({ dangling: ['true'] })}`, 200, (b) => assert.deepEqual(b, [])],
    ['GET', `/images/json?filters=${q({ dangling: { false: true } })}`, 200, (b) => assert.equal(b.length, 2)],
    ['GET', `/images/json?filters=${q({ dangling: ['maybe'] })}`, 400, message("invalid filter 'dangling=[maybe]'")],
    ['GET', `/images/json?filters=${q({ foo: ['bar'] })}`, 400, message("invalid filter 'foo'")],
    ['GET', '/images/json?filters=%7Bnot-json', 400, message('invalid filter')],
    ['GET', `/images/json?filters=${q({ before: ['nope'] })}`, 404, message('No such image: nope:latest')],
    ['GET', '/v1.41/images/json', 200, (b) => assert.equal(b[0].VirtualSize, b[0].Size)],

    // inspect and history
    ['GET', '/images/busybox/json', 200, (b) => { assert.equal(b.Id, busyboxId); assert.deepEqual(b.Config.Cmd, ['sh']); assert.equal(b.GraphDriver.Name, 'overlay2'); assert.equal(b.RootFS.Layers.length, 1) }],
    ['GET', () => `/images/${busyboxId}/json`, 200, (b) => assert.equal(b.Id, busyboxId)],
    ['GET', () => `/images/${busyboxId.slice(7, 19)}/json`, 200, (b) => assert.equal(b.Id, busyboxId)],
    ['GET', '/images/nope/json', 404, message('No such image: nope:latest')],
    ['GET', '/images/Upper/Case/json', 400, message(/invalid reference format/)],
    ['GET', '/images/busybox/history', 200, (b) => { assert.equal(b.length, 2); assert.equal(b[0].Id, busyboxId); assert.deepEqual(b[0].Tags, ['busybox:latest']); assert.equal(b[1].Id, '<missing>') }],
    ['GET', '/images/nope/history', 404, message('No such image: nope:latest')],

    // tag, names with slashes and ports
    ['POST', '/images/busybox/tag?repo=localhost:5000/a/b&tag=t', 201, (_b, r) => assert.equal(r.body.length, 0)],
    ['GET', '/images/localhost:5000/a/b:t/json', 200, (b) => { assert.equal(b.Id, busyboxId); assert.ok(b.RepoTags.includes('localhost:5000/a/b:t')) }],
    ['GET', '/images/localhost:5000/a/b:t/history', 200, (b) => assert.deepEqual(b[0].Tags.sort(), ['busybox:latest', 'localhost:5000/a/b:t'])],
    ['GET', `/images/json?filters=${q({ reference: ['localhost:5000/a/*'] })}`, 200, (b) => assert.deepEqual(b.map((i: Json) => i.RepoTags), [['localhost:5000/a/b:t']])],
    ['POST', '/images/busybox/tag?repo=myrepo', 201],
    ['GET', '/images/myrepo:latest/json', 200, (b) => assert.equal(b.Id, busyboxId)],
    ['POST', '/images/busybox/tag?repo=x&tag=bad%20tag!', 400, message(/invalid tag format/)],
    ['POST', '/images/busybox/tag?repo=Bad', 400, message(/must be lowercase/)],
    ['POST', '/images/busybox/tag', 400, message(/repo/)],
    ['POST', '/images/nope/tag?repo=x', 404, message('No such image: nope:latest')],

    // delete
    ['DELETE', '/images/nope', 404, message('No such image: nope:latest')],
    ['DELETE', () => `/images/${busyboxId.slice(7, 19)}`, 409, message(() => `conflict: unable to delete ${busyboxId.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`)],
    ['DELETE', '/images/myrepo', 200, (b) => assert.deepEqual(b, [{ Untagged: 'myrepo:latest' }])],
    ['DELETE', '/images/localhost:5000/a/b:t', 200, (b) => assert.deepEqual(b, [{ Untagged: 'localhost:5000/a/b:t' }])],
    ['GET', '/images/localhost:5000/a/b:t/json', 404, message('No such image: localhost:5000/a/b:t')],

    // import
    // pull from a registry that is not there: Docker's 503 naming it
    ['POST', '/images/create?fromImage=127.0.0.1:1/x&tag=1', 503, message(/127\.0\.0\.1:1\/v2\/.*ECONNREFUSED/)],
    ['POST', '/images/create', 400],
    ['POST', `/images/create?fromSrc=-&changes=${encodeURIComponent('FOO bar')}`, 400, message('foo is not a valid change command')],

    // save
    ['GET', '/images/get?names=nope', 404, message('No such image: nope:latest')],
    ['GET', '/images/get?names=busybox&names=nope', 404, message('No such image: nope:latest')],
    ['GET', '/images/nope/get', 404, message('No such image: nope:latest')],

    // unknown routes
    ['GET', '/nothing/here', 404, message('page not found')],
    ['GET', '/v1.50/nothing', 404, message('page not found')],
    ['POST', '/containers/x/frobnicate', 404, message('page not found')],
  ]

  for (const [method, path, status, check] of rows) {
    const label = typeof path === 'string' ? path : path.toString().replace(/^\(\) => /, '')
    it(`${method} ${label} -> ${status}`, async () => {
      const p = typeof path === 'string' ? path : path()
      const body = method === 'POST' && p.startsWith('/images/create?fromSrc') ? await makeTar([{ name: 'f', data: 'x' }]) : undefined
      const res = await api(h, method, p, body)
      assert.equal(res.status, status, `${method} ${p}: ${res.body.toString()}`)
      assert.equal(res.headers['api-version'], '1.50')
      if (status >= 400) assert.equal(res.headers['content-type'], 'application/json')
      if (check) {
        const ct = String(res.headers['content-type'] ?? '')
        // A JSON stream (events) is several documents: the check reads res.body itself.
        const single = ct.startsWith('application/json') && res.body.length > 0 && !res.body.toString().trimEnd().includes('\n')
        check(single ? res.json() : undefined, res)
      }
    })
  }

  it('POST /images/create?fromSrc=- imports the body, with changes', async () => {
    const tar = await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/hello', data: 'hello\n' }])
    const res = await api(h, 'POST', `/images/create?fromSrc=-&repo=imp&tag=api&message=from%20the%20api&changes=${encodeURIComponent('CMD ["/bin/sh"]')}&changes=${encodeURIComponent('ENV A=b')}`, tar, { 'Content-Type': 'application/x-tar' })
    assert.equal(res.status, 200)
    const lines = res.body.toString().split('\r\n').filter(Boolean).map((l) => JSON.parse(l) as Json)
    assert.equal(lines.length, 1)
    importedId = lines[0].status
    assert.match(importedId, /^sha256:[a-f0-9]{64}$/)
    const inspect = (await api(h, 'GET', '/images/imp:api/json')).json() as Json
    assert.equal(inspect.Id, importedId)
    assert.deepEqual(inspect.Config.Cmd, ['/bin/sh'])
    assert.deepEqual(inspect.Config.Env, ['A=b'])
    assert.equal(inspect.Comment, 'from the api')
    assert.equal(inspect.Size, 6)
    chainOfImported = inspect.RootFS.Layers[0]
  })

  it('DELETE of the only tag untags and deletes the image and its layer', async () => {
    const res = await api(h, 'DELETE', '/images/imp:api')
    assert.equal(res.status, 200)
    assert.deepEqual(res.json(), [{ Untagged: 'imp:api' }, { Deleted: importedId }, { Deleted: chainOfImported }])
    assert.deepEqual((await snapshotStore(h.dataRoot)).layers.includes(chainOfImported.slice(7)), false)
  })

  it('POST /images/prune removes dangling images only', async () => {
    const r = await api(h, 'POST', '/images/create?fromSrc=-', await makeTar([{ name: 'dangling', data: 'd' }]))
    const dangling = (JSON.parse(r.body.toString().trim()) as Json).status as string
    const res = await api(h, 'POST', '/images/prune')
    assert.equal(res.status, 200)
    const b = res.json() as Json
    assert.deepEqual(b.ImagesDeleted.filter((i: Json) => i.Deleted === dangling).length, 1)
    assert.equal(b.SpaceReclaimed, 1)
    assert.deepEqual(await listedIds(h), [busyboxId, helloId].sort())
    const again = (await api(h, 'POST', '/images/prune')).json() as Json
    assert.deepEqual(again, { ImagesDeleted: null, SpaceReclaimed: 0 })
    assert.equal((await api(h, 'POST', `/images/prune?filters=${q({ bogus: ['1'] })}`)).status, 400)
  })

  it('GET /images/get?names=... and /images/{name}/get return docker archives', async () => {
    const res = await api(h, 'GET', '/images/get?names=busybox&names=hello-world')
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-type'], 'application/x-tar')
    const files = await untar(res.body)
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Json[]
    assert.deepEqual(manifest.map((m) => m.RepoTags).sort(), [['busybox:latest'], ['hello-world:latest']])
    assert.ok(files.has('index.json') && files.has('oci-layout'))
    for (const m of manifest) for (const l of [m.Config, ...m.Layers]) assert.ok(files.has(l), `${l} in archive`)
    const one = await api(h, 'GET', '/images/busybox/get')
    assert.equal(one.status, 200)
    const f1 = await untar(one.body)
    assert.deepEqual((JSON.parse(f1.get('manifest.json')!.toString()) as Json[]).map((m) => m.Config), [`blobs/sha256/${busyboxId.slice(7)}`])
    // The saved archive loads back (same IDs, nothing new).
    const back = await api(h, 'POST', '/images/load', res.body)
    assert.equal(back.status, 200)
    assert.deepEqual(await listedIds(h), [busyboxId, helloId].sort())
  })

  it('an early error on a request with a body leaves the keep-alive connection usable', async () => {
    // Regression: the unread rest of the body wedged the connection; the next request on it hung
    // until the keep-alive timeout reset it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const call = (method: string, path: string, body?: Buffer) => new Promise<{ status: number; text: string; port: unknown }>((resolve, reject) => {
      const req = request({ socketPath: h.socket, path, method, agent, timeout: 5000 }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), port: req.socket }))
      })
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)))
      req.on('error', reject)
      req.end(body)
    })
    try {
      for (const path of ['/images/load', '/v1.99/images/load', '/images/create?fromSrc=-&changes=FOO']) {
        const bad = await call('POST', path, randomBytes(3 << 20))
        // A load answers 200 with the error in the stream, as dockerd (the version check comes first).
        assert.equal(bad.status, path === '/images/load' ? 200 : 400, bad.text)
        if (path === '/images/load') assert.match(bad.text, /"errorDetail"/)
        const ping = await call('GET', '/_ping')
        assert.equal(ping.status, 200)
        assert.equal(ping.port, bad.port, 'the same connection carried the next request')
      }
    } finally {
      agent.destroy()
    }
  })

  it('a prune while a load streams in does not take the blobs the load has written', async () => {
    // Regression: GC deleted every blob no image referenced yet, including those of a load in progress;
    // the load then registered an image whose layer blob was gone and `save` failed.
    const layers = [0, 1, 2].map(async (i) => makeTar([{ name: `f${i}`, data: randomBytes(3 << 20) }]))
    const { archive, ids: [id] } = await makeImageArchive([{ layers: await Promise.all(layers), tag: 'race:prune' }])
    const base = (await snapshotStore(h.dataRoot)).blobs.length
    const loaded = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ socketPath: h.socket, path: '/images/load', method: 'POST', agent: false, headers: { 'Content-Length': String(archive.length) } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }))
      })
      req.on('error', reject)
      void (async () => {
        const cut = Math.floor(archive.length * 0.7)
        req.write(archive.subarray(0, cut))
        const deadline = Date.now() + 10_000
        while ((await snapshotStore(h.dataRoot)).blobs.length < base + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
        const pr = await api(h, 'POST', '/images/prune')
        assert.equal(pr.status, 200)
        req.end(archive.subarray(cut))
      })().catch(reject)
    })
    const res = await loaded
    assert.equal(res.status, 200, res.text)
    const saved = await api(h, 'GET', '/images/race:prune/get')
    assert.equal(saved.status, 200)
    const files = await untar(saved.body)
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Json[]
    assert.equal(manifest[0].Config, `blobs/sha256/${id!.slice(7)}`)
    for (const l of manifest[0].Layers as string[]) assert.equal(sha256hex(files.get(l) ?? Buffer.alloc(0)), l.slice('blobs/sha256/'.length), `${l} intact`)
    assert.equal((await api(h, 'DELETE', '/images/race:prune')).status, 200)
  })

  it('concurrent load, tag and rmi of one image never leave a tag on a deleted image', async () => {
    // Regression: a load (or tag) that found the image, then awaited, tagged it after an rmi had
    // deleted its record: the tag pointed at nothing and every lookup through it was a 500.
    const hello = await fixtureBytes('hello-world')
    const statuses = new Map<string, number>()
    const count = (k: string) => statuses.set(k, (statuses.get(k) ?? 0) + 1)
    const race = async (ms: number, workers: Array<() => Promise<void>>) => {
      const deadline = Date.now() + ms
      await Promise.all(workers.map(async (f) => { while (Date.now() < deadline) await f() }))
    }
    const load = async () => { count(`load ${(await api(h, 'POST', '/images/load', hello)).status}`) }
    const inspect = async (...names: string[]) => { for (const n of names) count(`inspect ${(await api(h, 'GET', `/images/${n}/json`)).status}`) }
    // 1. loads against rmi by name (the only tag: the image goes each time).
    const rmiByName = async () => { count(`rmi ${(await api(h, 'DELETE', '/images/hello-world')).status}`); await inspect('hello-world') }
    await race(1500, [load, load, load, load, rmiByName, rmiByName])
    // 2. tags against rmi -f by ID (all tags and the image go).
    const tag = async () => { count(`tag ${(await api(h, 'POST', '/images/hello-world/tag?repo=race/other&tag=x')).status}`) }
    const rmiById = async () => { count(`rmi ${(await api(h, 'DELETE', `/images/${helloId}?force=1`)).status}`); await inspect('hello-world', 'race/other:x') }
    await race(1500, [load, load, tag, tag, tag, rmiById, rmiById])
    const stats = JSON.stringify(Object.fromEntries(statuses))
    assert.deepEqual([...statuses.keys()].filter((k) => / 5\d\d$/.test(k)), [], stats)
    assert.ok((statuses.get('rmi 200') ?? 0) > 0 && (statuses.get('load 200') ?? 0) > 0 && (statuses.get('tag 201') ?? 0) > 0, `the race was exercised: ${stats}`)
    // Every tag listed resolves.
    for (const img of (await api(h, 'GET', '/images/json')).json() as Json[]) {
      for (const t of img.RepoTags as string[]) assert.equal((await api(h, 'GET', `/images/${t}/json`)).status, 200, t)
    }
    // Back to the state the table left.
    await api(h, 'DELETE', `/images/${helloId}?force=1`)
    assert.equal((await api(h, 'POST', '/images/load', hello)).status, 200)
    assert.deepEqual(await listedIds(h), [busyboxId, helloId].sort())
  })

  describe('POST /images/load failures leave nothing half-loaded', () => {
    let base: StoreSnapshot
    let ids: string[]

    before(async () => {
      base = await settledSnapshot(h.dataRoot)
      ids = await listedIds(h)
    })

    const assertUntouched = async () => {
      assert.deepEqual(await listedIds(h), ids, '/images/json unchanged')
      const now = await settledSnapshot(h.dataRoot)
      assert.deepEqual(now.layerTmp, [], 'no .berth-tmp-* in layers/')
      assert.deepEqual(now.ingest, [], 'content/ingest empty')
      assert.deepEqual(now.blobs, base.blobs, 'no new blobs')
      assert.deepEqual(now.layers, base.layers, 'no new layers')
      assert.deepEqual(now.records, base.records, 'no new image records')
    }

    const failures: Array<[string, () => Promise<Buffer>, RegExp]> = [
      ['random bytes', async () => randomBytes(200_000), /invalid tar header|unexpected EOF/],
      ['the first half of busybox.tar', async () => { const b = await readFile(await fixture('busybox')); return b.subarray(0, b.length >> 1) }, /unexpected EOF/],
      ['busybox.tar cut inside the manifest', async () => { const b = await readFile(await fixture('busybox')); return b.subarray(0, b.length - 2000) }, /unexpected EOF|not found/],
      ['an empty body', async () => Buffer.alloc(0), /unexpected EOF/],
      ['an archive without manifest.json', async () => makeTar([{ name: 'hello', data: 'x' }]), /manifest\.json/],
      ['a manifest naming a missing layer', async () => makeTar([{ name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', Layers: ['l.tar'] }]) }, { name: 'c.json', data: JSON.stringify({ rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] } }) }]), /l\.tar not found/],
      ['a second layer whose diff ID does not match', async () => {
        const l1 = await makeTar([{ name: 'one', data: 'first layer' }])
        const l2 = await makeTar([{ name: 'two', data: 'second layer' }])
        return (await makeImageArchive([{ layers: [l1, l2], tag: 'bad:diffid', diffIds: [`sha256:${sha256hex(l1)}`, `sha256:${'1'.repeat(64)}`] }])).archive
      }, /invalid diffID for layer 1/],
      ['a big second layer whose diff ID does not match', async () => {
        const l1 = await makeTar([{ name: 'one', data: randomBytes(1_500_000) }])
        const l2 = await makeTar([{ name: 'two', data: randomBytes(1_500_000) }])
        return (await makeImageArchive([{ layers: [l1, l2], tag: 'bad:bigdiffid', diffIds: [`sha256:${sha256hex(l1)}`, `sha256:${'2'.repeat(64)}`] }])).archive
      }, /invalid diffID for layer 1/],
    ]

    for (const [what, make, msg] of failures) {
      it(`${what} -> 200 with the error in the stream`, async () => {
        const res = await api(h, 'POST', '/images/load', await make(), { 'Content-Type': 'application/x-tar' })
        assert.equal(res.status, 200, res.body.toString())
        assert.match(streamedError(res.body), msg)
        await assertUntouched()
      })
    }

    it('a good image followed by a broken one: the good one stays, whole; nothing of the broken one', async () => {
      const good = await makeTar([{ name: 'good', data: 'good layer' }])
      const broken = (await makeTar([{ name: 'bad', data: 'x'.repeat(4000) }])).subarray(0, 1024)
      const { archive, ids: [goodId] } = await makeImageArchive([{ layers: [good], tag: 'good:1' }, { layers: [good, broken], tag: 'bad:1' }])
      const res = await api(h, 'POST', '/images/load', archive)
      assert.equal(res.status, 200, res.body.toString())
      assert.match(streamedError(res.body), /error loading layer|error extracting layer|unexpected EOF/)
      // As Docker: images before the failing one in the archive are loaded.
      assert.deepEqual(await listedIds(h), [...ids, goodId!].sort())
      assert.equal((await api(h, 'GET', '/images/bad:1/json')).status, 404)
      const now = await settledSnapshot(h.dataRoot)
      assert.deepEqual(now.layerTmp, [])
      assert.deepEqual(now.ingest, [])
      assert.deepEqual(now.layers, [...base.layers, sha256hex(good)].sort(), 'only the good layer was added')
      assert.deepEqual(now.blobs, [...base.blobs, goodId!.slice(7), sha256hex(good)].sort(), 'only the good image blobs were added')
      assert.equal((await api(h, 'DELETE', '/images/good:1')).status, 200)
      assert.deepEqual((await settledSnapshot(h.dataRoot)).blobs, base.blobs)
    })

    it('a valid archive still loads afterwards', async () => {
      const l1 = await makeTar([{ name: 'ok', data: 'fine' }])
      const { archive, ids: [id] } = await makeImageArchive([{ layers: [l1], tag: 'fine:1' }])
      const res = await api(h, 'POST', '/images/load', archive)
      assert.equal(res.status, 200)
      assert.deepEqual(res.body.toString().split('\r\n').filter(Boolean).map((l) => JSON.parse(l) as Json), [{ stream: 'Loaded image: fine:1\n' }])
      assert.equal(((await api(h, 'GET', '/images/fine:1/json')).json() as Json).Id, id)
    })
  })
})

/** The error a JSON stream ended with (`{"errorDetail":…,"error":…}`), or '' without one. */
function streamedError(body: Buffer): string {
  const last = body.toString().split(/\r?\n/).filter(Boolean).at(-1)
  const m = last ? (JSON.parse(last) as { error?: string; errorDetail?: { message?: string } }) : {}
  return m.errorDetail?.message ?? m.error ?? ''
}

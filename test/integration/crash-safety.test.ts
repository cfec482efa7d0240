/**
 * kill -9 berthd in the middle of load, import and rmi, restart it on the same data root, and
 * check that it comes back whole: only complete images are listed (each inspects and saves with
 * verified blobs), no temp files remain, the ingest dir is empty, the layer trash drains, no
 * layer or blob is left that no image uses, and the same load then succeeds.
 */
import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import tarStream from 'tar-stream'
import { chainIds } from '../../src/lib/digest.js'
import { api, docker, fixture, startDaemon, type DaemonHandle } from './harness.js'
import { findTmpEntries, listedIds, makeImageArchive, makeTar, dockerSuite, snapshotStore, waitFor } from './image-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

/** The busybox layer blob of the fixture archive. */
async function busyboxLayer(): Promise<Buffer> {
  const manifest: Array<{ Layers: string[] }> = []
  const files = new Map<string, Buffer>()
  const ex = tarStream.extract()
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = []
      for await (const c of e) chunks.push(c as Buffer)
      files.set(e.header.name, Buffer.concat(chunks))
    }
  })()
  ex.end(await readFile(await fixture('busybox')))
  await done
  manifest.push(...(JSON.parse(files.get('manifest.json')!.toString()) as Array<{ Layers: string[] }>))
  return files.get(manifest[0]!.Layers[0]!)!
}

/** Verify a saved archive: every blob's content hashes to its name; returns the manifest. */
async function verifySaved(path: string): Promise<Json[]> {
  const ex = tarStream.extract()
  const names = new Set<string>()
  let manifest: Json[] = []
  const done = (async () => {
    for await (const e of ex) {
      const hash = createHash('sha256')
      const chunks: Buffer[] = []
      for await (const c of e) {
        hash.update(c as Buffer)
        if (e.header.name === 'manifest.json') chunks.push(c as Buffer)
      }
      names.add(e.header.name)
      const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(e.header.name)
      if (m) assert.equal(hash.digest('hex'), m[1], `blob ${e.header.name} intact`)
      if (e.header.name === 'manifest.json') manifest = JSON.parse(Buffer.concat(chunks).toString()) as Json[]
    }
  })()
  createReadStream(path).pipe(ex)
  await done
  assert.ok(manifest.length > 0)
  for (const m of manifest) for (const f of [m.Config, ...m.Layers]) assert.ok(names.has(f), `${f} in the saved archive`)
  return manifest
}

dockerSuite('crash safety', () => {
  let h: DaemonHandle
  let bigPath = ''
  let big: Buffer
  let bigId = ''
  let importTar: Buffer

  before(async () => {
    h = await startDaemon()
    // busybox + three layers of a few MB of random files: big enough that loads stream for a while.
    const layers = [await busyboxLayer()]
    for (let i = 0; i < 3; i++) {
      layers.push(await makeTar([
        { name: `data${i}/`, type: 'directory' },
        { name: `data${i}/a.bin`, data: randomBytes(2 << 20) },
        { name: `data${i}/b.bin`, data: randomBytes(2 << 20) },
      ]))
    }
    const made = await makeImageArchive([{ layers, tag: 'crash/big:1' }])
    big = made.archive
    bigId = made.ids[0]!
    bigPath = join(h.root, 'big.tar')
    await writeFile(bigPath, big)
    importTar = await makeTar([{ name: 'big.bin', data: randomBytes(6 << 20) }, { name: 'small', data: 'x' }])
  })
  after(async () => {
    await h?.cleanup()
  })

  /** Send `body` to `path`, and kill -9 the daemon once `killWhen` says so (after the bytes written so far). */
  const sendAndKill = async (method: string, path: string, body: Buffer, killWhen: (written: number) => boolean | Promise<boolean>): Promise<void> => {
    const req = request({ socketPath: h.socket, path, method, headers: { 'Content-Type': 'application/x-tar', 'Content-Length': String(body.length) }, agent: false })
    req.on('error', () => {}) // the daemon dies under it
    req.on('response', (res) => res.resume())
    let written = 0
    let killed = false
    for (let off = 0; off < body.length && !killed; off += 256 << 10) {
      const chunk = body.subarray(off, off + (256 << 10))
      if (!req.write(chunk)) await new Promise<void>((r) => { req.once('drain', r); req.once('close', r) })
      written += chunk.length
      if (await killWhen(written)) { await h.kill(); killed = true }
    }
    if (!killed) {
      req.end()
      const deadline = Date.now() + 10_000
      while (!(await killWhen(written)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2))
      await h.kill()
    }
    req.destroy()
  }

  /** Restart on the same data root and check everything the daemon shows is whole. */
  const restartAndCheck = async (): Promise<string[]> => {
    await h.restart()
    const ids = await listedIds(h)
    for (const id of ids) {
      const inspect = await api(h, 'GET', `/images/${id}/json`)
      assert.equal(inspect.status, 200, `inspect ${id}: ${inspect.body.toString()}`)
      const out = join(h.root, `saved-${id.slice(7, 19)}.tar`)
      const r = await docker(h, 'save', '-o', out, id)
      assert.equal(r.code, 0, `docker save ${id}: ${r.stderr}`)
      const manifest = await verifySaved(out)
      assert.equal(manifest[0].Config, `blobs/sha256/${id.slice(7)}`)
    }
    await waitFor('layers/.trash to drain', async () => (await snapshotStore(h.dataRoot)).trash.length === 0)
    assert.deepEqual(await findTmpEntries(h.dataRoot), [], 'no .berth-tmp-* under the data root')
    const snap = await snapshotStore(h.dataRoot)
    assert.deepEqual(snap.ingest, [], 'content/ingest is empty')
    // Nothing is left that no image uses: layers at once, blobs once the background GC ran.
    const wantLayers = new Set<string>()
    const wantBlobs = new Set<string>()
    for (const id of ids) {
      const inspect = (await api(h, 'GET', `/images/${id}/json`)).json() as Json
      for (const c of chainIds(inspect.RootFS.Layers as string[])) wantLayers.add(c.slice(7))
      wantBlobs.add(id.slice(7))
    }
    assert.deepEqual(snap.layers, [...wantLayers].sort(), 'layer dirs are exactly the listed images\' layers')
    assert.equal(snap.records.length, ids.length, 'one record per listed image')
    await waitFor('unreferenced blobs to be collected', async () => {
      const blobs = (await snapshotStore(h.dataRoot)).blobs
      // configs + one layer blob per layer (shared ones once)
      return [...wantBlobs].every((b) => blobs.includes(b)) && blobs.length === wantBlobs.size + wantLayers.size
    })
    return ids
  }

  const loadBigAgain = async () => {
    const res = await api(h, 'POST', '/images/load', big)
    assert.equal(res.status, 200, res.body.toString())
    assert.deepEqual(await listedIds(h), [bigId])
    const out = join(h.root, 'again.tar')
    assert.equal((await docker(h, 'save', '-o', out, 'crash/big:1')).code, 0)
    await verifySaved(out)
  }

  for (const fraction of [0.05, 0.4, 0.8]) {
    it(`kill -9 after ${fraction * 100}% of a load body`, async () => {
      await sendAndKill('POST', '/images/load', big, (n) => n >= big.length * fraction)
      assert.deepEqual(await restartAndCheck(), [])
    })
  }

  it('kill -9 while a load registers its layers', async () => {
    const before = new Set((await snapshotStore(h.dataRoot)).layers)
    await sendAndKill('POST', '/images/load', big, async (n) => n >= big.length && (await snapshotStore(h.dataRoot)).layers.some((l) => !before.has(l)))
    const ids = await restartAndCheck()
    assert.ok(ids.length === 0 || (ids.length === 1 && ids[0] === bigId), `only the whole image or nothing: ${ids.join(',')}`)
    await loadBigAgain()
  })

  it('kill -9 during `docker load -i` (real CLI)', async () => {
    assert.equal((await api(h, 'DELETE', '/images/crash/big:1')).status, 200)
    await waitFor('layers/.trash to drain', async () => (await snapshotStore(h.dataRoot)).trash.length === 0)
    const cli = spawn('docker', ['load', '-i', bigPath], { env: { ...process.env, DOCKER_HOST: h.host }, stdio: 'ignore' })
    const exited = new Promise<number | null>((r) => cli.on('close', r))
    // As soon as a layer is being extracted.
    await waitFor('a layer staging dir', async () => (await snapshotStore(h.dataRoot)).layerTmp.length > 0 || cli.exitCode !== null, 15_000, 2)
    await h.kill()
    assert.notEqual(await exited, 0, 'the CLI reports the lost daemon')
    assert.deepEqual(await restartAndCheck(), [])
    await loadBigAgain()
  })

  for (const fraction of [0.3, 1]) {
    it(`kill -9 during an import (${fraction * 100}% of the body sent)`, async () => {
      const before = await listedIds(h)
      await sendAndKill('POST', '/images/create?fromSrc=-&repo=crash/imp&tag=1', importTar, (n) => n >= importTar.length * fraction)
      const ids = await restartAndCheck()
      assert.ok(ids.length === before.length || ids.length === before.length + 1, ids.join(','))
      assert.deepEqual(ids.filter((i) => before.includes(i)), before)
    })
  }

  for (const delayMs of [0, 2, 10]) {
    it(`kill -9 during rmi (after ${delayMs} ms)`, async () => {
      if (!(await listedIds(h)).includes(bigId)) await loadBigAgain()
      const req = request({ socketPath: h.socket, path: '/images/crash/big:1', method: 'DELETE', agent: false })
      req.on('error', () => {})
      req.on('response', (res) => res.resume())
      req.end()
      await new Promise((r) => setTimeout(r, delayMs))
      await h.kill()
      // Deleted or not (the kill may land before or after), what is listed is whole.
      await restartAndCheck()
      const again = await api(h, 'POST', '/images/load', big)
      assert.equal(again.status, 200, again.body.toString())
      assert.ok((await listedIds(h)).includes(bigId))
    })
  }

  it('kill -9 during rmi, as soon as the untag is on disk (before the record and layers go)', async () => {
    if (!(await listedIds(h)).includes(bigId)) await loadBigAgain()
    const refsFile = join(h.dataRoot, 'images', 'references.json')
    const req = request({ socketPath: h.socket, path: '/images/crash/big:1', method: 'DELETE', agent: false })
    req.on('error', () => {})
    req.on('response', (res) => res.resume())
    req.end()
    await waitFor('the untag to be persisted', async () => !(await readFile(refsFile, 'utf8')).includes('crash/big'), 5000, 1)
    await h.kill()
    const ids = await restartAndCheck()
    // Untagged for good; the image itself is gone, or still there whole (and dangling).
    assert.equal((await api(h, 'GET', '/images/crash/big:1/json')).status, 404)
    assert.ok(ids.length === 0 || (ids.length === 1 && ids[0] === bigId), ids.join(','))
    await api(h, 'DELETE', `/images/${bigId}`)
    await loadBigAgain()
  })

  it('no process of ours outlives the killed daemons', async () => {
    await waitFor('children of the killed daemons to exit', async () => {
      const r = await docker(h, 'version', '--format', '{{.Server.Version}}')
      if (r.code !== 0) return false
      const { execFile } = await import('node:child_process')
      const out = await new Promise<string>((resolve) => execFile('ps', ['-eo', 'pid,ppid,args'], (_e, so) => resolve(String(so))))
      return !out.split('\n').some((l) => l.includes(h.dataRoot) && /\btar\b/.test(l))
    })
  })
})

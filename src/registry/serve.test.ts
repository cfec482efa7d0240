/** The server around the protocol: config file, TLS, graceful shutdown, access log, kill -9. */
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { accountsPath, hashPassword, updateAccounts } from './accounts.js'
import { loadConfig } from './config.js'
import { startRegistry } from './serve.js'
import { streamLogger } from './server.js'
import { Storage, hashFile } from './storage.js'

const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0

it('the YAML config is read, flags override it, unknown keys and bad values are errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-registry-cfg-'))
  try {
    const f = join(dir, 'c.yml')
    await writeFile(f, `listen: 127.0.0.1:5999\nstorage:\n  root: ${dir}/data\nauth:\n  token:\n    issuer: me\n    expiration: 10m\ngc:\n  schedule: 30m\n  grace: 2h\nlog:\n  level: warn\n`)
    const c = await loadConfig({ configFile: f })
    assert.equal(c.listen, '127.0.0.1:5999')
    assert.equal(c.root, join(dir, 'data'))
    assert.equal(c.token.issuer, 'me')
    assert.equal(c.token.ttlSeconds, 600)
    assert.equal(c.gc.intervalMs, 1_800_000)
    assert.equal(c.gc.graceMs, 7_200_000)
    assert.equal(c.logLevel, 'warn')
    assert.equal((await loadConfig({ configFile: f, listen: '127.0.0.1:1', dataRoot: '/x' })).listen, '127.0.0.1:1')
    await writeFile(f, 'listen: 1\nbogus: 1\n')
    await assert.rejects(loadConfig({ configFile: f, dataRoot: dir }), /unknown key "bogus"/)
    await writeFile(f, 'tls:\n  certificate: /a\n')
    await assert.rejects(loadConfig({ configFile: f, dataRoot: dir }), /both certificate and key/)
    await writeFile(f, 'gc:\n  grace: soon\n')
    await assert.rejects(loadConfig({ configFile: f, dataRoot: dir }), /gc.grace: invalid duration/)
    await assert.rejects(loadConfig({}), /no data root/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

it('serves over TLS with the configured certificate, logs accesses with user, repository, action and bytes', async (t) => {
  if (!hasOpenssl) return t.skip('openssl is not installed')
  const dir = await mkdtemp(join(tmpdir(), 'berth-registry-tls-'))
  try {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
    assert.equal(r.status, 0, r.stderr.toString())
    await writeFile(join(dir, 'c.yml'), `tls:\n  certificate: ${dir}/cert.pem\n  key: ${dir}/key.pem\n`)
    const cfg = await loadConfig({ configFile: join(dir, 'c.yml'), dataRoot: join(dir, 'data'), listen: '127.0.0.1:0' })
    const hash = await hashPassword('pw')
    await updateAccounts(accountsPath(cfg.root), (a) => { a.users.alice = { password: hash, created: '' } })
    let log = ''
    const sink = new Writable({ write(c, _e, cb) { log += c.toString(); cb() } })
    const reg = await startRegistry(cfg, streamLogger('info', sink))
    const ca = await readFile(join(dir, 'cert.pem'))
    const get = (path: string, headers: Record<string, string> = {}, method = 'GET', body?: Buffer) => new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const q = request({ host: '127.0.0.1', port: reg.port, path, method, ca, headers: { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}`, ...headers } }, (res) => {
        let b = ''
        res.on('data', (c) => (b += c)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }))
      })
      q.on('error', reject)
      q.end(body)
    })
    const noAuth = await get('/v2/', { authorization: '' })
    assert.equal(noAuth.status, 401)
    assert.match(String(noAuth.headers['www-authenticate']), new RegExp(`realm="https://127\\.0\\.0\\.1:${reg.port}/token"`))
    assert.equal((await get('/v2/')).status, 200)
    const data = randomBytes(1234)
    const d = `sha256:${createHash('sha256').update(data).digest('hex')}`
    assert.equal((await get(`/v2/alice/tls/blobs/uploads/?digest=${d}`, { 'content-length': String(data.length) }, 'POST', data)).status, 201)
    assert.equal((await get(`/v2/alice/tls/blobs/${d}`)).status, 200)
    await reg.close()
    const lines = log.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const push = lines.find((l) => l.method === 'POST')!
    assert.equal(push.user, 'alice')
    assert.equal(push.repository, 'alice/tls')
    assert.equal(push.action, 'push')
    assert.equal(push.bytesIn, 1234)
    const pull = lines.find((l) => l.method === 'GET' && l.repository === 'alice/tls')!
    assert.equal(pull.action, 'pull')
    assert.equal(pull.bytesOut, 1234)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

it('kill -9 during pushes leaves no corrupt blob and no manifest pointing at a missing blob', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-registry-kill-'))
  const script = join(dir, 'run.mjs')
  const serveJs = new URL('./serve.js', import.meta.url).pathname
  const configJs = new URL('./config.js', import.meta.url).pathname
  try {
    const hash = await hashPassword('pw')
    await updateAccounts(accountsPath(join(dir, 'data')), (a) => { a.users.alice = { password: hash, created: '' } })
    await writeFile(script, `import { startRegistry } from ${JSON.stringify(serveJs)}\nimport { loadConfig } from ${JSON.stringify(configJs)}\nconst c = await loadConfig({ dataRoot: process.argv[2], listen: '127.0.0.1:0', logLevel: 'error' })\nconst r = await startRegistry(c)\nconsole.log(r.port)\n`)
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, [script, join(dir, 'data')], { stdio: ['ignore', 'pipe', 'inherit'] })
      const port = await new Promise<number>((resolve) => child.stdout!.once('data', (b: Buffer) => resolve(Number(b.toString().trim()))))
      const base = `http://127.0.0.1:${port}`
      const auth = { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` }
      let done = 0
      const pushing = (async () => {
        for (let i = 0; ; i++, done++) {
          const layer = randomBytes(256 * 1024)
          const cfg = randomBytes(100)
          const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`
          for (const b of [layer, cfg]) {
            const p = await fetch(`${base}/v2/alice/k/blobs/uploads/`, { method: 'POST', headers: auth })
            const loc = p.headers.get('location')!
            await fetch(`${base}${loc}`, { method: 'PATCH', headers: auth, body: b.subarray(0, 1000) })
            await fetch(`${base}${loc}?digest=${sha(b)}`, { method: 'PUT', headers: auth, body: b.subarray(1000) })
          }
          const m = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(cfg), size: cfg.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }] })
          await fetch(`${base}/v2/alice/k/manifests/r${round}-${i}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: m })
        }
      })().catch((err: unknown) => { if (process.env.DEBUG_KILL) console.error(err) })
      // Killed at a random moment once pushes are under way.
      for (const until = Date.now() + 30_000; done < 1 + round && Date.now() < until;) await new Promise((r) => setTimeout(r, 20))
      await new Promise((r) => setTimeout(r, Math.random() * 150))
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))
      await pushing
    }
    // Every blob file matches its name (the temp files of writes the kill cut short are swept when
    // the storage opens); every tag's manifest and its blobs are there.
    const s = new Storage(join(dir, 'data'))
    await s.init()
    for (const pre of await readdir(join(dir, 'data', 'blobs', 'sha256'))) {
      for (const hex of await readdir(join(dir, 'data', 'blobs', 'sha256', pre))) {
        assert.equal(await hashFile(join(dir, 'data', 'blobs', 'sha256', pre, hex), 'sha256'), `sha256:${hex}`)
      }
    }
    const tags = await s.listTags('alice/k')
    assert.ok(tags.length > 0, 'some pushes completed')
    for (const t of tags) {
      const m = await s.getManifest('alice/k', { tag: t })
      assert.ok(m, `manifest of ${t}`)
      const doc = JSON.parse(m.body.toString()) as { config: { digest: string }; layers: Array<{ digest: string }> }
      for (const d of [doc.config.digest, ...doc.layers.map((l) => l.digest)]) assert.ok((await s.statBlob('alice/k', d)) !== undefined, `${t}: ${d}`)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

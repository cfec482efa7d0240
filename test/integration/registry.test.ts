/**
 * Pull, push, login and search against a real registry (Debian's docker-registry, distribution
 * 2.8) on loopback, driven by the real docker CLI and by berth.
 */
import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tarStream from 'tar-stream'
import { BERTH, fixture, isRoot, runCmd, startDaemon, api, type DaemonHandle } from './harness.js'
import { dockerSuite, findTmpEntries, makeImageArchive, makeTar, settledSnapshot, waitFor } from './image-helpers.js'

const REGISTRY_BIN = '/usr/bin/docker-registry'
const hasRegistry = spawnSync(REGISTRY_BIN, ['--version'], { stdio: 'ignore' }).status === 0
const hasHtpasswd = spawnSync('htpasswd', ['-h'], { stdio: 'ignore' }).status !== null

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

interface Registry { port: number; host: string; dir: string; proc: ChildProcess; stop(): Promise<void> }

/** Start docker-registry on a loopback port with its own storage (and htpasswd auth when asked). */
async function startRegistry(auth?: { user: string; password: string }): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-it-registry-'))
  const port = await freePort()
  let authYaml = ''
  if (auth) {
    const r = spawnSync('htpasswd', ['-Bbn', auth.user, auth.password])
    await writeFile(join(dir, 'htpasswd'), r.stdout)
    authYaml = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${join(dir, 'htpasswd')}\n`
  }
  const cfg = `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${authYaml}`
  await writeFile(join(dir, 'config.yml'), cfg)
  const proc = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  proc.stderr!.on('data', (b: Buffer) => (log += b.toString()))
  const deadline = Date.now() + 15_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited: ${log}`)
    const ok = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/v2/' }, (res) => { res.resume(); resolve(true) })
      req.on('error', () => resolve(false))
      req.end()
    })
    if (ok) break
    if (Date.now() > deadline) throw new Error(`docker-registry did not start: ${log}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    port, host: `127.0.0.1:${port}`, dir, proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const done = new Promise((r) => proc.once('exit', r))
        proc.kill('SIGTERM')
        await done
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A TCP proxy to the registry that can cut every connection after `cutAfter` response bytes. */
interface Proxy { port: number; host: string; mode: { cutAfter?: number; cutOnce?: boolean; cuts: number; delayMs?: number }; close(): Promise<void> }

async function startProxy(target: number): Promise<Proxy> {
  const sockets = new Set<Socket>()
  const mode: Proxy['mode'] = { cuts: 0 }
  const server: Server = createServer((client) => {
    const up = connect(target, '127.0.0.1')
    sockets.add(client); sockets.add(up)
    let bytes = 0
    client.pipe(up)
    up.on('data', (c: Buffer) => {
      bytes += c.length
      if (mode.cutAfter !== undefined && bytes > mode.cutAfter && !(mode.cutOnce && mode.cuts > 0)) {
        mode.cuts++
        client.write(c.subarray(0, Math.max(0, c.length - (bytes - mode.cutAfter))))
        client.destroy()
        up.destroy()
        return
      }
      if (mode.delayMs) {
        up.pause()
        setTimeout(() => { client.write(c); up.resume() }, mode.delayMs)
        return
      }
      client.write(c)
    })
    up.on('end', () => client.end())
    const drop = () => { client.destroy(); up.destroy(); sockets.delete(client); sockets.delete(up) }
    client.on('error', drop); up.on('error', drop); client.on('close', drop); up.on('close', drop)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    port, host: `127.0.0.1:${port}`, mode,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise((r) => server.close(r))
    },
  }
}

/** The uncompressed busybox layer from the fixture, to build runnable multi-layer images. */
async function busyboxLayer(): Promise<Buffer> {
  const tar = await readFile(await fixture('busybox'))
  const ex = tarStream.extract()
  const files = new Map<string, Buffer>()
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = []
      for await (const c of e) chunks.push(c as Buffer)
      files.set(e.header.name, Buffer.concat(chunks))
    }
  })()
  ex.end(tar)
  await done
  const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Array<{ Layers: string[] }>
  return files.get(manifest[0]!.Layers[0]!)!
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`

dockerSuite('registry: pull, push, login, search', () => {
  let h: DaemonHandle
  let reg: Registry
  let authReg: Registry | undefined
  let proxy: Proxy
  let work: string
  let dockerConfig: string
  let multiId = ''
  let bigLayerDigest = ''

  const run = (cmd: 'docker' | 'berth', args: string[], opts: { input?: string; config?: string } = {}) =>
    cmd === 'docker'
      ? runCmd('docker', args, { host: h.host, env: { DOCKER_CONFIG: opts.config ?? dockerConfig }, ...(opts.input !== undefined ? { input: opts.input } : {}) })
      : runCmd(process.execPath, [BERTH, ...args], { host: h.host, env: { DOCKER_CONFIG: opts.config ?? dockerConfig }, ...(opts.input !== undefined ? { input: opts.input } : {}) })
  const ok = async (cmd: 'docker' | 'berth', ...args: string[]) => {
    const r = await run(cmd, args)
    assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}\n${r.stdout}`)
    return r.stdout
  }
  const imageId = async (ref: string) => (await ok('docker', 'image', 'inspect', '--format', '{{.Id}}', ref)).trim()
  const exists = async (ref: string) => (await run('docker', ['image', 'inspect', ref])).code === 0

  before(async () => {
    if (!hasRegistry) throw new Error(`${REGISTRY_BIN} is required: apt-get install -y docker-registry apache2-utils`)
    h = await startDaemon()
    work = join(h.root, 'work')
    dockerConfig = join(h.root, 'docker-config')
    await mkdir(work)
    await mkdir(dockerConfig)
    reg = await startRegistry()
    proxy = await startProxy(reg.port)
    // A runnable three-layer image: busybox, then two small layers.
    const base = await busyboxLayer()
    const l2 = await makeTar([{ name: 'hello.txt', data: 'hello from layer 2\n' }])
    const l3 = await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/berth-layer3', data: 'three\n' }])
    const { archive, ids } = await makeImageArchive([{ layers: [base, l2, l3], tag: 'it-multi:1', config: { config: { Cmd: ['cat', '/hello.txt'], Env: ['PATH=/bin'] } } }])
    multiId = ids[0]!
    await writeFile(join(work, 'multi.tar'), archive)
    await ok('docker', 'load', '-i', join(work, 'multi.tar'))
  })
  after(async () => {
    await h?.cleanup()
    await proxy?.close()
    await reg?.stop()
    await authReg?.stop()
  })

  it('docker push then docker pull of a multi-layer image: same ID, it runs', async () => {
    const name = `${reg.host}/it/multi:1`
    await ok('docker', 'tag', 'it-multi:1', name)
    const push = await ok('docker', 'push', name)
    assert.match(push, new RegExp(`The push refers to repository \\[${reg.host}/it/multi\\]`))
    assert.equal((push.match(/: Pushed$/gm) ?? []).length, 3, push)
    assert.match(push, /^1: digest: sha256:[a-f0-9]{64} size: \d+$/m)
    await ok('docker', 'rmi', name, 'it-multi:1')
    assert.equal(await exists(name), false)
    const pull = await ok('docker', 'pull', name)
    assert.match(pull, /^1: Pulling from it\/multi$/m)
    assert.equal((pull.match(/: Pull complete$/gm) ?? []).length, 3, pull)
    assert.match(pull, /^Digest: sha256:[a-f0-9]{64}$/m)
    assert.match(pull, new RegExp(`^Status: Downloaded newer image for ${reg.host}/it/multi:1$`, 'm'))
    assert.equal(await imageId(name), multiId)
    const digests = await ok('docker', 'image', 'inspect', '--format', '{{json .RepoDigests}}', name)
    assert.match(digests, new RegExp(`${reg.host}/it/multi@sha256:[a-f0-9]{64}`))
    if (isRoot) assert.equal(await ok('docker', 'run', '--rm', name), 'hello from layer 2\n')
  })

  it('pulling again says the image is up to date', async () => {
    const pull = await ok('docker', 'pull', `${reg.host}/it/multi:1`)
    assert.match(pull, new RegExp(`^Status: Image is up to date for ${reg.host}/it/multi:1$`, 'm'))
    assert.doesNotMatch(pull, /Pull complete/)
    // berth prints what docker prints.
    assert.equal(await ok('berth', 'pull', `${reg.host}/it/multi:1`), pull)
    assert.equal(await ok('berth', 'pull', '-q', `${reg.host}/it/multi:1`), await ok('docker', 'pull', '-q', `${reg.host}/it/multi:1`))
  })

  it('layers present locally are not downloaded again', async () => {
    const base = await busyboxLayer()
    const l2 = await makeTar([{ name: 'hello.txt', data: 'hello from layer 2\n' }])
    const l3b = await makeTar([{ name: 'other.txt', data: 'a different top layer\n' }])
    const { archive, ids } = await makeImageArchive([{ layers: [base, l2, l3b], tag: `${reg.host}/it/sibling:1`, config: { config: { Cmd: ['cat', '/other.txt'], Env: ['PATH=/bin'] } } }])
    await writeFile(join(work, 'sibling.tar'), archive)
    await ok('docker', 'load', '-i', join(work, 'sibling.tar'))
    await ok('docker', 'push', `${reg.host}/it/sibling:1`)
    await ok('docker', 'rmi', `${reg.host}/it/sibling:1`)
    const pull = await ok('docker', 'pull', `${reg.host}/it/sibling:1`)
    assert.equal((pull.match(/: Already exists$/gm) ?? []).length, 2, pull)
    assert.equal((pull.match(/: Pull complete$/gm) ?? []).length, 1, pull)
    assert.equal(await imageId(`${reg.host}/it/sibling:1`), ids[0])
    if (isRoot) assert.equal(await ok('docker', 'run', '--rm', `${reg.host}/it/sibling:1`), 'a different top layer\n')
    await ok('docker', 'rmi', `${reg.host}/it/sibling:1`)
  })

  it('berth push (layers already exist, cross-repo mount) and berth pull give back the same image', async () => {
    const name = `${reg.host}/it/other:2`
    await ok('berth', 'tag', `${reg.host}/it/multi:1`, name)
    const push = await ok('berth', 'push', name)
    assert.match(push, new RegExp(`The push refers to repository \\[${reg.host}/it/other\\]`))
    // The layers came from it/multi on the same registry: mounted, not uploaded again.
    assert.equal((push.match(/: Mounted from it\/(multi|sibling)$/gm) ?? []).length, 3, push)
    assert.match(push, /^2: digest: sha256:[a-f0-9]{64} size: \d+$/m)
    const again = await ok('berth', 'push', name)
    assert.equal((again.match(/: Layer already exists$/gm) ?? []).length, 3, again)
    await ok('berth', 'rmi', name, `${reg.host}/it/multi:1`)
    assert.equal(await exists(name), false)
    const pull = await ok('berth', 'pull', name)
    assert.match(pull, /^2: Pulling from it\/other$/m)
    assert.match(pull, new RegExp(`^Status: Downloaded newer image for ${reg.host}/it/other:2$`, 'm'))
    assert.match(pull, new RegExp(`^${reg.host}/it/other:2$`, 'm'))
    assert.equal(await imageId(name), multiId)
    if (isRoot) assert.equal(await ok('berth', 'run', '--rm', name), 'hello from layer 2\n')
  })

  it('pull by digest records the repo digest', async () => {
    const d = (await ok('docker', 'image', 'inspect', '--format', '{{index .RepoDigests 0}}', `${reg.host}/it/other:2`)).trim()
    await ok('docker', 'rmi', `${reg.host}/it/other:2`)
    const pull = await ok('docker', 'pull', d)
    assert.match(pull, new RegExp(`^Digest: ${d.split('@')[1]}$`, 'm'))
    assert.equal(await imageId(d), multiId)
    await ok('docker', 'rmi', d)
  })

  it('missing tags and repositories fail with docker\'s words and status', async () => {
    const r = await run('docker', ['pull', `${reg.host}/it/multi:nope`])
    assert.equal(r.code, 1)
    assert.match(r.stderr, new RegExp(`Error response from daemon: manifest for ${reg.host}/it/multi:nope not found: manifest unknown: manifest unknown`))
    const r2 = await api(h, 'POST', `/images/create?fromImage=${reg.host}/it/nothing&tag=1`)
    assert.equal(r2.status, 404, r2.body.toString())
    // distribution 2.8 answers MANIFEST_UNKNOWN for a repository it never saw, as dockerd then reports.
    assert.match(r2.body.toString(), new RegExp(`manifest for ${reg.host}/it/nothing:1 not found: manifest unknown`))
  })

  it('a manifest list: the daemon platform by default, --platform picks the other', async () => {
    const base = await makeTar([{ name: 'arch.txt', data: 'amd64\n' }])
    const arm = await makeTar([{ name: 'arch.txt', data: 'arm64\n' }])
    const { archive, ids } = await makeImageArchive([
      { layers: [base], tag: `${reg.host}/it/plat:amd64`, config: { architecture: 'amd64' } },
      { layers: [arm], tag: `${reg.host}/it/plat:arm64`, config: { architecture: 'arm64', variant: 'v8' } },
    ])
    await writeFile(join(work, 'plat.tar'), archive)
    await ok('docker', 'load', '-i', join(work, 'plat.tar'))
    const manifests: Array<{ mediaType: string; digest: string; size: number; platform: object }> = []
    for (const [tag, platform] of [['amd64', { architecture: 'amd64', os: 'linux' }], ['arm64', { architecture: 'arm64', os: 'linux', variant: 'v8' }]] as const) {
      const out = await ok('berth', 'push', `${reg.host}/it/plat:${tag}`)
      const m = /digest: (sha256:[a-f0-9]{64}) size: (\d+)/.exec(out)!
      manifests.push({ mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: m[1]!, size: Number(m[2]), platform })
    }
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests }))
    const put = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: reg.port, method: 'PUT', path: '/v2/it/plat/manifests/multi', headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.list.v2+json', 'Content-Length': index.length } }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
      req.on('error', reject)
      req.end(index)
    })
    assert.equal(put, 201)
    await ok('docker', 'rmi', `${reg.host}/it/plat:amd64`, `${reg.host}/it/plat:arm64`)
    await ok('docker', 'pull', `${reg.host}/it/plat:multi`)
    assert.equal(await imageId(`${reg.host}/it/plat:multi`), ids[0])
    const rd = await ok('docker', 'image', 'inspect', '--format', '{{json .RepoDigests}}', `${reg.host}/it/plat:multi`)
    assert.ok(rd.includes(`${reg.host}/it/plat@${sha(index)}`), rd)
    await ok('docker', 'pull', '--platform', 'linux/arm64', `${reg.host}/it/plat:multi`)
    assert.equal(await imageId(`${reg.host}/it/plat:multi`), ids[1])
    const bad = await run('docker', ['pull', '--platform', 'linux/s390x', `${reg.host}/it/plat:multi`])
    assert.notEqual(bad.code, 0)
    assert.match(bad.stderr, /no matching manifest for linux\/s390x in the manifest list entries/)
    // pull -a: every tag of the repository.
    const all = await ok('berth', 'pull', '-a', `${reg.host}/it/plat`)
    assert.match(all, new RegExp(`^${reg.host}/it/plat$`, 'm'))
    assert.ok(await exists(`${reg.host}/it/plat:amd64`))
    assert.ok(await exists(`${reg.host}/it/plat:arm64`))
  })

  it('a connection dropped midway: resumed once, and when it keeps dropping a clean error and nothing stored', async () => {
    // A layer of 2 MB of random bytes (incompressible, so the blob is big).
    const big = await makeTar([{ name: 'big.bin', data: randomBytes(2 << 20) }])
    const { archive } = await makeImageArchive([{ layers: [big], tag: `${reg.host}/it/big:1` }])
    await writeFile(join(work, 'big.tar'), archive)
    await ok('docker', 'load', '-i', join(work, 'big.tar'))
    await ok('docker', 'push', `${reg.host}/it/big:1`)
    // The blob the registry holds is the gzip made for the push.
    const manifest = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: reg.port, path: '/v2/it/big/manifests/1', headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } }, (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => resolve(b)) })
      req.on('error', reject)
      req.end()
    })
    bigLayerDigest = (JSON.parse(manifest) as { layers: Array<{ digest: string }> }).layers[0]!.digest
    await ok('docker', 'rmi', `${reg.host}/it/big:1`)
    const before = await settledSnapshot(h.dataRoot)
    const viaProxy = `${proxy.host}/it/big:1`
    proxy.mode.cutAfter = 256 << 10
    proxy.mode.cutOnce = false
    const r = await run('docker', ['pull', viaProxy])
    assert.equal(r.code, 1, r.stdout)
    assert.match(r.stderr + r.stdout, /unexpected EOF|socket hang up|failed to download|ECONNRESET/)
    assert.ok(proxy.mode.cuts >= 2, `cuts: ${proxy.mode.cuts}`)
    assert.equal(await exists(viaProxy), false)
    const afterFail = await settledSnapshot(h.dataRoot)
    assert.deepEqual(afterFail.layers, before.layers)
    assert.deepEqual(afterFail.blobs, before.blobs)
    assert.deepEqual(afterFail.records, before.records)
    assert.deepEqual(await findTmpEntries(h.dataRoot), [])
    // Dropped once: the download resumes where it stopped.
    proxy.mode.cuts = 0
    proxy.mode.cutOnce = true
    const ok1 = await run('docker', ['pull', viaProxy])
    assert.equal(ok1.code, 0, ok1.stderr)
    assert.equal(proxy.mode.cuts, 1)
    assert.ok(await exists(viaProxy))
    proxy.mode.cutAfter = undefined
  })

  it('a pull whose client goes away is cancelled and leaves nothing behind', async () => {
    await ok('docker', 'rmi', `${proxy.host}/it/big:1`)
    const before = await settledSnapshot(h.dataRoot)
    proxy.mode.delayMs = 40
    try {
      const sawDownloading = await new Promise<boolean>((resolve, reject) => {
        const req = request({ socketPath: h.socket, method: 'POST', path: `/images/create?fromImage=${proxy.host}/it/big&tag=1` }, (res) => {
          let text = ''
          res.on('data', (c: Buffer) => {
            text += c.toString()
            if (text.includes('"Downloading"')) { req.destroy(); resolve(true) }
          })
          res.on('end', () => resolve(false))
          res.on('error', () => {})
        })
        req.on('error', (e) => { if (!req.destroyed) reject(e) })
        req.end()
      })
      assert.ok(sawDownloading, 'the pull finished before it could be cancelled')
      await waitFor('the cancelled pull to clean up', async () => {
        const now = await settledSnapshot(h.dataRoot)
        return (await findTmpEntries(h.dataRoot)).length === 0 && now.blobs.join() === before.blobs.join() && now.layers.join() === before.layers.join() && now.ingest.length === 0
      }, 20_000, 200)
      assert.equal(await exists(`${proxy.host}/it/big:1`), false)
    } finally {
      proxy.mode.delayMs = undefined
    }
  })

  it('a blob whose content does not match its digest is rejected and nothing is stored', async () => {
    assert.ok(bigLayerDigest)
    // Corrupt one byte of the layer blob in the registry's storage.
    const hex = bigLayerDigest.slice(7)
    const p = join(reg.dir, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data')
    const data = await readFile(p)
    data[data.length - 2048] = data[data.length - 2048]! ^ 0xff
    await writeFile(p, data)
    const before = await settledSnapshot(h.dataRoot)
    const r = await run('docker', ['pull', `${reg.host}/it/big:1`])
    assert.equal(r.code, 1)
    assert.match(r.stderr + r.stdout, new RegExp(`filesystem layer verification failed for digest ${bigLayerDigest}`))
    assert.equal(await exists(`${reg.host}/it/big:1`), false)
    const afterFail = await settledSnapshot(h.dataRoot)
    assert.deepEqual(afterFail.layers, before.layers)
    assert.deepEqual(afterFail.blobs, before.blobs)
    assert.deepEqual(await findTmpEntries(h.dataRoot), [])
  })

  it('login with htpasswd: a wrong password writes nothing, the right one writes config.json as docker does', async (t) => {
    if (!hasHtpasswd) { t.skip('htpasswd not installed'); return }
    authReg = await startRegistry({ user: 'alice', password: 's3cret' })
    const texts: Record<string, string[]> = { docker: [], berth: [] }
    for (const cli of ['docker', 'berth'] as const) {
      const cfg = await mkdtemp(join(h.root, `cfg-${cli}-`))
      const bad = await run(cli, ['login', '-u', 'alice', '--password-stdin', authReg.host], { input: 'wrong\n', config: cfg })
      assert.equal(bad.code, 1, `${cli}: ${bad.stdout}`)
      assert.match(bad.stderr, /unauthorized: incorrect username or password/)
      await assert.rejects(stat(join(cfg, 'config.json')), `${cli} wrote config.json after a failed login`)
      const good = await run(cli, ['login', '-u', 'alice', '--password-stdin', authReg.host], { input: 's3cret\n', config: cfg })
      assert.equal(good.code, 0, `${cli}: ${good.stderr}`)
      assert.match(good.stdout, /Login Succeeded/)
      const written = JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> }
      assert.deepEqual(written.auths, { [authReg.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } })
      texts[cli]!.push(await readFile(join(cfg, 'config.json'), 'utf8'))
      assert.equal((await stat(join(cfg, 'config.json'))).mode & 0o777, 0o600)
      // Credentials are used for push and pull; anonymous pull is refused in docker's words.
      const name = `${authReg.host}/it/secret:${cli}`
      await ok('docker', 'tag', `${reg.host}/it/plat:amd64`, name)
      const push = await run(cli, ['push', name], { config: cfg })
      assert.equal(push.code, 0, `${cli} push: ${push.stderr}`)
      await ok('docker', 'rmi', name)
      const anon = await run(cli, ['pull', name], { config: await mkdtemp(join(h.root, 'anon-')) })
      assert.equal(anon.code, 1)
      assert.match(anon.stderr, new RegExp(`pull access denied for ${authReg.host}/it/secret, repository does not exist or may require 'docker login'`))
      const pull = await run(cli, ['pull', name], { config: cfg })
      assert.equal(pull.code, 0, `${cli} pull: ${pull.stderr}`)
      const out = await run(cli, ['logout', authReg.host], { config: cfg })
      assert.match(out.stdout, new RegExp(`Removing login credentials for ${authReg.host}`))
      const after = JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8')) as { auths: Record<string, unknown> }
      assert.deepEqual(after.auths, {})
      texts[cli]!.push(await readFile(join(cfg, 'config.json'), 'utf8'))
    }
    // Byte for byte the file docker writes, after login and after logout.
    assert.deepEqual(texts.berth, texts.docker)
  })

  it('a credential helper (credsStore) stores and gives back the credentials, as with docker', async (t) => {
    if (!authReg) { t.skip('needs the htpasswd registry'); return }
    const bin = await mkdtemp(join(h.root, 'helper-'))
    const helper = join(bin, 'docker-credential-berthtest')
    await writeFile(helper, `#!/bin/sh
d="${bin}/store"; mkdir -p "$d"
case "$1" in
  store) in=$(cat); url=$(printf '%s' "$in" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p'); printf '%s' "$in" > "$d/$(printf '%s' "$url" | tr '/:' '__')" ;;
  get) read url; f="$d/$(printf '%s' "$url" | tr '/:' '__')"; if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) read url; rm -f "$d/$(printf '%s' "$url" | tr '/:' '__')" ;;
esac
`, { mode: 0o755 })
    const env = { PATH: `${bin}:${process.env.PATH}` }
    const configs: Record<string, string> = {}
    for (const cli of ['docker', 'berth'] as const) {
      const cfg = await mkdtemp(join(h.root, `helper-cfg-${cli}-`))
      await writeFile(join(cfg, 'config.json'), JSON.stringify({ credsStore: 'berthtest' }))
      const args: string[] = ['login', '-u', 'alice', '--password-stdin', authReg.host]
      const r: { code: number; stdout: string; stderr: string } = cli === 'docker'
        ? await runCmd('docker', args, { host: h.host, env: { ...env, DOCKER_CONFIG: cfg }, input: 's3cret\n' })
        : await runCmd(process.execPath, [BERTH, ...args], { host: h.host, env: { ...env, DOCKER_CONFIG: cfg }, input: 's3cret\n' })
      assert.equal(r.code, 0, `${cli}: ${r.stderr}`)
      configs[cli] = await readFile(join(cfg, 'config.json'), 'utf8')
      const stored = JSON.parse(await readFile(join(bin, 'store', authReg.host.replace(/[/:]/g, '_')), 'utf8')) as Record<string, string>
      assert.deepEqual(stored, { ServerURL: authReg.host, Username: 'alice', Secret: 's3cret' })
      if (cli === 'berth') {
        const name = `${authReg.host}/it/secret:berth`
        const pull = await runCmd(process.execPath, [BERTH, 'pull', name], { host: h.host, env: { ...env, DOCKER_CONFIG: cfg } })
        assert.equal(pull.code, 0, pull.stderr)
      }
    }
    // The same file as docker writes (an empty auths entry; the secret is in the helper).
    assert.deepEqual(JSON.parse(configs.berth!), JSON.parse(configs.docker!))
  })

  it('search lists the registry catalog; distribution inspect gives the descriptor', async () => {
    const out = await ok('berth', 'search', `${reg.host}/it/`)
    assert.match(out, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL$/m)
    assert.match(out, new RegExp(`^${reg.host}/it/multi\\s`, 'm'))
    assert.equal(out, await ok('docker', 'search', `${reg.host}/it/`))
    assert.equal(await ok('berth', 'search', '--no-trunc', '--filter', 'is-official=false', `${reg.host}/it/m`), await ok('docker', 'search', '--no-trunc', '--filter', 'is-official=false', `${reg.host}/it/m`))
    const d = await ok('docker', 'search', '--format', '{{.Name}}', '--limit', '2', `${reg.host}/it/`)
    assert.equal(d.trim().split('\n').length, 2, d)
    const r = await api(h, 'GET', `/distribution/${reg.host}/it/plat:multi/json`)
    assert.equal(r.status, 200, r.body.toString())
    const j = r.json() as { Descriptor: { mediaType: string; digest: string }; Platforms: Array<{ architecture: string }> }
    assert.equal(j.Descriptor.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json')
    assert.deepEqual(j.Platforms.map((p) => p.architecture).sort(), ['amd64', 'arm64'])
  })

  it('registry-mirrors: a Docker Hub name is pulled from the mirror', async () => {
    const layer = await makeTar([{ name: 'mirrored.txt', data: 'from the mirror\n' }])
    const { archive, ids } = await makeImageArchive([{ layers: [layer], tag: `${reg.host}/library/berth-mirrored:1` }])
    await writeFile(join(work, 'mirrored.tar'), archive)
    await ok('docker', 'load', '-i', join(work, 'mirrored.tar'))
    await ok('docker', 'push', `${reg.host}/library/berth-mirrored:1`)
    const h2 = await startDaemon(['--registry-mirror', `http://${reg.host}`, '--max-concurrent-downloads', '1'])
    try {
      const r = await runCmd('docker', ['pull', 'berth-mirrored:1'], { host: h2.host, env: { DOCKER_CONFIG: dockerConfig } })
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^1: Pulling from library\/berth-mirrored$/m)
      assert.match(r.stdout, /^Status: Downloaded newer image for berth-mirrored:1$/m)
      const id = await runCmd('docker', ['image', 'inspect', '--format', '{{.Id}} {{index .RepoDigests 0}}', 'berth-mirrored:1'], { host: h2.host, env: { DOCKER_CONFIG: dockerConfig } })
      assert.match(id.stdout, new RegExp(`^${ids[0]} berth-mirrored@sha256:[a-f0-9]{64}$`, 'm'))
      // One download at a time: the other layers wait, and are still published in order.
      const seq = await runCmd('docker', ['pull', `${reg.host}/it/other:2`], { host: h2.host, env: { DOCKER_CONFIG: dockerConfig } })
      assert.equal(seq.code, 0, seq.stderr)
      assert.equal((seq.stdout.match(/: Waiting$/gm) ?? []).length, 2, seq.stdout)
      assert.equal((seq.stdout.match(/: Pull complete$/gm) ?? []).length, 3, seq.stdout)
      // dockerd's validation of the key.
      const bad = await startDaemon(['--registry-mirror', 'http://mirror.example/path']).then(async (x) => { await x.cleanup(); return undefined }, (e: Error) => e)
      assert.match(String(bad?.message), /invalid mirror: path, query, or fragment at end of the URI/)
    } finally {
      await h2.cleanup()
    }
  })

  it('push -a pushes every tag of the repository', async () => {
    const out = await ok('docker', 'push', '-a', `${reg.host}/it/plat`)
    assert.match(out, /^amd64: digest: sha256:[a-f0-9]{64} size: \d+$/m)
    assert.match(out, /^arm64: digest: sha256:[a-f0-9]{64} size: \d+$/m)
    assert.match(out, /^multi: digest: sha256:[a-f0-9]{64} size: \d+$/m)
    const missing = await run('berth', ['push', `${reg.host}/it/never:1`])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, new RegExp(`An image does not exist locally with the tag: ${reg.host}/it/never`))
  })

  it('leaves no temporary files behind', async () => {
    assert.deepEqual(await findTmpEntries(h.dataRoot), [])
    void readdir
  })
})

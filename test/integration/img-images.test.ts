/**
 * Issue 12, images: RepoDigests and `images --digests` after a pull from a real registry,
 * `images -f dangling=true` without the classic builder's intermediates, `POST /images/load`
 * errors in the stream (docker-py's ImageLoadError, the CLI's exit 1), and pre-1.10 archives
 * (a `repositories` file and v1 layer directories) loaded as Docker loads them.
 */
import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tarStream from 'tar-stream'
import { api, fixture, isRoot, runCmd, startDaemon, type DaemonHandle } from './harness.js'
import { dockerSuite, makeTar, sha256hex } from './image-helpers.js'
import { forceCleanup } from './container-helpers.js'

const REGISTRY_BIN = '/usr/bin/docker-registry'
const hasRegistry = spawnSync(REGISTRY_BIN, ['--version'], { stdio: 'ignore' }).status === 0
const hasDockerPy = spawnSync('python3', ['-c', 'import docker'], { stdio: 'ignore' }).status === 0

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

/** Debian's docker-registry on a loopback port with its own storage. */
async function startRegistry(): Promise<{ host: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-img-registry-'))
  const port = await freePort()
  const cfg = `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`
  await writeFile(join(dir, 'config.yml'), cfg)
  const proc: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: 'ignore' })
  const deadline = Date.now() + 15_000
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/v2/' }, (res) => { res.resume(); resolve(true) })
      req.on('error', () => resolve(false))
      req.end()
    })
    if (up) break
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error('docker-registry did not start')
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    host: `127.0.0.1:${port}`,
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

/** The first layer tar of the busybox fixture (a docker save archive). */
async function busyboxLayer(): Promise<Buffer> {
  const files = new Map<string, Buffer>()
  const ex = tarStream.extract()
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = []
      for await (const c of e) chunks.push(c as Buffer)
      files.set(e.header.name.replace(/^\.\//, ''), Buffer.concat(chunks))
    }
  })()
  ex.end(await readFile(await fixture('busybox')))
  await done
  const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Array<{ Layers: string[] }>
  return files.get(manifest[0]!.Layers[0]!)!
}

dockerSuite('img: image list, digests and load (docker CLI, docker-py)', () => {
  let h: DaemonHandle
  let work: string
  const ok = async (...args: string[]): Promise<string> => {
    const r = await runCmd('docker', args, { host: h.host, timeoutMs: 120_000 })
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }

  before(async () => {
    h = await startDaemon()
    work = await mkdtemp(join(tmpdir(), 'berth-img-images-'))
    await ok('load', '-i', await fixture('busybox'))
  })
  after(async () => {
    if (h) {
      await forceCleanup(h).catch(() => {})
      await h.cleanup()
    }
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('images -f dangling=true lists no classic-build intermediates; a really dangling image is listed', async () => {
    const dir = await mkdtemp(join(work, 'ctx-'))
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nRUN echo one > /one\nRUN echo two > /two\nENV X=1\n')
    const b = await runCmd('docker', ['build', '-t', 'img-inter:1', dir], { host: h.host, env: { DOCKER_BUILDKIT: '0' } })
    assert.equal(b.code, 0, b.stderr + b.stdout)
    const all = (await ok('images', '-a', '-q', '--no-trunc')).trim().split('\n')
    const tagged = (await ok('images', '-q', '--no-trunc')).trim().split('\n')
    const intermediates = all.filter((id) => !tagged.includes(id))
    assert.ok(intermediates.length >= 2, `expected intermediates in images -a: ${all.join(' ')}`)
    const dangling = (await ok('images', '-f', 'dangling=true', '-q', '--no-trunc')).trim()
    for (const id of intermediates) assert.ok(!dangling.includes(id), `intermediate ${id} listed as dangling: ${dangling}`)
    // An untagged image that is no one's parent is dangling: listed.
    await ok('tag', 'img-inter:1', 'img-inter:2')
    const cid = (await ok('create', 'img-inter:1')).trim()
    const commit = (await ok('commit', cid)).trim()
    await ok('rm', cid)
    assert.ok((await ok('images', '-f', 'dangling=true', '-q', '--no-trunc')).includes(commit))
    // With -a, the intermediates are listed as Docker lists them.
    const dAll = (await ok('images', '-a', '-f', 'dangling=true', '-q', '--no-trunc')).trim()
    for (const id of intermediates) assert.ok(dAll.includes(id), `images -a -f dangling=true should list ${id}`)
  })

  it('POST /images/load with bad data answers 200 with the error in the stream', async () => {
    const res = await api(h, 'POST', '/images/load', Buffer.from('this is not a tar archive at all, not even close'.repeat(20)), { 'Content-Type': 'application/x-tar' })
    assert.equal(res.status, 200, res.body.toString())
    const last = JSON.parse(res.body.toString().trim().split('\n').at(-1)!) as { error?: string; errorDetail?: { message: string } }
    assert.ok(last.error && last.errorDetail?.message, res.body.toString())
    const cli = await runCmd('docker', ['load'], { host: h.host, input: Buffer.from('garbage'.repeat(200)) })
    assert.notEqual(cli.code, 0)
    assert.ok(cli.stderr.length > 0 || cli.stdout.length > 0)
  })

  it('docker-py raises ImageLoadError for bad data', { skip: hasDockerPy ? false : 'python3 docker (docker-py) is not installed' }, async () => {
    const script = [
      'import docker, sys',
      `c = docker.DockerClient(base_url=${JSON.stringify(h.host)})`,
      'try:',
      '    c.images.load(b"garbage" * 300)',
      '    print("no error")',
      'except docker.errors.ImageLoadError as e:',
      '    print("ImageLoadError", e)',
      'except Exception as e:',
      '    print("other", type(e).__name__, e)',
    ].join('\n')
    const r = await runCmd('python3', ['-c', script])
    assert.match(r.stdout, /^ImageLoadError /, r.stdout + r.stderr)
  })

  it('dockerode: loadImage of bad data resolves to a stream that ends with the error', async () => {
    const { default: Docker } = (await import('dockerode' as string)) as { default: new (o: { socketPath: string }) => DockerodeLike }
    const d = new Docker({ socketPath: h.socket })
    // On a 400 (Berth before) the promise rejected; dockerd answers 200 and streams the error.
    const stream = await d.loadImage(Buffer.from('not an image archive'.repeat(50)))
    const out = await new Promise<unknown[]>((resolve, reject) => d.modem.followProgress(stream, (e, o) => (e ? reject(e) : resolve(o))))
    const last = out.at(-1) as { error?: string } | undefined
    assert.match(last?.error ?? '', /tar|EOF|manifest/i, JSON.stringify(out))
  })

  it('a pre-1.10 archive (repositories, v1 layer directories) loads: tagged, parent chain, history, runs', async () => {
    const base = await busyboxLayer()
    const top = await makeTar([{ name: 'hello.txt', data: 'hello from a v1 layer\n' }])
    const id1 = sha256hex('v1-layer-1')
    const id2 = sha256hex('v1-layer-2')
    const v1json = (id: string, parent: string | undefined, cmd: string[], created: string) => JSON.stringify({
      id, ...(parent ? { parent } : {}), created, container_config: { Cmd: cmd }, docker_version: '1.9.1',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['cat', '/hello.txt'] },
      architecture: 'amd64', os: 'linux', Size: 0,
    })
    const archive = await makeTar([
      { name: `${id1}/`, type: 'directory' },
      { name: `${id1}/VERSION`, data: '1.0' },
      { name: `${id1}/json`, data: v1json(id1, undefined, ['/bin/sh', '-c', '#(nop) ADD file:busybox in /'], '2015-01-01T00:00:00Z') },
      { name: `${id1}/layer.tar`, data: base },
      { name: `${id2}/`, type: 'directory' },
      { name: `${id2}/VERSION`, data: '1.0' },
      { name: `${id2}/json`, data: v1json(id2, id1, ['/bin/sh', '-c', '#(nop) COPY hello.txt /'], '2015-01-02T00:00:00Z') },
      { name: `${id2}/layer.tar`, data: top },
      { name: 'repositories', data: JSON.stringify({ 'img-legacy': { v1: id2 } }) },
    ])
    const file = join(work, 'legacy.tar')
    await writeFile(file, archive)
    const out = await ok('load', '-i', file)
    assert.equal(out.trim(), 'Loaded image: img-legacy:v1')
    const insp = JSON.parse(await ok('image', 'inspect', 'img-legacy:v1')) as Array<{ RootFS: { Layers: string[] }; Parent: string; Config: { Cmd: string[] }; Created: string }>
    assert.equal(insp[0]!.RootFS.Layers.length, 2)
    assert.deepEqual(insp[0]!.Config.Cmd, ['cat', '/hello.txt'])
    assert.match(insp[0]!.Created, /^2015-01-02/)
    assert.match(insp[0]!.Parent, /^sha256:[a-f0-9]{64}$/)
    const hist = await ok('history', '--no-trunc', '--format', '{{.CreatedBy}}', 'img-legacy:v1')
    assert.equal(hist.trim(), '/bin/sh -c #(nop) COPY hello.txt /\n/bin/sh -c #(nop) ADD file:busybox in /')
    if (isRoot) assert.equal(await ok('run', '--rm', 'img-legacy:v1'), 'hello from a v1 layer\n')
  })

  it('after a pull from a registry, images --digests and RepoDigests carry repo@sha256:<manifest digest>', { skip: hasRegistry ? false : 'Debian docker-registry is not installed' }, async () => {
    const reg = await startRegistry()
    try {
      const name = `${reg.host}/img/busybox`
      await ok('tag', 'busybox:latest', `${name}:1`)
      const push = await ok('push', `${name}:1`)
      const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push)![1]!
      // As on Docker, the pushed image already has its repo digest.
      assert.match(await ok('image', 'inspect', '--format', '{{json .RepoDigests}}', `${name}:1`), new RegExp(`${name}@${digest}`))
      await ok('rmi', `${name}:1`)
      await ok('pull', `${name}:1`)
      assert.equal((await ok('image', 'inspect', '--format', '{{json .RepoDigests}}', `${name}:1`)).trim(), JSON.stringify([`${name}@${digest}`]))
      const listed = await ok('images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}', name)
      assert.equal(listed.trim(), `${name} 1 ${digest}`)
      // docker-py sees the same.
      if (hasDockerPy) {
        const r = await runCmd('python3', ['-c', `import docker\nc = docker.DockerClient(base_url=${JSON.stringify(h.host)})\nprint(c.images.get(${JSON.stringify(`${name}:1`)}).attrs['RepoDigests'])`])
        assert.match(r.stdout, new RegExp(digest), r.stdout + r.stderr)
      }
      // A pull by digest of an image that is here only by tag adds the digest too.
      await ok('rmi', `${name}:1`)
      await ok('pull', `${name}@${digest}`)
      const byDigest = await ok('images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}', name)
      assert.equal(byDigest.trim(), `${name} <none> ${digest}`)
    } finally {
      await runCmd('docker', ['rmi', '-f', `${reg.host}/img/busybox:1`, `${reg.host}/img/busybox`], { host: h.host }).catch(() => {})
      await reg.stop()
    }
  })
})

/** The part of dockerode these tests use. */
interface DockerodeLike {
  loadImage(file: Buffer): Promise<NodeJS.ReadableStream>
  modem: { followProgress(stream: NodeJS.ReadableStream, done: (err: unknown, out: unknown[]) => void): void }
}

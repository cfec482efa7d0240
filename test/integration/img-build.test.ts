/**
 * Issue 12, images and build: the classic builder as the docker CLI sees it on Docker. COPY's
 * directory modes, .dockerignore of the build files, repeated --add-host, RUN's stderr colour,
 * a Dockerfile outside the context, `docker build` with default settings (no BuildKit here),
 * build-cache prune filters and the build's temp directory after a crash.
 */
import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, fixture, runCmd, startDaemon, type DaemonHandle, type RunResult } from './harness.js'
import { dockerSuite } from './image-helpers.js'
import { forceCleanup } from './container-helpers.js'

dockerSuite('img: classic build fidelity (docker CLI)', () => {
  let h: DaemonHandle
  let work: string

  const build = (args: string[], env: Record<string, string> = { DOCKER_BUILDKIT: '0' }): Promise<RunResult> =>
    runCmd('docker', ['build', ...args], { host: h.host, env, timeoutMs: 120_000 })
  const ok = async (...args: string[]): Promise<string> => {
    const r = await runCmd('docker', args, { host: h.host, timeoutMs: 60_000 })
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }
  const ctx = async (files: Record<string, string>): Promise<string> => {
    const dir = await mkdtemp(join(work, 'ctx-'))
    for (const [name, content] of Object.entries(files)) {
      await mkdir(join(dir, name, '..'), { recursive: true })
      await writeFile(join(dir, name), content)
    }
    return dir
  }

  before(async () => {
    h = await startDaemon()
    work = await mkdtemp(join(tmpdir(), 'berth-img-build-'))
    await ok('load', '-i', await fixture('busybox'))
  })
  after(async () => {
    if (h) {
      await forceCleanup(h).catch(() => {})
      await h.cleanup()
    }
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('COPY . /dir makes the directory and its implicit parents 0755; a non-root USER reads its app', async () => {
    const dir = await ctx({ 'a.txt': 'a\n', 'sub/b.txt': 'b\n', Dockerfile: 'FROM busybox\nCOPY . /srv/deep/app\nUSER 1000\nRUN cat /srv/deep/app/a.txt /srv/deep/app/sub/b.txt\n' })
    const r = await build(['-t', 'img-copy-mode', dir])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const out = await ok('run', '--rm', 'img-copy-mode', 'stat', '-c', '%n %a', '/srv', '/srv/deep', '/srv/deep/app')
    assert.equal(out.trim(), '/srv 755\n/srv/deep 755\n/srv/deep/app 755')
  })

  it('.dockerignore can exclude .dockerignore and the Dockerfile from COPY; the build still reads them', async () => {
    const dir = await ctx({ 'keep.txt': 'k\n', 'drop.txt': 'd\n', '.dockerignore': '.dockerignore\nDockerfile\ndrop.txt\n', Dockerfile: 'FROM busybox\nCOPY . /app\n' })
    const r = await build(['-t', 'img-ignore', dir])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.equal((await ok('run', '--rm', 'img-ignore', 'ls', '-A', '/app')).trim(), 'keep.txt')
  })

  it('every repeated --add-host (extrahosts) reaches /etc/hosts of RUN', async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox\nRUN cat /etc/hosts\n' })
    const r = await build(['--no-cache', '--add-host', 'first.test:10.1.2.3', '--add-host', 'second.test:10.4.5.6', dir])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.match(r.stdout, /10\.1\.2\.3\s+first\.test/)
    assert.match(r.stdout, /10\.4\.5\.6\s+second\.test/)
  })

  it("RUN's stderr is wrapped in \\x1b[91m...\\x1b[0m in the build stream; stdout is not", async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox\nRUN echo to-out; echo to-err >&2\n' })
    const res = await api(h, 'POST', '/build?nocache=1', await tarOf(dir), { 'Content-Type': 'application/x-tar' })
    assert.equal(res.status, 200)
    const streams = res.body.toString().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { stream?: string }).stream ?? '')
    assert.ok(streams.includes('\x1b[91mto-err\n\x1b[0m'), JSON.stringify(streams))
    assert.ok(streams.includes('to-out\n'), JSON.stringify(streams))
  })

  it('a Dockerfile outside the context (-f ../Dockerfile) builds as on Docker, and is not in the image', async () => {
    const top = await mkdtemp(join(work, 'outside-'))
    await mkdir(join(top, 'context'))
    await writeFile(join(top, 'context', 'f.txt'), 'f\n')
    await writeFile(join(top, 'Dockerfile.out'), 'FROM busybox\nCOPY . /app\n')
    const r = await build(['-t', 'img-outside', '-f', join(top, 'Dockerfile.out'), join(top, 'context')])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.equal((await ok('run', '--rm', 'img-outside', 'ls', '-A', '/app')).trim(), 'f.txt')
    // With a .dockerignore in the context too (the CLI appends the random name to it).
    await writeFile(join(top, 'context', '.dockerignore'), 'nothing-here\n')
    const r2 = await build(['--no-cache', '-t', 'img-outside2', '-f', join(top, 'Dockerfile.out'), join(top, 'context')])
    assert.equal(r2.code, 0, r2.stderr + r2.stdout)
    // The CLI appended only the random name to this .dockerignore: dockerd keeps .dockerignore.
    assert.equal((await ok('run', '--rm', 'img-outside2', 'ls', '-A', '/app')).trim(), '.dockerignore\nf.txt')
  })

  it('docker build with default settings (no DOCKER_BUILDKIT) falls back to the classic builder', async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox\nRUN echo default-build\n' })
    const r = await build(['--no-cache', '-t', 'img-default', dir], { DOCKER_BUILDKIT: '' })
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.match(r.stdout, /default-build/)
    await ok('image', 'inspect', 'img-default')
  })

  it('POST /session answers as a dockerd without BuildKit does', async () => {
    const res = await api(h, 'POST', '/session', '', { Upgrade: 'h2c', Connection: 'Upgrade', 'X-Docker-Expose-Session-Uuid': 'x' })
    assert.notEqual(res.status, 404, res.body.toString())
    assert.ok(res.status >= 400, `status ${res.status}`)
    assert.ok((res.json() as { message: string }).message, res.body.toString())
    // Without an upgrade protocol: dockerd's session manager refuses it as a bad request.
    const plain = await api(h, 'POST', '/session', '')
    assert.equal(plain.status, 400, plain.body.toString())
    assert.equal((plain.json() as { message: string }).message, 'no upgrade proto in request')
  })

  it('builder prune and system prune take the build-cache filters; unknown ones are refused', async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox\nRUN echo cached-step > /c\n' })
    const first = await build(['-t', 'img-prune', dir])
    assert.equal(first.code, 0, first.stderr + first.stdout)
    // Nothing is older than an hour: the cache stays.
    const keep = await runCmd('docker', ['builder', 'prune', '-af', '--filter', 'until=1h'], { host: h.host })
    assert.equal(keep.code, 0, keep.stderr)
    const sys = await runCmd('docker', ['system', 'prune', '-f', '--filter', 'label=nothing=here'], { host: h.host })
    assert.equal(sys.code, 0, sys.stderr)
    let again = await build(['-t', 'img-prune', dir])
    assert.match(again.stdout, /Using cache/)
    const bad = await runCmd('docker', ['builder', 'prune', '-af', '--filter', 'bogus=1'], { host: h.host })
    assert.notEqual(bad.code, 0)
    assert.match(bad.stderr, /invalid filter 'bogus'/)
    const badUntil = await api(h, 'POST', `/build/prune?filters=${encodeURIComponent(JSON.stringify({ until: ['soon'] }))}`)
    assert.equal(badUntil.status, 400)
    assert.match((badUntil.json() as { message: string }).message, /"until" filter expects a duration \(e\.g\., '24h'\) or a timestamp/)
    const two = await api(h, 'POST', `/build/prune?filters=${encodeURIComponent(JSON.stringify({ id: ['a', 'b'] }))}`)
    assert.equal(two.status, 400)
    assert.equal((two.json() as { message: string }).message, 'filters expect only one value')
    // Entries older than a moment ago go.
    await new Promise((r) => setTimeout(r, 1100))
    const gone = await runCmd('docker', ['builder', 'prune', '-af', '--filter', 'until=1s'], { host: h.host })
    assert.equal(gone.code, 0, gone.stderr)
    assert.match(gone.stdout, /Deleted build cache objects/)
    again = await build(['-t', 'img-prune', dir])
    assert.equal(again.code, 0, again.stderr)
    assert.doesNotMatch(again.stdout, /Using cache/)
  })

  it("a build's temp directory does not survive kill -9: the restart removes it", async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox\nRUN sleep 60\n', 'big.txt': 'x'.repeat(4096) })
    const tmpRoot = join(h.dataRoot, 'build-cache', 'tmp')
    const running = build(['--no-cache', dir])
    const deadline = Date.now() + 20_000
    let entries: string[] = []
    while (Date.now() < deadline) {
      entries = await readdir(tmpRoot).catch(() => [])
      if (entries.length) break
      await new Promise((r) => setTimeout(r, 100))
    }
    assert.ok(entries.length > 0, 'the build made no temp directory')
    await h.kill()
    await running
    assert.ok((await readdir(tmpRoot)).length > 0, 'kill -9 should leave the temp directory behind')
    await h.restart()
    const until = Date.now() + 10_000
    while (Date.now() < until && (await readdir(tmpRoot).catch(() => [])).length) await new Promise((r) => setTimeout(r, 100))
    assert.deepEqual(await readdir(tmpRoot).catch(() => []), [])
  })
})

/** A tar of a directory (via the system tar, as the context). */
async function tarOf(dir: string): Promise<Buffer> {
  const names = await readdir(dir)
  const { execFileSync } = await import('node:child_process')
  return execFileSync('tar', ['-C', dir, '-cf', '-', ...names])
}

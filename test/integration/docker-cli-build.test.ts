/**
 * docker build (the classic builder, DOCKER_BUILDKIT=0) and berth build against berthd:
 * multi-stage builds, instructions, heredocs, .dockerignore, the build cache, --target, build
 * args, ADD of a tarball and of a URL, failing steps, and the built images' config at run time.
 */
import { after, before, beforeEach, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { spawn, spawnSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, berth, BERTH, fixture, runCmd, startDaemon, type DaemonHandle, type RunResult } from './harness.js'
import { dockerSuite, makeTar, waitFor } from './image-helpers.js'
import { forceCleanup, listedContainerIds } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

dockerSuite('docker build (classic builder) and berth build', () => {
  let h: DaemonHandle
  let work: string
  let server: Server
  let serverUrl = ''
  const tags = new Set<string>()

  const build = (args: string[], input?: string): Promise<RunResult> => {
    for (let i = 0; i < args.length - 1; i++) if (args[i] === '-t') tags.add(args[i + 1]!)
    return runCmd('docker', ['build', ...args], { host: h.host, env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) })
  }
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
  const steps = (out: string) => out.split('\n').filter((l) => l.startsWith('Step ') || l.startsWith(' ---> '))
  const inspect = async (ref: string): Promise<Json> => (JSON.parse(await ok('image', 'inspect', ref)) as Json[])[0]

  before(async () => {
    h = await startDaemon()
    work = await mkdtemp(join(tmpdir(), 'berth-build-'))
    await ok('load', '-i', await fixture('busybox'))
    server = createServer((req, res) => {
      if (req.url === '/files/remote.txt') {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' })
        res.end('from the web\n')
      } else { res.writeHead(404); res.end() }
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const addr = server.address()
    serverUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`
  })
  beforeEach(async () => {
    for (const id of await listedContainerIds(h)) await api(h, 'DELETE', `/containers/${id}?force=1`)
  })
  after(async () => {
    server?.close()
    if (h) {
      for (const t of tags) await api(h, 'DELETE', `/images/${t}?force=1`).catch(() => {})
      await forceCleanup(h).catch(() => {})
      await h.cleanup()
    }
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('builds a multi-stage Dockerfile with most instructions; the image runs with its config', async () => {
    const dir = await ctx({
      'app/main.sh': '#!/bin/sh\necho main "$@"\n',
      'app/data.txt': 'data\n',
      Dockerfile: [
        'ARG BASE=busybox',
        'FROM ${BASE} AS builder',
        'ARG VERSION=1.0',
        'ENV OUT=/out \\',
        '    NAME="the app"',
        'RUN mkdir -p $OUT && echo "v${VERSION}" > $OUT/version && echo built ${VERSION}',
        'RUN <<EOF',
        'echo "from heredoc" > /out/heredoc',
        'echo line two >> /out/heredoc',
        'EOF',
        'COPY <<-EOT /out/inline.txt',
        '\tinline ${NAME}',
        '\tEOT',
        '',
        'FROM busybox',
        'LABEL org.example.name="the app" version=2',
        'MAINTAINER someone@example.com',
        'ENV GREETING=hello PATH=/opt/app:$PATH',
        'WORKDIR /opt',
        'WORKDIR app',
        'COPY --from=builder /out/ ./built/',
        'ARG OWNER=1000',
        'COPY --chmod=755 --chown=${OWNER}:1000 app/main.sh ./',
        'COPY app/*.txt ./',
        'EXPOSE 8080 9000/udp',
        'VOLUME ["/data"]',
        'STOPSIGNAL SIGINT',
        'HEALTHCHECK --interval=30s --retries=2 CMD true',
        'ONBUILD RUN echo child',
        'USER 1000',
        'SHELL ["/bin/sh", "-ec"]',
        'ENTRYPOINT ["main.sh"]',
        'CMD ["one", "two"]',
      ].join('\n') + '\n',
    })
    const r = await build(['-t', 'bt-multi:1', '-t', 'bt-multi:2', dir])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /^Step 1\/25 : FROM \$\{BASE\} AS builder$/m)
    assert.match(r.stdout, /^built 1\.0$/m)
    assert.match(r.stdout, /^ ---> Running in [0-9a-f]{12}$/m)
    assert.match(r.stdout, /^Removing intermediate container [0-9a-f]{12}$/m)
    assert.match(r.stdout, /^Successfully built [0-9a-f]{12}$/m)
    assert.match(r.stdout, /^Successfully tagged bt-multi:1$/m)
    assert.match(r.stdout, /^Successfully tagged bt-multi:2$/m)
    // Built again: every step but the two FROMs comes from the cache, and the image is the same.
    const again = await build(['-t', 'bt-multi:1', dir])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout.match(/ ---> Using cache/g)?.length, 23, again.stdout)
    const img = await inspect('bt-multi:1')
    assert.equal(`sha256:${/Successfully built ([0-9a-f]{12})/.exec(r.stdout)![1]}`, img.Id.slice(0, 19))
    const c = img.Config
    assert.deepEqual(c.Entrypoint, ['main.sh'])
    assert.deepEqual(c.Cmd, ['one', 'two'])
    assert.equal(c.WorkingDir, '/opt/app')
    assert.equal(c.User, '1000')
    assert.ok(c.Env.includes('GREETING=hello'))
    assert.ok(c.Env.includes('PATH=/opt/app:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'), c.Env.join(','))
    assert.deepEqual(c.Labels, { 'org.example.name': 'the app', version: '2' })
    assert.deepEqual(Object.keys(c.ExposedPorts).sort(), ['8080/tcp', '9000/udp'])
    assert.deepEqual(Object.keys(c.Volumes), ['/data'])
    assert.equal(c.StopSignal, 'SIGINT')
    assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 30_000_000_000, Retries: 2 })
    assert.deepEqual(c.OnBuild, ['RUN echo child'])
    assert.deepEqual(c.Shell, ['/bin/sh', '-ec'])
    assert.equal(img.Author, 'someone@example.com')
    // Running it: entrypoint + cmd, workdir, user, env, copied files with their modes and owners.
    assert.equal((await ok('run', '--rm', 'bt-multi:1')).trim(), 'main one two')
    const ls = await ok('run', '--rm', '--entrypoint', 'sh', 'bt-multi:1', '-c', 'pwd; id -u; echo $GREETING; cat built/version built/heredoc built/inline.txt data.txt; stat -c "%a %u:%g %n" main.sh built/version')
    assert.equal(ls, '/opt/app\n1000\nhello\nv1.0\nfrom heredoc\nline two\ninline the app\ndata\n755 1000:1000 main.sh\n644 0:0 built/version\n')
    // History as the classic builder writes it.
    const hist = await ok('history', '--no-trunc', '--format', '{{.CreatedBy}}', 'bt-multi:1')
    assert.match(hist, /^\/bin\/sh -c #\(nop\)  ENV GREETING=hello PATH=\/opt\/app:/m)
    assert.match(hist, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \.\/ $/m)
  })

  it('uses the cache, and rebuilds only the steps after a changed file (content or mode)', async () => {
    const dir = await ctx({ 'a.txt': 'a\n', 'b.txt': 'b\n', Dockerfile: 'FROM busybox\nENV X=1\nRUN echo first > /first\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\nRUN cat /a.txt /b.txt > /both\n' })
    const first = await build(['-t', 'bt-cache:1', dir])
    assert.equal(first.code, 0, first.stderr)
    assert.doesNotMatch(first.stdout, /Using cache/)
    const again = await build(['-t', 'bt-cache:1', dir])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout.match(/Using cache/g)?.length, 5)
    assert.doesNotMatch(again.stdout, /Running in/)
    const id1 = (await inspect('bt-cache:1')).Id
    assert.equal(steps(first.stdout).at(-1), steps(again.stdout).at(-1))
    // Change b.txt: ENV, RUN, COPY a.txt stay cached; COPY b.txt and the last RUN run again.
    await writeFile(join(dir, 'b.txt'), 'B\n')
    const changed = await build(['-t', 'bt-cache:1', dir])
    assert.equal(changed.code, 0, changed.stderr)
    assert.equal(changed.stdout.match(/Using cache/g)?.length, 3)
    assert.match(changed.stdout, /Step 5\/6 : COPY b\.txt \/b\.txt\n ---> [0-9a-f]{12}\n/)
    assert.equal(await ok('run', '--rm', 'bt-cache:1', 'cat', '/both'), 'a\nB\n')
    assert.notEqual((await inspect('bt-cache:1')).Id, id1)
    // A mode change alone is a change too.
    await chmod(join(dir, 'a.txt'), 0o600)
    const moded = await build(['-t', 'bt-cache:1', dir])
    assert.equal(moded.stdout.match(/Using cache/g)?.length, 2)
    // --cache-from limits the cache to those images and their parents.
    const from = await build(['--cache-from', 'bt-cache:1', '-t', 'bt-cache:1', dir])
    assert.equal(from.stdout.match(/Using cache/g)?.length, 5, from.stdout)
    const other = await build(['--cache-from', 'busybox', '-t', 'bt-cache:other', dir])
    assert.equal(other.code, 0, other.stderr)
    assert.doesNotMatch(other.stdout, /Using cache/)
    // --no-cache runs everything.
    const nc = await build(['--no-cache', '-t', 'bt-cache:1', dir])
    assert.equal(nc.code, 0, nc.stderr)
    assert.doesNotMatch(nc.stdout, /Using cache/)
    // docker builder prune -a drops the cache index: the next build runs every step.
    const pr = await runCmd('docker', ['builder', 'prune', '-af'], { host: h.host, env: { DOCKER_BUILDKIT: '0' } })
    assert.equal(pr.code, 0, pr.stderr)
    const after = await build(['-t', 'bt-cache:1', dir])
    assert.equal(after.code, 0, after.stderr)
    assert.doesNotMatch(after.stdout, /Using cache/)
  })

  it('.dockerignore excludes files from the context (and the COPY that names one fails)', async () => {
    const dir = await ctx({ 'keep.txt': 'k\n', 'secret.key': 's\n', 'logs/a.log': 'l\n', 'logs/important.log': 'i\n', '.dockerignore': '*.key\nlogs\n!logs/important.log\n', Dockerfile: 'FROM busybox\nCOPY . /ctx/\nRUN find /ctx -type f | sort\n' })
    const r = await build(['-t', 'bt-ignore', dir])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /\/ctx\/\.dockerignore\n\/ctx\/Dockerfile\n\/ctx\/keep\.txt\n\/ctx\/logs\/important\.log\n/)
    assert.doesNotMatch(r.stdout, /secret\.key|a\.log/)
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nCOPY secret.key /\n')
    const bad = await build([dir])
    assert.notEqual(bad.code, 0)
    assert.match(bad.stderr, /COPY failed: file not found in build context or excluded by \.dockerignore: stat secret\.key: file does not exist/)
  })

  it('--target builds only the stages it needs; build args are used and unused ones reported', async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox AS one\nARG WHO=nobody\nRUN echo "hello $WHO$HTTP_PROXY" > /who\n\nFROM busybox AS unused\nRUN echo never-built\n\nFROM busybox AS two\nCOPY --from=one /who /who\n\nFROM busybox AS three\nRUN echo three\n' })
    const r = await build(['--target', 'two', '--build-arg', 'WHO=berth', '--build-arg', 'EXTRA=1', '--build-arg', 'HTTP_PROXY=@proxy', '-t', 'bt-target', dir])
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stdout, /never-built|three/)
    assert.match(r.stdout, /^Step 5\/5 : COPY --from=one \/who \/who$/m)
    assert.match(r.stdout, /\[Warning\] One or more build-args \[EXTRA\] were not consumed/)
    assert.equal(await ok('run', '--rm', 'bt-target', 'cat', '/who'), 'hello berth@proxy\n')
    // The proxy ARG is in RUN's environment but not in the history.
    assert.doesNotMatch(await ok('history', '--no-trunc', 'bt-target'), /proxy/)
    const missing = await build(['--target', 'nope', dir])
    assert.notEqual(missing.code, 0)
    assert.match(missing.stderr, /failed to reach build target nope in Dockerfile/)
  })

  it('ADD extracts a local tarball and downloads a URL', async () => {
    const dir = await ctx({ Dockerfile: `FROM busybox\nADD files.tar.gz /x/\nADD ${'${URL}'}/files/remote.txt /web/\nRUN ls /x/inner && cat /x/inner/f.txt /web/remote.txt && stat -c %a /web/remote.txt\n` })
    await mkdir(join(dir, 'src', 'inner'), { recursive: true })
    await writeFile(join(dir, 'src', 'inner', 'f.txt'), 'in the tar\n')
    const tar = spawnSync('tar', ['-czf', join(dir, 'files.tar.gz'), '-C', join(dir, 'src'), 'inner'])
    assert.equal(tar.status, 0)
    await rm(join(dir, 'src'), { recursive: true })
    await writeFile(join(dir, 'Dockerfile'), (await readFile(join(dir, 'Dockerfile'), 'utf8')).replace('${URL}', serverUrl))
    const r = await build(['-t', 'bt-add', dir])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /f\.txt\nin the tar\nfrom the web\n600\n/)
  })

  it('a failing RUN reports the command and its exit code, leaves no container, and keeps the cache', async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox\nRUN echo before > /before\nRUN echo failing; exit 3\n' })
    const before = new Set(await listedContainerIds(h))
    const r = await build(['-t', 'bt-fail', dir])
    assert.equal(r.code, 3, r.stdout + r.stderr)
    assert.match(r.stderr, /The command '\/bin\/sh -c echo failing; exit 3' returned a non-zero code: 3/)
    assert.match(r.stdout, /^failing$/m)
    const left = (await listedContainerIds(h)).filter((id) => !before.has(id))
    assert.deepEqual(left, [])
    const again = await build(['-t', 'bt-fail', dir])
    assert.equal(again.code, 3)
    assert.match(again.stdout, /Step 2\/3 : RUN echo before > \/before\n ---> Using cache\n/)
    // Parse errors name the line.
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nRUN true\nBOGUS x\n')
    const p = await build([dir])
    assert.notEqual(p.code, 0)
    // Before the first step, as Docker: an ordinary error answer (400), not a stream message.
    assert.match(p.stderr, /Error response from daemon: Dockerfile parse error line 3: unknown instruction: BOGUS/)
    // BuildKit-only flags are refused, not ignored.
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=cache,target=/c true\n')
    const bk = await build([dir])
    assert.equal(bk.code, 1)
    assert.match(bk.stderr, /the --mount option requires BuildKit/)
    const missing = await build(['-f', 'Nope.dockerfile', dir])
    assert.notEqual(missing.code, 0)
    assert.match(missing.stderr, /Nope\.dockerfile/)
  })

  it('ONBUILD triggers run in the child build; FROM scratch takes COPY; docker build -q prints the ID', async () => {
    const parent = await ctx({ Dockerfile: 'FROM busybox\nONBUILD RUN echo "trigger ran" > /trigger\nONBUILD COPY marker.txt /marker.txt\n' })
    assert.equal((await build(['-t', 'bt-onbuild-parent', parent])).code, 0)
    const child = await ctx({ 'marker.txt': 'marked\n', Dockerfile: 'FROM bt-onbuild-parent\nCMD ["cat", "/trigger", "/marker.txt"]\n' })
    const r = await build(['-t', 'bt-onbuild-child', child])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /^# Executing 2 build triggers$/m)
    assert.equal(await ok('run', '--rm', 'bt-onbuild-child'), 'trigger ran\nmarked\n')
    assert.equal((await inspect('bt-onbuild-child')).Config.OnBuild, null)
    const scratch = await ctx({ 'hello.txt': 'hi\n', Dockerfile: 'FROM scratch\nCOPY hello.txt /data/hello.txt\nCOPY --from=busybox /bin/busybox /bin/sh\nCMD ["/bin/sh", "-c", "cat /data/hello.txt"]\n' })
    const q = await build(['-q', '-t', 'bt-scratch', scratch])
    assert.equal(q.code, 0, q.stderr)
    assert.match(q.stdout.trim(), /^sha256:[0-9a-f]{64}$/)
    assert.equal((await inspect('bt-scratch')).Id, q.stdout.trim())
    assert.equal(await ok('run', '--rm', 'bt-scratch'), 'hi\n')
  })

  it('berth build --explain-cache says why a step missed', async () => {
    const dir = await ctx({ 'a.txt': 'a\n', Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt\n' })
    assert.equal((await berth(h, 'build', '-t', 'bt-explain', dir)).code, 0)
    tags.add('bt-explain')
    await writeFile(join(dir, 'a.txt'), 'changed\n')
    const r = await berth(h, 'build', '--explain-cache', '-t', 'bt-explain', dir)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /Step 2\/3 : COPY a\.txt \/a\.txt\n ---> Cache miss: the files it reads changed \(content or metadata\)\n/)
    assert.match(r.stdout, /Step 3\/3 : RUN cat \/a\.txt\n ---> Cache miss: the previous step was rebuilt \(new parent image\)\n/)
  })

  it('independent stages build concurrently, print in Dockerfile order, and a failure stops the others', async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox AS a\nRUN sleep 3 && echo a > /a\n\nFROM busybox AS b\nRUN sleep 3 && echo b > /b\n\nFROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\nCMD ["cat", "/a", "/b"]\n' })
    const t0 = Date.now()
    const r = await build(['--no-cache', '-t', 'bt-parallel', dir])
    const took = Date.now() - t0
    assert.equal(r.code, 0, r.stderr)
    assert.ok(took < 5800, `two 3 s stages took ${took} ms: not concurrent`)
    const numbers = r.stdout.split('\n').filter((l) => l.startsWith('Step ')).map((l) => Number(/^Step (\d+)\//.exec(l)![1]))
    assert.deepEqual(numbers, [1, 2, 3, 4, 5, 6, 7, 8])
    assert.equal(await ok('run', '--rm', 'bt-parallel'), 'a\nb\n')
    const failing = await ctx({ Dockerfile: 'FROM busybox AS a\nRUN exit 5\n\nFROM busybox AS b\nRUN sleep 60\n\nFROM busybox\nCOPY --from=a / /a\nCOPY --from=b / /b\n' })
    const before = new Set(await listedContainerIds(h))
    const t1 = Date.now()
    const f = await build(['--no-cache', failing])
    assert.equal(f.code, 5, f.stdout + f.stderr)
    assert.ok(Date.now() - t1 < 30_000, 'the sleeping stage was not stopped')
    assert.deepEqual((await listedContainerIds(h)).filter((id) => !before.has(id)), [])
  })

  it('a client that goes away stops the build: the RUN container is killed and removed', async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox\nRUN echo started && sleep 120\n' })
    const before = new Set(await listedContainerIds(h))
    const child = spawn('docker', ['build', '--no-cache', dir], { env: { ...process.env, DOCKER_HOST: h.host, DOCKER_BUILDKIT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => { out += c.toString() })
    // The step line itself ('RUN echo started ...') names the word: wait for the command's own output line.
    await waitFor('the RUN to start', () => /^started$/m.test(out), 30_000)
    assert.equal((await listedContainerIds(h)).filter((id) => !before.has(id)).length, 1)
    child.kill('SIGKILL')
    await waitFor('the build container to go', async () => (await listedContainerIds(h)).filter((id) => !before.has(id)).length === 0, 20_000, 200)
    assert.match(h.log(), /berthd/) // still alive
    assert.equal((await api(h, 'GET', '/_ping')).status, 200)
  })

  it('--memory, --shm-size, --add-host and --network reach the RUN containers', async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox\nRUN cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; df -k /dev/shm | tail -1; grep builder.test /etc/hosts; ls /sys/class/net\n' })
    const r = await build(['--no-cache', '-m', '64m', '--shm-size', '32m', '--add-host', 'builder.test:10.1.2.3', '--network', 'none', dir])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /^67108864$/m)
    assert.match(r.stdout, /\s32768\s/)
    assert.match(r.stdout, /^10\.1\.2\.3\s+builder\.test$/m)
    assert.match(r.stdout, /^lo\n(?!eth)/m)
  })

  it('ENV substitutes with the values before the instruction; a replaced variable keeps its place', async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\nENV PATH=/x:$PATH\n' })
    const r = await build(['-t', 'bt-env', dir])
    assert.equal(r.code, 0, r.stderr)
    const env = (await inspect('bt-env')).Config.Env as string[]
    assert.deepEqual(env, ['PATH=/x:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'abc=bye', 'def=hello', 'ghi=bye'])
  })

  it('a hostile context never writes outside its directory; symlinks in it are followed in scope', async () => {
    const outside = join(work, 'outside-target')
    await mkdir(outside, { recursive: true })
    const df = 'FROM busybox\nCOPY . /ctx/\n'
    for (const [what, entries] of [
      ['a .. entry', [{ name: 'Dockerfile', data: df }, { name: '../escaped', data: 'x' }]],
      ['an absolute entry', [{ name: 'Dockerfile', data: df }, { name: `/${outside.slice(1)}/abs`, data: 'x' }]],
      ['a file through a planted symlink', [{ name: 'Dockerfile', data: df }, { name: 'link', type: 'symlink', linkname: outside }, { name: 'link/through', data: 'x' }]],
    ] as const) {
      const r = await api(h, 'POST', '/build?t=bt-hostile', await makeTar(entries as never), { 'Content-Type': 'application/x-tar' })
      assert.equal(r.status, 400, `${what}: ${r.status} ${r.body.toString()}`)
    }
    assert.deepEqual(await readdir(outside), [])
    // A symlink in the context pointing out is resolved inside the context when copied.
    const ok2 = await api(h, 'POST', '/build?t=bt-hostile', await makeTar([
      { name: 'Dockerfile', data: 'FROM busybox\nCOPY passwd /copied\nRUN cat /copied\n' },
      { name: 'passwd', type: 'symlink', linkname: '/etc/passwd' },
    ]), { 'Content-Type': 'application/x-tar' })
    tags.add('bt-hostile')
    assert.equal(ok2.status, 200)
    assert.match(ok2.body.toString(), /file not found in build context/)
    // A large file (streamed to disk, not held in memory) is copied whole.
    const big = Buffer.alloc(3 << 20, 'b')
    const r3 = await api(h, 'POST', '/build?t=bt-hostile', await makeTar([{ name: 'Dockerfile', data: 'FROM busybox\nCOPY big /big\nRUN wc -c < /big\n' }, { name: 'big', data: big }]), { 'Content-Type': 'application/x-tar' })
    assert.equal(r3.status, 200)
    assert.match(r3.body.toString(), /"stream":"3145728\\n"/)
  })

  it('berth build: tags, -f outside the context, -q, --iidfile, --label, a Dockerfile on stdin', async () => {
    const dir = await ctx({ 'f.txt': 'f\n' })
    const df = join(work, 'Other.dockerfile')
    await writeFile(df, 'FROM busybox\nCOPY f.txt /f.txt\nCMD ["cat", "/f.txt"]\n')
    tags.add('bt-berth:1')
    const r = await berth(h, 'build', '-t', 'bt-berth:1', '-f', df, '--label', 'via=berth', '--iidfile', join(work, 'iid'), dir)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /^Sending build context to Docker daemon/m)
    assert.match(r.stdout, /^Step 4\/4 : LABEL "via"="berth"$/m)
    const iid = (await readFile(join(work, 'iid'), 'utf8')).trim()
    const img = await inspect('bt-berth:1')
    assert.equal(img.Id, iid)
    assert.equal(img.Config.Labels.via, 'berth')
    assert.equal(await ok('run', '--rm', 'bt-berth:1'), 'f\n')
    const q = await berth(h, 'build', '-q', '-f', df, '--label', 'via=berth', dir)
    assert.equal(q.code, 0, q.stderr)
    assert.equal(q.stdout.trim(), iid)
    const viaStdin = await runCmd('sh', ['-c', `printf 'FROM busybox\\nRUN echo from-stdin\\n' | ${JSON.stringify(process.execPath)} ${JSON.stringify(BERTH)} build -`], { host: h.host })
    assert.equal(viaStdin.code, 0, viaStdin.stderr)
    assert.match(viaStdin.stdout, /^from-stdin$/m)
    // -f - : the Dockerfile from stdin, the context from the directory.
    const dfStdin = await runCmd('sh', ['-c', `printf 'FROM busybox\\nCOPY f.txt /f\\nRUN cat /f\\n' | ${JSON.stringify(process.execPath)} ${JSON.stringify(BERTH)} build -f - ${JSON.stringify(dir)}`], { host: h.host })
    assert.equal(dfStdin.code, 0, dfStdin.stderr)
    assert.match(dfStdin.stdout, /^f$/m)
    const fail = await berth(h, 'build', '-f', join(work, 'nope'), dir)
    assert.equal(fail.code, 1)
    // A tarball as the context, and --rm=false keeps the RUN container.
    const tdir = await ctx({ Dockerfile: 'FROM busybox\nRUN echo kept > /kept\n' })
    assert.equal(spawnSync('tar', ['-cf', join(work, 'ctx.tar'), '-C', tdir, '.']).status, 0)
    const before = new Set(await listedContainerIds(h))
    tags.add('bt-tarball')
    const t = await berth(h, 'build', '--rm=false', '--no-cache', '-t', 'bt-tarball', join(work, 'ctx.tar'))
    assert.equal(t.code, 0, t.stdout + t.stderr)
    assert.doesNotMatch(t.stdout, /Removing intermediate container/)
    const kept = (await listedContainerIds(h)).filter((id) => !before.has(id))
    assert.equal(kept.length, 1)
    await api(h, 'DELETE', `/containers/${kept[0]}?force=1`)
  })
})

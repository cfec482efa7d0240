/**
 * docker cp (both ways), diff, export and commit: the real docker CLI (28.x) against berthd,
 * and the berth CLI for the same commands. Hostile archives and hostile symlinks in the
 * container must never write outside the container's root.
 */
import { after, before, beforeEach, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, berth, fixture, runCmd, startDaemon, type DaemonHandle } from './harness.js'
import { dockerSuite, makeTar } from './image-helpers.js'
import { dockerIn, dockerT, forceCleanup, listedContainerIds } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

dockerSuite('docker CLI: cp, diff, export, commit', () => {
  let h: DaemonHandle
  let work: string
  const images = new Set<string>()

  const ok = async (...args: string[]): Promise<string> => {
    const r = await dockerT(h, 30, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }
  const d = (...args: string[]) => dockerT(h, 30, ...args)
  const sh = (ctr: string, script: string) => ok('exec', ctr, 'sh', '-c', script)
  const run = (name: string, script: string) => ok('run', '-d', '--name', name, 'busybox', 'sh', '-c', script)
  const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '')

  before(async () => {
    h = await startDaemon()
    work = await mkdtemp(join(tmpdir(), 'berth-cp-'))
    await ok('load', '-i', await fixture('busybox'))
  })
  beforeEach(async () => {
    for (const id of await listedContainerIds(h)) await api(h, 'DELETE', `/containers/${id}?force=1`)
    await rm(work, { recursive: true, force: true })
    await mkdir(work, { recursive: true })
  })
  after(async () => {
    if (h) {
      for (const i of images) await api(h, 'DELETE', `/images/${i}?force=1`).catch(() => {})
      await forceCleanup(h).catch(() => {})
      await h.cleanup()
    }
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('cp out of a running and a stopped container: a file, a directory, `/.` contents, to stdout as tar', async () => {
    await run('src', 'mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b && ln -s /data/a /data/link && sleep 300')
    for (const state of ['running', 'stopped']) {
      if (state === 'stopped') await ok('stop', '-t', '0', 'src')
      const out = join(work, state)
      await mkdir(out)
      const r = await d('cp', 'src:/data/a', join(out, 'a-copy'))
      assert.equal(r.code, 0, r.stderr)
      // Progress output is for terminals only.
      assert.equal(r.stderr, '')
      assert.equal(await readFile(join(out, 'a-copy'), 'utf8'), 'one\n')
      await ok('cp', 'src:/data', join(out, 'newdir'))
      assert.equal(await readFile(join(out, 'newdir', 'sub', 'b'), 'utf8'), 'two\n')
      // An existing directory receives the directory itself, or its contents with `/.`.
      await mkdir(join(out, 'exists'))
      await ok('cp', 'src:/data', join(out, 'exists'))
      assert.ok(existsSync(join(out, 'exists', 'data', 'a')))
      await mkdir(join(out, 'contents'))
      await ok('cp', 'src:/data/.', join(out, 'contents'))
      assert.deepEqual((await readdir(join(out, 'contents'))).sort(), ['a', 'link', 'sub'])
      // A symlink is copied as a symlink, or followed with -L.
      await ok('cp', 'src:/data/link', join(out, 'l1'))
      assert.equal((await runCmd('readlink', [join(out, 'l1')])).stdout.trim(), '/data/a')
      await ok('cp', '-L', 'src:/data/link', join(out, 'l2'))
      assert.equal(await readFile(join(out, 'l2'), 'utf8'), 'one\n')
      const tar = await runCmd('sh', ['-c', `docker cp src:/data - | tar -t | sort`], { host: h.host })
      assert.deepEqual(lines(tar.stdout), ['data/', 'data/a', 'data/link', 'data/sub/', 'data/sub/b'])
    }
    // berth does the same.
    const b = await berth(h, 'cp', 'src:/data/sub', join(work, 'by-berth'))
    assert.equal(b.code, 0, b.stderr)
    assert.equal(await readFile(join(work, 'by-berth', 'b'), 'utf8'), 'two\n')
  })

  it('cp of a missing path: 404 with Docker\'s words, for docker and berth', async () => {
    await run('c404', 'sleep 300')
    const r = await d('cp', 'c404:/no/such', work)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /Error response from daemon: Could not find the file \/no\/such in container c404/)
    const b = await berth(h, 'cp', 'c404:/no/such', work)
    assert.equal(b.code, 1)
    assert.match(b.stderr, /Could not find the file \/no\/such in container c404/)
    const head = await api(h, 'HEAD', '/containers/c404/archive?path=/no/such')
    assert.equal(head.status, 404)
    const into = await d('cp', join(work), 'c404:/missing-parent/x')
    assert.match(into.stderr, /Could not find the file \/missing-parent in container c404/)
  })

  it('cp into a container: file, directory, new name, `/.`, stdin tar; running and stopped; path stat header', async () => {
    await writeFile(join(work, 'f.txt'), 'hello\n')
    await mkdir(join(work, 'dir', 'inner'), { recursive: true })
    await writeFile(join(work, 'dir', 'inner', 'g'), 'gee\n')
    await run('dst', 'mkdir /target && sleep 300')
    await ok('cp', join(work, 'f.txt'), 'dst:/target/')
    await ok('cp', join(work, 'f.txt'), 'dst:/target/renamed')
    await ok('cp', join(work, 'dir'), 'dst:/target')
    await ok('cp', join(work, 'dir'), 'dst:/newdir')
    await ok('cp', `${join(work, 'dir')}/.`, 'dst:/target')
    const tar = await makeTar([{ name: 'from-stdin', data: 'tar\n' }])
    const s = await dockerIn(h, 30, tar, 'cp', '-', 'dst:/target')
    assert.equal(s.code, 0, s.stderr)
    assert.equal(await sh('dst', 'cat /target/f.txt /target/renamed /target/dir/inner/g /newdir/inner/g /target/inner/g /target/from-stdin'), 'hello\nhello\ngee\ngee\ngee\ntar\n')
    // A file to a missing directory path is an error; docker cp - needs a directory.
    assert.notEqual((await d('cp', join(work, 'f.txt'), 'dst:/nonexistent-dir/')).code, 0)
    assert.match((await dockerIn(h, 30, tar, 'cp', '-', 'dst:/target/f.txt')).stderr, /must be a directory/)
    await ok('stop', '-t', '0', 'dst')
    await ok('cp', join(work, 'f.txt'), 'dst:/stopped.txt')
    const b = await berth(h, 'cp', join(work, 'dir'), 'dst:/by-berth')
    assert.equal(b.code, 0, b.stderr)
    // Read back from the stopped container.
    const back = await runCmd('sh', ['-c', 'docker cp dst:/stopped.txt - | tar -xO && docker cp dst:/by-berth/inner/g - | tar -xO'], { host: h.host })
    assert.equal(back.stdout, 'hello\ngee\n', back.stderr)
    const head = await api(h, 'HEAD', '/containers/dst/archive?path=/newdir')
    assert.equal(head.status, 200)
    const stat = JSON.parse(Buffer.from(head.headers['x-docker-container-path-stat'] as string, 'base64').toString()) as Json
    assert.equal(stat.name, 'newdir')
    assert.equal(stat.mode, 2 ** 31 + 0o755, 'Go FileMode: ModeDir | 0755')
    assert.match(stat.mtime, /^\d{4}-\d\d-\d\dT/)
  })

  it('symlinks are followed inside the container; hostile ones never reach the host', async () => {
    const hostProbe = join(work, 'host-probe')
    await mkdir(hostProbe)
    // /escape -> /, /hostdir -> <a host path>: both must resolve inside the container's root.
    await run('hostile', `ln -s / /escape && mkdir -p ${hostProbe} && ln -s ${hostProbe} /hostdir && ln -s ../../../../../.. /up && mkdir /real && ln -s /real /rel && sleep 300`)
    await writeFile(join(work, 'payload'), 'pwned\n')
    await ok('cp', join(work, 'payload'), 'hostile:/escape/tmp/')
    await ok('cp', join(work, 'payload'), 'hostile:/hostdir/')
    await ok('cp', join(work, 'payload'), 'hostile:/up/etc/')
    await ok('cp', join(work, 'payload'), 'hostile:/rel/')
    assert.deepEqual(await readdir(hostProbe), [], 'nothing written in the host directory')
    assert.ok(!existsSync('/etc/payload'), 'nothing written in the host /etc')
    assert.equal(await sh('hostile', `cat /tmp/payload ${hostProbe}/payload /etc/payload /real/payload`), 'pwned\npwned\npwned\npwned\n')
    // Reading through them stays inside too.
    const r = await runCmd('sh', ['-c', 'docker cp hostile:/up/etc/hostname - | tar -xO'], { host: h.host })
    assert.equal(r.code, 0, r.stderr)
    // Archive entries that climb out, are absolute, or write through a symlink out are refused.
    const evil = [
      await makeTar([{ name: '../../../../../../../tmp/berth-cp-evil', data: 'x' }]),
      await makeTar([{ name: '/abs-evil', data: 'x' }]),
      await makeTar([{ name: 'lnk', type: 'symlink', linkname: '../../../../../../..' }, { name: `lnk${hostProbe}/evil`, data: 'x' }]),
    ]
    for (const t of evil) {
      const e = await dockerIn(h, 30, t, 'cp', '-', 'hostile:/tmp')
      assert.notEqual(e.code, 0)
      assert.match(e.stderr, /Error response from daemon: .*(outside of|invalid symlink)/)
    }
    assert.ok(!existsSync('/tmp/berth-cp-evil'))
    assert.deepEqual(await readdir(hostProbe), [])
  })

  it('cp into a --read-only container is refused with Docker\'s message', async () => {
    await ok('run', '-d', '--read-only', '--name', 'ro', 'busybox', 'sleep', '300')
    await writeFile(join(work, 'f'), 'x')
    const r = await d('cp', join(work, 'f'), 'ro:/tmp/')
    assert.equal(r.code, 1)
    assert.match(r.stderr, /Error response from daemon: container rootfs is marked read-only/)
  })

  it('diff lists added, changed and deleted paths in order, without the runtime\'s mount points', async () => {
    await run('df', 'touch /tmp/new && rm /etc/group && mkdir -p /root/d/e && echo x >> /etc/passwd && sleep 300')
    const want = ['C /etc', 'D /etc/group', 'C /etc/passwd', 'C /root', 'A /root/d', 'A /root/d/e', 'C /tmp', 'A /tmp/new']
    for (let i = 0; i < 50 && lines(await ok('diff', 'df')).length < want.length; i++) await new Promise((r) => setTimeout(r, 100))
    assert.deepEqual(lines(await ok('diff', 'df')), want)
    assert.deepEqual(lines((await berth(h, 'diff', 'df')).stdout), want)
    const raw = await api(h, 'GET', '/containers/df/changes')
    assert.deepEqual((raw.json() as Json[])[1], { Path: '/etc/group', Kind: 2 })
    await ok('run', '--name', 'clean', 'busybox', 'true')
    assert.equal(await ok('diff', 'clean'), '')
  })

  it('export streams the whole rootfs; refuses a terminal; -o writes a file', async () => {
    await run('ex', 'echo hi > /exported && sleep 300')
    const r = await runCmd('sh', ['-c', 'docker export ex | tar -t'], { host: h.host })
    assert.equal(r.code, 0, r.stderr)
    const names = lines(r.stdout)
    for (const n of ['bin/', 'bin/sh', 'etc/passwd', 'exported']) assert.ok(names.includes(n), `${n} in export`)
    await ok('stop', '-t', '0', 'ex')
    const file = join(work, 'ex.tar')
    await ok('export', '-o', file, 'ex')
    assert.equal((await runCmd('tar', ['-xOf', file, 'exported'])).stdout, 'hi\n')
    const bfile = join(work, 'ex-berth.tar')
    assert.equal((await berth(h, 'export', '-o', bfile, 'ex')).code, 0)
    assert.equal((await runCmd('tar', ['-xOf', bfile, 'exported'])).stdout, 'hi\n')
    // `script` gives docker a terminal on stdout.
    const tty = await runCmd('script', ['-qec', 'docker export ex', '/dev/null'], { host: h.host })
    assert.match(tty.stdout, /cowardly refusing to save to a terminal\. Use the -o flag or redirect/)
  })

  it('commit: the image holds the files, keeps deletions, applies -c/-m/-a; a running container is paused meanwhile', async () => {
    await run('cm', 'echo content > /committed && rm /etc/group && rm -rf /home && mkdir /home && touch /home/only && sleep 300')
    await new Promise((r) => setTimeout(r, 300))
    const since = (Date.now() / 1000).toFixed(3)
    const id = (await ok('commit', '-c', 'ENV X=1', '-c', 'CMD ["echo","hi"]', '-m', 'msg', '-a', 'me', 'cm', 'committed:v1')).trim()
    assert.match(id, /^sha256:[a-f0-9]{64}$/)
    images.add(id)
    const until = (Date.now() / 1000 + 1).toFixed(3)
    assert.equal((await ok('inspect', '-f', '{{.State.Status}}', 'cm')).trim(), 'running')
    const ev = lines(await ok('events', '--since', since, '--until', until, '--format', '{{json .}}')).map((l) => JSON.parse(l) as Json)
    assert.deepEqual(ev.map((e) => `${e.Type} ${e.Action}`), ['container pause', 'image tag', 'container commit', 'container unpause'])
    const attrs = ev[2].Actor.Attributes
    assert.equal(attrs.imageID, id)
    assert.equal(attrs.imageRef, 'committed:v1')
    assert.equal(attrs.comment, 'msg')
    assert.equal(attrs.name, 'cm')
    assert.equal((await ok('run', '--rm', 'committed:v1')).trim(), 'hi')
    const inside = await ok('run', '--rm', 'committed:v1', 'sh', '-c', 'cat /committed; echo X=$X; ls /etc/group 2>&1; ls /home')
    assert.equal(inside, 'content\nX=1\nls: /etc/group: No such file or directory\nonly\n')
    const img = JSON.parse(await ok('image', 'inspect', 'committed:v1'))[0] as Json
    assert.equal(img.Author, 'me')
    assert.equal(img.Comment, 'msg')
    assert.deepEqual(img.Config.Cmd, ['echo', 'hi'])
    assert.ok((img.Config.Env as string[]).includes('X=1'))
    assert.equal(img.RootFS.Layers.length, 2)
    const hist = lines(await ok('history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Comment}}', 'committed:v1'))
    assert.match(hist[0]!, new RegExp(`^${id}\\|sh -c echo content > /committed.*\\|msg$`))
    // Without pause and without changes: an empty layer, no pause events; berth prints the ID.
    await ok('stop', '-t', '0', 'cm')
    await ok('run', '--name', 'same', 'busybox', 'true')
    const b = await berth(h, 'commit', '-p=false', 'same', 'committed:empty')
    assert.equal(b.code, 0, b.stderr)
    assert.match(b.stdout.trim(), /^sha256:[a-f0-9]{64}$/)
    images.add(b.stdout.trim())
    const empty = JSON.parse(await ok('image', 'inspect', 'committed:empty'))[0] as Json
    assert.equal(empty.RootFS.Layers.length, 1, 'no changes: no new layer')
  })
})

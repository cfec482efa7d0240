/**
 * The real docker CLI (28.x) against berthd: the image commands, their output formats,
 * filters and errors, as a user sees them.
 */
import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { docker, fixture, runCmd, startDaemon, type DaemonHandle } from './harness.js'
import { makeTar, dockerSuite } from './image-helpers.js'

const BUSYBOX_ID = /^sha256:[a-f0-9]{64}$/

dockerSuite('docker CLI: images', () => {
  let h: DaemonHandle
  let work: string
  let busyboxId = ''
  let helloId = ''
  let rootfsTar = ''
  const t0 = (Date.now() / 1000).toFixed(3)

  /** docker ... that must succeed; returns stdout. */
  const ok = async (...args: string[]): Promise<string> => {
    const r = await docker(h, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }
  const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '')
  const sh = (script: string) => runCmd('sh', ['-c', script], { host: h.host })

  before(async () => {
    h = await startDaemon()
    work = join(h.root, 'work')
    await mkdir(work)
    rootfsTar = join(work, 'rootfs.tar')
    await writeFile(rootfsTar, await makeTar([
      { name: 'bin/', type: 'directory' },
      { name: 'hello.txt', data: 'hello from import\n' },
    ]))
  })
  after(async () => {
    await h?.cleanup()
  })

  it('docker version shows the server section with API 1.50', async () => {
    const out = await ok('version')
    assert.match(out, /^Server: /m)
    assert.match(out, /API version:\s+1\.50 \(minimum version 1\.24\)/)
    assert.equal((await ok('version', '--format', '{{.Server.APIVersion}}')).trim(), '1.50')
    assert.equal((await ok('version', '--format', '{{.Server.MinAPIVersion}}')).trim(), '1.24')
  })

  it('docker info reports images, server version, storage driver and root dir', async () => {
    const out = await ok('info')
    assert.match(out, /^ Images: 0$/m)
    assert.match(out, /^ Server Version: \S+/m)
    assert.match(out, /^ Storage Driver: overlay2$/m)
    assert.match(out, new RegExp(`^ Docker Root Dir: ${h.dataRoot}$`, 'm'))
    assert.equal((await ok('info', '--format', '{{.Driver}}|{{.DockerRootDir}}')).trim(), `overlay2|${h.dataRoot}`)
  })

  it('docker load -i and docker load < file', async () => {
    assert.equal((await ok('load', '-i', await fixture('busybox'))).trim(), 'Loaded image: busybox:latest')
    const r = await runCmd('docker', ['load'], { host: h.host, input: await readFile(await fixture('hello-world')) })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'Loaded image: hello-world:latest')
    busyboxId = (await ok('image', 'inspect', '-f', '{{.Id}}', 'busybox')).trim()
    helloId = (await ok('image', 'inspect', '-f', '{{.Id}}', 'hello-world')).trim()
    assert.match(busyboxId, BUSYBOX_ID)
    assert.match(helloId, BUSYBOX_ID)
    assert.equal((await ok('info', '--format', '{{.Images}}')).trim(), '2')
    // Loading the same archive again is a no-op that says the same thing.
    assert.equal((await ok('load', '-i', await fixture('busybox'))).trim(), 'Loaded image: busybox:latest')
    assert.equal((await ok('info', '--format', '{{.Images}}')).trim(), '2')
  })

  it('docker load of a corrupt or truncated file fails and loads nothing', async () => {
    const junk = join(work, 'junk.tar')
    await writeFile(junk, randomBytes(3 << 20))
    let r = await docker(h, 'load', '-i', junk)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /archive\/tar: invalid tar header/)
    const half = join(work, 'half.tar')
    const bb = await readFile(await fixture('busybox'))
    await writeFile(half, bb.subarray(0, bb.length >> 1))
    r = await docker(h, 'load', '-i', half)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /unexpected EOF/)
    assert.equal((await ok('info', '--format', '{{.Images}}')).trim(), '2')
  })

  it('docker images: default table, --format, -q, --digests, --no-trunc', async () => {
    const table = lines(await ok('images'))
    assert.match(table[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/)
    assert.ok(table.some((l) => new RegExp(`^busybox\\s+latest\\s+${busyboxId.slice(7, 19)}\\s`).test(l)), table.join('\n'))
    assert.ok(table.some((l) => new RegExp(`^hello-world\\s+latest\\s+${helloId.slice(7, 19)}\\s`).test(l)), table.join('\n'))

    assert.deepEqual(lines(await ok('images', '--format', '{{.Repository}}:{{.Tag}}')).sort(), ['busybox:latest', 'hello-world:latest'])

    const json = lines(await ok('images', '--format', '{{json .}}')).map((l) => JSON.parse(l) as Record<string, string>)
    const bb = json.find((j) => j.Repository === 'busybox')!
    assert.equal(bb.Tag, 'latest')
    assert.equal(bb.ID, busyboxId.slice(7, 19))
    assert.match(bb.Size!, /MB$/)
    assert.equal(bb.CreatedAt, '2024-01-01 00:00:00 +0000 UTC')

    const custom = lines(await ok('images', '--format', 'table {{.Repository}}\t{{.ID}}'))
    assert.match(custom[0]!, /^REPOSITORY\s+IMAGE ID$/)
    assert.equal(custom.length, 3)

    assert.deepEqual(lines(await ok('images', '-q')).sort(), [busyboxId.slice(7, 19), helloId.slice(7, 19)].sort())
    assert.deepEqual(lines(await ok('images', '-q', '--no-trunc')).sort(), [busyboxId, helloId].sort())

    const digests = lines(await ok('images', '--digests'))
    assert.match(digests[0]!, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/)
    assert.ok(digests.slice(1).every((l) => /\s<none>\s/.test(l)), 'loaded images have no repo digest')

    const noTrunc = await ok('images', '--no-trunc')
    assert.ok(noTrunc.includes(busyboxId), noTrunc)
  })

  it('docker tag, and the CLI rejects invalid tags', async () => {
    await ok('tag', 'busybox', 'myrepo/bb:v1')
    await ok('tag', busyboxId.slice(7, 19), 'localhost:5000/team/bb:2')
    assert.equal((await ok('image', 'inspect', '-f', '{{.Id}}', 'myrepo/bb:v1')).trim(), busyboxId)
    assert.equal((await ok('image', 'inspect', '-f', '{{.Id}}', 'localhost:5000/team/bb:2')).trim(), busyboxId)

    let r = await docker(h, 'tag', 'busybox', 'Bad:tag')
    assert.equal(r.code, 1)
    assert.match(r.stderr, /invalid reference format: repository name \(library\/Bad\) must be lowercase/)
    r = await docker(h, 'tag', 'busybox', 'ok:bad tag!')
    assert.equal(r.code, 1)
    assert.match(r.stderr, /"ok:bad tag!" is not a valid repository\/tag: invalid reference format/)
    r = await docker(h, 'tag', 'nope', 'x:1')
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), 'Error response from daemon: No such image: nope:latest')
  })

  it('docker image inspect -f, docker inspect', async () => {
    assert.equal((await ok('image', 'inspect', '-f', '{{.Id}}', 'busybox')).trim(), busyboxId)
    assert.equal((await ok('image', 'inspect', '-f', '{{.Config.Cmd}}', 'busybox')).trim(), '[sh]')
    assert.equal((await ok('image', 'inspect', '-f', '{{.Os}}/{{.Architecture}} {{.GraphDriver.Name}}', 'busybox')).trim(), 'linux/amd64 overlay2')
    const arr = JSON.parse(await ok('inspect', 'busybox')) as Array<Record<string, unknown>>
    assert.equal(arr.length, 1)
    assert.equal(arr[0]!.Id, busyboxId)
    assert.deepEqual([...(arr[0]!.RepoTags as string[])].sort(), ['busybox:latest', 'localhost:5000/team/bb:2', 'myrepo/bb:v1'])
    assert.equal((await ok('inspect', '--type', 'image', '-f', '{{len .RootFS.Layers}}', 'busybox')).trim(), '1')
    const r = await docker(h, 'image', 'inspect', 'nope')
    assert.equal(r.code, 1)
    assert.match(r.stderr, /No such image: nope/)
  })

  it('docker history (+ --no-trunc, -q, --format)', async () => {
    const rows = lines(await ok('history', 'busybox'))
    assert.match(rows[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/)
    assert.equal(rows.length, 3)
    assert.ok(rows[1]!.startsWith(busyboxId.slice(7, 19)))
    assert.ok(rows[2]!.startsWith('<missing>'))
    assert.ok(rows[2]!.includes('…'), 'long CREATED BY is truncated')
    const full = lines(await ok('history', '--no-trunc', 'busybox'))
    assert.ok(full[1]!.startsWith(busyboxId))
    assert.ok(!full[2]!.includes('…'))
    assert.deepEqual(lines(await ok('history', '-q', 'busybox')), [busyboxId.slice(7, 19), '<missing>'])
    const fmt = lines(await ok('history', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}', 'busybox'))
    assert.equal(fmt[0], `${busyboxId.slice(7, 19)}|CMD ["sh"]|0B`)
    assert.match(fmt[1]!, /^<missing>\|BusyBox .*\|1\.98MB$/)
    const r = await docker(h, 'history', 'nope')
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), 'Error response from daemon: No such image: nope:latest')
  })

  it('docker save -> rmi -> load keeps the image ID; save to stdout', async () => {
    const out = join(work, 'bb.tar')
    await ok('save', '-o', out, 'busybox')
    assert.ok((await stat(out)).size > 1_000_000)
    const rmi = lines(await ok('rmi', 'busybox', 'myrepo/bb:v1', 'localhost:5000/team/bb:2'))
    assert.deepEqual(rmi, [
      'Untagged: busybox:latest',
      'Untagged: myrepo/bb:v1',
      'Untagged: localhost:5000/team/bb:2',
      `Deleted: ${busyboxId}`,
      'Deleted: sha256:6551eb04db483f50d4c06fd458ae069e1a7c5515e6c1eda6b9b5b19a8b2b32ab',
    ])
    assert.equal((await docker(h, 'image', 'inspect', 'busybox')).code, 1)
    assert.equal((await ok('load', '-i', out)).trim(), 'Loaded image: busybox:latest')
    assert.equal((await ok('image', 'inspect', '-f', '{{.Id}}', 'busybox')).trim(), busyboxId)

    // To stdout (not a terminal), then back in after removing it.
    const piped = join(work, 'piped.tar')
    const r = await sh(`docker save busybox > '${piped}'`)
    assert.equal(r.code, 0, r.stderr)
    await ok('rmi', 'busybox')
    const back = await sh(`docker load < '${piped}'`)
    assert.equal(back.code, 0, back.stderr)
    assert.equal(back.stdout.trim(), 'Loaded image: busybox:latest')
    assert.equal((await ok('image', 'inspect', '-f', '{{.Id}}', 'busybox')).trim(), busyboxId)

    const nope = await docker(h, 'save', '-o', join(work, 'nope.tar'), 'nope')
    assert.equal(nope.code, 1)
    assert.match(nope.stderr, /No such image: nope/)
  })

  it('docker import with --change and -m', async () => {
    const id = (await ok('import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV A=b', '--change', 'LABEL team=berth', '-m', 'imported for tests', rootfsTar, 'imp:1')).trim()
    assert.match(id, BUSYBOX_ID)
    const cfg = JSON.parse(await ok('image', 'inspect', '-f', '{{json .Config}}', 'imp:1')) as { Cmd: string[]; Env: string[]; Labels: Record<string, string> }
    assert.deepEqual(cfg.Cmd, ['/bin/sh'])
    assert.deepEqual(cfg.Env, ['A=b'])
    assert.deepEqual(cfg.Labels, { team: 'berth' })
    assert.equal((await ok('image', 'inspect', '-f', '{{.Comment}}', 'imp:1')).trim(), 'imported for tests')
    assert.equal((await ok('image', 'inspect', '-f', '{{.Id}}', 'imp:1')).trim(), id)
    const hist = lines(await ok('history', '--format', '{{.Comment}}|{{.Size}}', 'imp:1'))
    assert.deepEqual(hist, ['imported for tests|18B'])

    // From stdin, and without a name (a dangling image).
    const r = await runCmd('docker', ['import', '-'], { host: h.host, input: await readFile(rootfsTar) })
    assert.equal(r.code, 0, r.stderr)
    const dangling = r.stdout.trim()
    assert.match(dangling, BUSYBOX_ID)
    assert.equal((await ok('image', 'inspect', '-f', '{{.Comment}}', dangling)).trim(), 'Imported from -')

    const bad = await docker(h, 'import', '--change', 'FOO bar', rootfsTar)
    assert.equal(bad.code, 1)
    assert.equal(bad.stderr.trim(), 'Error response from daemon: foo is not a valid change command')
  })

  it('docker images filters: dangling, label, reference, before, since', async () => {
    const names = async (...f: string[]) => lines(await ok('images', ...f.flatMap((x) => ['--filter', x]), '--format', '{{.Repository}}:{{.Tag}}')).sort()
    assert.deepEqual(await names('dangling=true'), ['<none>:<none>'])
    assert.deepEqual(await names('dangling=false'), ['busybox:latest', 'hello-world:latest', 'imp:1'])
    assert.deepEqual(await names('label=team'), ['imp:1'])
    assert.deepEqual(await names('label=team=berth'), ['imp:1'])
    assert.deepEqual(await names('label=team=other'), [])
    assert.deepEqual(await names('reference=busy*'), ['busybox:latest'])
    assert.deepEqual(await names('reference=*:latest'), ['busybox:latest', 'hello-world:latest'])
    // The fixtures were made in 2024; the imports now.
    assert.deepEqual(await names('before=imp:1'), ['busybox:latest', 'hello-world:latest'])
    assert.deepEqual(await names('since=busybox', 'dangling=false'), ['imp:1'])
    const r = await docker(h, 'images', '--filter', 'bogus=1')
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), "Error response from daemon: invalid filter 'bogus'")
  })

  it('docker rmi: conflicts, -f, unknown image', async () => {
    await ok('tag', 'busybox', 'second/repo:x')
    let r = await docker(h, 'rmi', busyboxId.slice(7, 19))
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), `Error response from daemon: conflict: unable to delete ${busyboxId.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`)
    assert.equal((await ok('image', 'inspect', '-f', '{{.Id}}', 'second/repo:x')).trim(), busyboxId, 'nothing removed after a conflict')

    r = await docker(h, 'rmi', 'nope')
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim(), 'Error response from daemon: No such image: nope:latest')

    const forced = lines(await ok('rmi', '-f', busyboxId.slice(7, 19)))
    assert.deepEqual(forced.filter((l) => l.startsWith('Untagged:')).sort(), ['Untagged: busybox:latest', 'Untagged: second/repo:x'])
    assert.ok(forced.includes(`Deleted: ${busyboxId}`))
    assert.equal((await docker(h, 'image', 'inspect', busyboxId)).code, 1)
    await ok('load', '-i', await fixture('busybox'))
  })

  it('docker system df (and -v)', async () => {
    const df = lines(await ok('system', 'df'))
    assert.match(df[0]!, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/)
    assert.match(df.find((l) => l.startsWith('Images'))!, /^Images\s+4\s+0\s+/)
    const rows = lines(await ok('system', 'df', '--format', '{{json .}}')).map((l) => JSON.parse(l) as Record<string, string>)
    assert.equal(rows.find((x) => x.Type === 'Images')?.TotalCount, '4')
    const v = await ok('system', 'df', '-v')
    assert.match(v, /^Images space usage:$/m)
    assert.match(v, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS$/m)
    assert.match(v, new RegExp(`^busybox\\s+latest\\s+${busyboxId.slice(7, 19)}\\s`, 'm'))
    // imp:1 and the dangling import share their one layer.
    assert.match(v, /^imp\s+1\s+[a-f0-9]{12}\s+.*\s18B\s+18B\s+0B\s+0$/m)
  })

  it('docker events --since/--until sees tag, untag, delete, import, load, save', async () => {
    await new Promise((r) => setTimeout(r, 20))
    const until = (Date.now() / 1000).toFixed(3)
    const evs = lines(await ok('events', '--since', t0, '--until', until, '--format', '{{json .}}')).map((l) => JSON.parse(l) as { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> } })
    const actions = new Set(evs.map((e) => e.Action))
    for (const a of ['tag', 'untag', 'delete', 'import', 'load', 'save']) assert.ok(actions.has(a), `missing ${a} event in ${[...actions].join(',')}`)
    assert.ok(evs.every((e) => e.Type === 'image'))
    const tags = lines(await ok('events', '--since', t0, '--until', until, '--filter', 'type=image', '--filter', 'event=tag', '--format', '{{json .}}'))
      .map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string; Attributes: Record<string, string> } })
    assert.ok(tags.every((e) => e.Action === 'tag'))
    // `docker import ... imp:1` tags the new image, with its own tag event (as Docker's TagImage logs one).
    assert.deepEqual(tags.map((e) => e.Actor.Attributes.name), ['myrepo/bb:v1', 'localhost:5000/team/bb:2', 'imp:1', 'second/repo:x'])
    assert.equal(tags[0]!.Actor.ID, busyboxId)
    // The default format is Docker's one-line form.
    const plain = lines(await ok('events', '--since', t0, '--until', until, '--filter', 'event=import'))
    assert.ok(plain.length === 2 && plain.every((l) => / image import sha256:[a-f0-9]{64} \(/.test(l)), plain.join('\n'))
  })

  it('docker image prune removes only dangling images; prune -a removes the rest', async () => {
    const before = lines(await ok('images', '-a', '-q', '--no-trunc'))
    assert.equal(before.length, 4)
    const out = await ok('image', 'prune', '-f')
    assert.match(out, /^Deleted Images:$/m)
    assert.match(out, /^deleted: sha256:[a-f0-9]{64}$/m)
    assert.match(out, /^Total reclaimed space: /m)
    assert.deepEqual(lines(await ok('images', '--format', '{{.Repository}}:{{.Tag}}')).sort(), ['busybox:latest', 'hello-world:latest', 'imp:1'])
    // Nothing dangling is left: a second prune deletes nothing.
    assert.equal((await ok('image', 'prune', '-f')).trim(), 'Total reclaimed space: 0B')
    const all = await ok('image', 'prune', '-a', '-f')
    assert.match(all, /^untagged: busybox:latest$/m)
    assert.match(all, /^untagged: imp:1$/m)
    assert.match(all, new RegExp(`^deleted: ${busyboxId}$`, 'm'))
    assert.deepEqual(lines(await ok('images', '-a', '-q')), [])
    assert.equal((await ok('info', '--format', '{{.Images}}')).trim(), '0')
  })
})

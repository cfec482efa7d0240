/**
 * Issue 12, containers: commit of an exited (or just exiting) container with the default
 * pause=true, container prune's SpaceReclaimed, the archive endpoints on a never-started
 * container's volumes, and legacy links, with the real docker CLI.
 */
import { after, before, beforeEach, it } from 'node:test'
import assert from 'node:assert/strict'
import { api, berth, fixture, startDaemon, type DaemonHandle } from './harness.js'
import { dockerSuite, waitFor } from './image-helpers.js'
import { dockerIn, dockerT, forceCleanup, listedContainerIds, mountsOf } from './container-helpers.js'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

dockerSuite('docker CLI: containers, issue 12 misc', () => {
  let h: DaemonHandle
  const ok = async (...args: string[]): Promise<string> => {
    const r = await dockerT(h, 30, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }

  before(async () => {
    h = await startDaemon()
    await ok('load', '-i', await fixture('busybox'))
  })
  beforeEach(async () => {
    for (const id of await listedContainerIds(h)) await api(h, 'DELETE', `/containers/${id}?force=1`)
  })
  after(async () => {
    if (h) {
      await forceCleanup(h).catch(() => {})
      await h.cleanup()
    }
  })

  it('docker commit of an exited container (pause=true by default) works, also right as it exits', async () => {
    await ok('run', '--name', 'done', 'busybox', 'sh', '-c', 'echo committed > /f')
    await ok('commit', 'done', 'fromexited:1')
    assert.equal((await ok('run', '--rm', 'fromexited:1', 'cat', '/f')).trim(), 'committed')
    // Through the API with pause=1 spelled out, on containers that exit around the commit.
    for (let i = 0; i < 6; i++) {
      const id = (await ok('run', '-d', 'busybox', 'sh', '-c', `echo ${i} > /g`)).trim()
      const r = await api(h, 'POST', `/commit?container=${id}&repo=racing&tag=${i}&pause=1`)
      assert.equal(r.status, 201, `commit ${i}: ${r.body.toString()}`)
    }
  })

  it('container prune reports the writable layers it freed as SpaceReclaimed', async () => {
    await ok('run', '--name', 'big', 'busybox', 'dd', 'if=/dev/zero', 'of=/big', 'bs=1024', 'count=2048')
    await ok('run', '--name', 'small', 'busybox', 'true')
    const r = await api(h, 'POST', '/containers/prune')
    assert.equal(r.status, 200)
    const out = r.json() as Json
    assert.equal(out.ContainersDeleted.length, 2)
    assert.ok(out.SpaceReclaimed >= 2048 * 1024, `SpaceReclaimed ${out.SpaceReclaimed}`)
    assert.ok(out.SpaceReclaimed < 4 * 1024 * 1024, `SpaceReclaimed ${out.SpaceReclaimed}`)
  })

  it('docker cp into, out of and HEAD on the volumes of a never-started container; nothing stays mounted', async () => {
    const before = await mountsOf(h)
    await ok('create', '--name', 'fresh', '-v', 'cpvol:/vol1', '-v', '/vol2', 'busybox', 'true')
    const dir = await mkdtemp(join(tmpdir(), 'ctr-cp-'))
    try {
      await writeFile(join(dir, 'hello.txt'), 'into the volume\n')
      await ok('cp', join(dir, 'hello.txt'), 'fresh:/vol1/hello.txt')
      await ok('cp', join(dir, 'hello.txt'), 'fresh:/vol2/')
      const head = await api(h, 'HEAD', '/containers/fresh/archive?path=/vol1/hello.txt')
      assert.equal(head.status, 200)
      const get = await api(h, 'GET', '/containers/fresh/archive?path=/vol1')
      assert.equal(get.status, 200)
      assert.ok(get.body.includes(Buffer.from('into the volume')), 'the tar of /vol1 has the file')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    // The mounts go once the last copy has finished (just after its answer).
    await waitFor('the copy mounts to go', async () => (await mountsOf(h)).length === before.length, 5000)
    assert.deepEqual(await mountsOf(h), before, 'the copy mounts are gone')
    // The file is in the volume itself, not in the container's layer.
    assert.equal((await ok('run', '--rm', '-v', 'cpvol:/data', 'busybox', 'cat', '/data/hello.txt')).trim(), 'into the volume')
    assert.equal((await ok('start', '-a', 'fresh')).trim(), '')
    const r = await dockerIn(h, 30, '', 'run', '--rm', '--volumes-from', 'fresh', 'busybox', 'cat', '/vol2/hello.txt')
    assert.equal(r.stdout.trim(), 'into the volume', r.stderr)
  })

  it('--link name:alias gives Docker\'s link variables; docker rm --link removes the link', async () => {
    await ok('run', '-d', '--name', 'db', '-e', 'DBPASS=secret', '--expose', '5432', '--expose', '53/udp', 'busybox', 'sleep', '1000')
    const ip = (JSON.parse(await ok('inspect', 'db')) as Json[])[0].NetworkSettings.IPAddress as string
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/)
    const env = (await ok('run', '--name', 'web', '--link', 'db:my-db', 'busybox', 'env')).split('\n')
    for (const want of [
      'MY_DB_NAME=/web/my-db',
      `MY_DB_PORT=udp://${ip}:53`,
      `MY_DB_PORT_5432_TCP=tcp://${ip}:5432`,
      `MY_DB_PORT_5432_TCP_ADDR=${ip}`,
      'MY_DB_PORT_5432_TCP_PORT=5432',
      'MY_DB_PORT_5432_TCP_PROTO=tcp',
      `MY_DB_PORT_53_UDP=udp://${ip}:53`,
      'MY_DB_ENV_DBPASS=secret',
    ]) assert.ok(env.includes(want), `${want} in ${env.join(' ')}`)
    assert.ok(!env.some((e) => e.startsWith('MY_DB_ENV_PATH=')), 'PATH is not passed on')
    assert.deepEqual((JSON.parse(await ok('inspect', 'web')) as Json[])[0].HostConfig.Links, ['/db:/web/my-db'])
    assert.equal((await dockerT(h, 30, 'rm', '--link', '/web/my-db')).code, 0)
    assert.equal((JSON.parse(await ok('inspect', 'web')) as Json[])[0].HostConfig.Links, null)
    const again = await dockerT(h, 30, 'rm', '--link', '/web/my-db')
    assert.notEqual(again.code, 0)
    assert.match(again.stderr, /No such container/)
  })

  it('berth create / run print a daemon error as docker 28.2.2 does (create: plain, exit 1; run: docker: ..., exit 125)', async () => {
    for (const args of [['create', '--restart', 'bogus', 'busybox'], ['run', '--restart', 'bogus', 'busybox'], ['create', '--name', 'x/y', 'busybox'], ['run', '--rm', 'busybox', 'nosuchcmd']]) {
      const d = await dockerT(h, 30, ...args)
      const b = await berth(h, ...args)
      assert.notEqual(d.code, 0)
      assert.equal(b.code, d.code, `${args.join(' ')}: exit status`)
      assert.equal(b.stderr.replaceAll('berth', 'docker'), d.stderr, `${args.join(' ')}: stderr`)
    }
  })
})

/**
 * The real docker CLI against berthd: named and anonymous volumes, binds and tmpfs, as Docker
 * users manage them (create/ls/inspect/rm/prune, -v, --mount, --tmpfs, --volumes-from, image
 * VOLUME, copy-up, rm -v), with Docker's errors for bad input. berth's volume commands are
 * compared with docker's.
 */
import { after, before, beforeEach, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, berth, type DaemonHandle } from './harness.js'
import { dockerSuite } from './image-helpers.js'
import { busyboxDaemon, dockerT, mountsOf } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

dockerSuite('docker CLI: volumes', () => {
  let h: DaemonHandle
  let hostDir: string

  const ok = async (...args: string[]): Promise<string> => {
    const r = await dockerT(h, 30, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }
  const d = (...args: string[]) => dockerT(h, 30, ...args)
  const volumeNames = async () => (await ok('volume', 'ls', '-q')).split('\n').filter(Boolean).sort()

  const daemon = busyboxDaemon()
  before(async () => {
    h = daemon.h
    hostDir = await mkdtemp(join(tmpdir(), 'berth-vol-host-'))
  })
  // After busyboxDaemon's own: the containers are gone, so every volume can go too.
  beforeEach(async () => {
    for (const v of await volumeNames()) await api(h, 'DELETE', `/volumes/${v}?force=1`)
  })
  after(async () => {
    if (hostDir) await rm(hostDir, { recursive: true, force: true })
  })

  it('data written through one container is read by another, survives removal and a berthd restart', async () => {
    assert.equal((await ok('volume', 'create', '--label', 'team=a', 'shared')).trim(), 'shared')
    await ok('run', '--rm', '-v', 'shared:/data', 'busybox', 'sh', '-c', 'echo hello > /data/greeting')
    assert.equal(await ok('run', '--rm', '-v', 'shared:/in', 'busybox', 'cat', '/in/greeting'), 'hello\n')
    await h.restart()
    assert.equal(await ok('run', '--rm', '--mount', 'type=volume,source=shared,target=/m', 'busybox', 'cat', '/m/greeting'), 'hello\n')
    const v = (JSON.parse(await ok('volume', 'inspect', 'shared')) as Json[])[0]
    assert.equal(v.Name, 'shared')
    assert.equal(v.Driver, 'local')
    assert.equal(v.Scope, 'local')
    assert.deepEqual(v.Labels, { team: 'a' })
    assert.ok((await stat(join(v.Mountpoint, 'greeting'))).isFile(), 'Mountpoint is the data directory on the host')
    assert.equal((await ok('volume', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}}')).trim(), 'shared')
  })

  it('a new volume over a non-empty image directory is filled with its content, ownership and modes kept; nocopy does not', async () => {
    const out = await ok('run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'sh', '-c', 'stat -c "%U %a %n" /etc/passwd /etc; cat /etc/passwd | head -1')
    assert.match(out, /^root 644 \/etc\/passwd$/m)
    assert.match(out, /^root:x:0:0:/m)
    // Copy-up happens once: what the user then changes stays.
    await ok('run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'rm', '/etc/group')
    assert.equal((await d('run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'test', '-e', '/etc/group')).code, 1)
    const empty = await ok('run', '--rm', '--mount', 'type=volume,source=nocp,target=/etc,volume-nocopy', 'busybox', 'sh', '-c', 'ls -A /etc | wc -l')
    assert.equal(empty.trim(), '3', 'only the runtime\'s hostname, hosts and resolv.conf')
  })

  it('anonymous volumes: -v /path and image VOLUME; rm -v and run --rm remove them, named ones stay', async () => {
    await ok('run', '--name', 'anon', '-v', '/scratch', '-v', 'keep:/keep', 'busybox', 'sh', '-c', 'echo x > /scratch/f; echo y > /keep/f')
    const mounts = (JSON.parse(await ok('inspect', 'anon')) as Json[])[0].Mounts as Json[]
    const anon = mounts.find((m) => m.Destination === '/scratch')
    const named = mounts.find((m) => m.Destination === '/keep')
    assert.equal(anon.Type, 'volume')
    assert.match(anon.Name, /^[0-9a-f]{64}$/)
    assert.equal(named.Name, 'keep')
    assert.equal(named.Mode, 'z')
    assert.equal(named.RW, true)
    assert.deepEqual(await volumeNames(), [anon.Name, 'keep'].sort())
    await ok('rm', '-v', 'anon')
    assert.deepEqual(await volumeNames(), ['keep'])
    await ok('run', '--rm', '-v', '/tmpvol', 'busybox', 'true')
    assert.deepEqual(await volumeNames(), ['keep'], 'run --rm takes its anonymous volume along')
  })

  it('binds: -v creates a missing host path, --mount refuses it; read-only binds and volumes are enforced', async () => {
    await writeFile(join(hostDir, 'file'), 'from host\n')
    assert.equal(await ok('run', '--rm', '-v', `${hostDir}:/h`, 'busybox', 'cat', '/h/file'), 'from host\n')
    const missing = join(hostDir, 'made', 'by', 'v')
    await ok('run', '--rm', '-v', `${missing}:/m`, 'busybox', 'true')
    assert.ok((await stat(missing)).isDirectory())
    const refused = await d('run', '--rm', '--mount', `type=bind,source=${join(hostDir, 'nope')},target=/m`, 'busybox', 'true')
    assert.equal(refused.code, 125)
    assert.match(refused.stderr, /invalid mount config for type "bind": bind source path does not exist: .*\/nope/)
    await assert.rejects(stat(join(hostDir, 'nope')))
    const ro = await d('run', '--rm', '-v', `${hostDir}:/h:ro`, 'busybox', 'touch', '/h/new')
    assert.notEqual(ro.code, 0)
    assert.match(ro.stderr, /Read-only file system/)
    const roMount = await d('run', '--rm', '--mount', 'type=volume,source=rovol,target=/v,readonly', 'busybox', 'touch', '/v/x')
    assert.match(roMount.stderr, /Read-only file system/)
  })

  it('--tmpfs and --mount type=tmpfs: size limits and options', async () => {
    const out = await ok('run', '--rm', '--tmpfs', '/t:size=1m', 'busybox', 'sh', '-c', 'grep " /t " /proc/mounts; dd if=/dev/zero of=/t/big bs=1M count=3 2>/dev/null; du -k /t/big')
    assert.match(out, /tmpfs \/t tmpfs rw,nosuid,nodev,noexec/)
    assert.ok(Number(out.trim().split('\n').at(-1)!.split(/\s+/)[0]) <= 1024, out)
    const m = await ok('run', '--rm', '--mount', 'type=tmpfs,target=/m,tmpfs-size=2097152,tmpfs-mode=1770', 'busybox', 'sh', '-c', 'stat -c %a /m; grep " /m " /proc/mounts')
    assert.match(m, /^1770$/m)
    assert.match(m, /size=2048k/)
  })

  it('--volumes-from shares another container\'s volumes and binds, :ro makes them read-only', async () => {
    await ok('create', '--name', 'source', '-v', 'data1:/data', '-v', `${hostDir}:/host`, 'busybox', 'true')
    await ok('run', '--rm', '--volumes-from', 'source', 'busybox', 'sh', '-c', 'echo shared > /data/x; ls /host >/dev/null')
    assert.equal(await ok('run', '--rm', '-v', 'data1:/d', 'busybox', 'cat', '/d/x'), 'shared\n')
    const ro = await d('run', '--rm', '--volumes-from', 'source:ro', 'busybox', 'touch', '/data/y')
    assert.match(ro.stderr, /Read-only file system/)
  })

  it('rm and prune: in use is a conflict; prune takes anonymous ones unless --all, and honours filters', async () => {
    await ok('run', '-d', '--name', 'user', '-v', 'busy:/b', 'busybox', 'sleep', '100')
    const inUse = await d('volume', 'rm', 'busy')
    assert.equal(inUse.code, 1)
    assert.match(inUse.stderr, /Error response from daemon: remove busy: volume is in use - \[[0-9a-f]{64}\]/)
    await ok('volume', 'create', 'named1')
    await ok('volume', 'create', '--label', 'keep=yes', 'named2')
    await ok('run', '--name', 'gone', '-v', '/anon', 'busybox', 'true')
    await ok('rm', 'gone')
    const anonName = (await volumeNames()).find((n) => /^[0-9a-f]{64}$/.test(n))!
    assert.ok(anonName)
    assert.equal((await ok('volume', 'ls', '-q', '--filter', 'dangling=true')).split('\n').filter(Boolean).sort().join(','), [anonName, 'named1', 'named2'].sort().join(','))
    const p1 = await ok('volume', 'prune', '-f')
    assert.match(p1, new RegExp(`Deleted Volumes:\\n${anonName}\\n`))
    assert.deepEqual(await volumeNames(), ['busy', 'named1', 'named2'])
    await ok('volume', 'prune', '-f', '--all', '--filter', 'label!=keep=yes')
    assert.deepEqual(await volumeNames(), ['busy', 'named2'])
    await ok('rm', '-f', 'user')
  })

  it('a volume with local driver options (-o type=tmpfs) is mounted while used and unmounted after', async () => {
    await ok('volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'tmpvol')
    const v = (JSON.parse(await ok('volume', 'inspect', 'tmpvol')) as Json[])[0]
    assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' })
    await ok('run', '-d', '--name', 'tv', '-v', 'tmpvol:/t', 'busybox', 'sleep', '100')
    const mounted = await ok('exec', 'tv', 'sh', '-c', 'grep " /t " /proc/mounts; dd if=/dev/zero of=/t/x bs=1M count=2 2>/dev/null; du -k /t/x')
    assert.match(mounted, /^tmpfs \/t tmpfs /m)
    assert.ok(Number(mounted.trim().split('\n').at(-1)!.split(/\s+/)[0]) <= 1024, mounted)
    assert.ok((await mountsOf(h)).includes(v.Mountpoint), 'mounted on the host while in use')
    await ok('rm', '-f', 'tv')
    assert.ok(!(await mountsOf(h)).includes(v.Mountpoint), 'unmounted after its last container')
    await ok('volume', 'rm', 'tmpvol')
  })

  it('bad input gets Docker\'s errors and changes nothing', async () => {
    const before = await volumeNames()
    const cases: Array<[string[], RegExp]> = [
      [['volume', 'create', '-d', 'nosuchdriver', 'x1'], /error looking up volume plugin nosuchdriver: plugin "nosuchdriver" not found/],
      [['volume', 'create', 'a'], /volume name is too short, names should be at least two alphanumeric characters/],
      [['volume', 'create', '-o', 'bogus=1', 'x2'], /invalid option key: "bogus"/],
      [['run', '--rm', '-v', 'rel/path:/x', 'busybox', 'true'], /includes invalid characters for a local volume name/],
      [['run', '--rm', '-v', 'v:/x:badmode', 'busybox', 'true'], /invalid mode: badmode/],
      [['run', '--rm', '-v', 'v1:/same', '-v', 'v2:/same', 'busybox', 'true'], /Duplicate mount point: \/same/],
      [['run', '--rm', '--mount', 'type=bind,source=relative,target=/x', 'busybox', 'true'], /invalid mount config for type "bind": invalid mount path: 'relative' mount path must be absolute/],
    ]
    for (const [args, msg] of cases) {
      const r = await d(...args)
      assert.notEqual(r.code, 0, args.join(' '))
      assert.match(r.stderr, msg, args.join(' '))
    }
    assert.deepEqual(await volumeNames(), before, 'no volume made by a failed command')
    assert.deepEqual((await ok('ps', '-aq')).trim(), '', 'no container left')
    const missing = await d('volume', 'inspect', 'nosuch')
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /Error response from daemon: get nosuch: no such volume/)
    assert.deepEqual(await mountsOf(h), [], 'no mount left')
  })

  it('berth volume commands behave as docker\'s', async () => {
    await ok('volume', 'create', 'bv1')
    for (const args of [['volume', 'ls'], ['volume', 'ls', '-q'], ['volume', 'inspect', 'bv1', '--format', '{{.Name}} {{.Driver}} {{.Scope}}'], ['volume', 'inspect', 'nosuch'], ['volume', 'create', 'bv2'], ['volume', 'rm', 'bv2', 'nosuch2']]) {
      if (args[1] === 'rm') await ok('volume', 'create', 'bv2')
      const k = await d(...args)
      if (args[1] === 'create') await ok('volume', 'rm', 'bv2')
      if (args[1] === 'rm') await ok('volume', 'create', 'bv2')
      const b = await berth(h, ...args)
      assert.equal(b.stdout, k.stdout, args.join(' '))
      assert.equal(b.stderr, k.stderr, args.join(' '))
      assert.equal(b.code, k.code, args.join(' '))
    }
    const data = await readdir(join(h.dataRoot, 'volumes'))
    assert.ok(data.includes('bv1'))
  })
})

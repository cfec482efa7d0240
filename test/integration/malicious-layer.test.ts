/**
 * Layers are untrusted: tar entries must never write outside the layer root. Each archive is
 * loaded through the API; the outcome must be either a clean refusal (200 with the error last in the stream, as dockerd answers) that left nothing behind, or a
 * load whose files all live inside `<dataRoot>/layers/<chain>/diff`. Then OCI whiteouts become
 * overlay whiteouts, checked on a real overlay mount.
 */
import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { access, lstat, mkdir, readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { api, runCmd, startDaemon, type DaemonHandle } from './harness.js'
import { listedIds, makeImageArchive, makeTar, rootSuite, settledSnapshot, sha256hex, type StoreSnapshot, type TarSpec } from './image-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

const RUN = `berth-evil-${randomBytes(4).toString('hex')}`
const exists = (p: string) => access(p).then(() => true, () => false)

rootSuite('malicious layers', () => {
  let h: DaemonHandle
  let passwd: { hash: string; mtimeMs: number; nlink: number; size: number }
  const mounts: string[] = []

  const passwdState = async () => {
    const st = await stat('/etc/passwd')
    return { hash: createHash('sha256').update(await readFile('/etc/passwd')).digest('hex'), mtimeMs: st.mtimeMs, nlink: st.nlink, size: st.size }
  }

  before(async () => {
    h = await startDaemon()
    passwd = await passwdState()
  })
  after(async () => {
    for (const m of mounts.reverse()) await runCmd('umount', [m])
    await h?.cleanup()
  })

  /**
   * Load a one-layer image made of `entries`. Returns the layer's diff dir when it loaded, or
   * undefined after checking that a refusal left the stores as they were.
   */
  const loadLayer = async (tag: string, entries: TarSpec[]): Promise<{ diff?: string; message?: string }> => {
    const base: StoreSnapshot = await settledSnapshot(h.dataRoot)
    const ids = await listedIds(h)
    const layer = await makeTar(entries)
    const { archive, ids: [id] } = await makeImageArchive([{ layers: [layer], tag }])
    // As dockerd: a load answers 200 and a refusal is the stream's last message, an error.
    const res = await api(h, 'POST', '/images/load', archive)
    assert.equal(res.status, 200, res.body.toString())
    const lines = res.body.toString().split(/\r?\n/).filter(Boolean).map((l) => JSON.parse(l) as Json)
    const failed = lines.find((l) => l.error !== undefined)
    if (!failed) {
      assert.equal(((await api(h, 'GET', `/images/${tag}/json`)).json() as Json).Id, id)
      return { diff: join(h.dataRoot, 'layers', sha256hex(layer), 'diff') }
    }
    const message = failed.errorDetail?.message as string
    assert.equal(message, failed.error)
    assert.match(message, /layer/)
    assert.deepEqual(await listedIds(h), ids)
    const now = await settledSnapshot(h.dataRoot)
    assert.deepEqual(now.layerTmp, [])
    assert.deepEqual(now.ingest, [])
    assert.deepEqual(now.blobs, base.blobs)
    assert.deepEqual(now.layers, base.layers)
    return { message }
  }

  const outside = (name: string) => ['/tmp', '/', '/etc', h.root, join(h.dataRoot, '..'), join(h.dataRoot, 'layers'), process.cwd()].map((d) => join(d, name))

  it('../ path components: refused or kept inside the layer', async () => {
    const name = `${RUN}-dotdot`
    const r = await loadLayer('evil:dotdot', [{ name: `../../../../tmp/${name}`, data: 'escaped?' }])
    if (r.diff) assert.ok(await exists(join(r.diff, 'tmp', name)), 'the file is inside the layer')
    else assert.match(r.message!, /contains '\.\.'|error extracting layer/)
    for (const p of outside(name)) assert.equal(await exists(p), false, p)
  })

  it('an absolute path lands inside the layer', async () => {
    const name = `${RUN}-abs`
    const r = await loadLayer('evil:abs', [{ name: `/tmp/${name}`, data: 'escaped?' }])
    assert.ok(r.diff, 'GNU tar strips the leading / and extracts it')
    assert.equal(await readFile(join(r.diff, 'tmp', name), 'utf8'), 'escaped?')
    for (const p of outside(name)) assert.equal(await exists(p), false, p)
  })

  it('a/../../x is refused', async () => {
    const name = `${RUN}-inner`
    const r = await loadLayer('evil:inner', [{ name: 'a/', type: 'directory' }, { name: `a/../../tmp/${name}`, data: 'escaped?' }])
    assert.equal(r.diff, undefined)
    for (const p of outside(name)) assert.equal(await exists(p), false, p)
  })

  it('a symlink to / followed by a file through it is refused', async () => {
    const name = `${RUN}-symlink`
    const r = await loadLayer('evil:symlink', [{ name: 'evil', type: 'symlink', linkname: '/' }, { name: `evil/tmp/${name}`, data: 'escaped?' }])
    assert.equal(r.diff, undefined)
    assert.match(r.message!, /Not a directory/)
    for (const p of outside(name)) assert.equal(await exists(p), false, p)
  })

  it('a relative symlink out of the root, and a symlinked directory, are refused', async () => {
    const n1 = `${RUN}-symrel`
    const r1 = await loadLayer('evil:symrel', [{ name: 'evil', type: 'symlink', linkname: '../../../../../../..' }, { name: `evil/tmp/${n1}`, data: 'x' }])
    assert.equal(r1.diff, undefined)
    const n2 = `${RUN}-symdir`
    const r2 = await loadLayer('evil:symdir', [{ name: 'd/', type: 'directory' }, { name: 'd/evil', type: 'symlink', linkname: '/tmp' }, { name: `d/evil/${n2}`, data: 'x' }])
    assert.equal(r2.diff, undefined)
    for (const p of [...outside(n1), ...outside(n2)]) assert.equal(await exists(p), false, p)
  })

  it('the same symlink trick in a layer big enough to be extracted while streaming', async () => {
    const name = `${RUN}-streamed`
    const r = await loadLayer('evil:streamed', [
      { name: 'padding', data: randomBytes(1_500_000) },
      { name: 'evil', type: 'symlink', linkname: '/' },
      { name: `evil/tmp/${name}`, data: 'escaped?' },
    ])
    assert.equal(r.diff, undefined)
    for (const p of outside(name)) assert.equal(await exists(p), false, p)
  })

  it('hard links to ../../etc/passwd, /etc/passwd or through a symlink do not touch /etc/passwd', async () => {
    const results = [
      await loadLayer('evil:hardlink', [{ name: 'pw', type: 'link', linkname: '../../etc/passwd' }]),
      await loadLayer('evil:hardabs', [{ name: 'pw', type: 'link', linkname: '/etc/passwd' }]),
      await loadLayer('evil:hardsym', [{ name: 'etc', type: 'symlink', linkname: '/etc' }, { name: 'pw', type: 'link', linkname: 'etc/passwd' }]),
      await loadLayer('evil:hardwrite', [{ name: 'pw', type: 'link', linkname: '/etc/passwd' }, { name: 'pw', data: 'root::0:0::/:/bin/sh\n' }]),
    ]
    for (const r of results) {
      if (r.diff) {
        // Loaded: whatever `pw` is, it is not the host's /etc/passwd.
        const st = await lstat(join(r.diff, 'pw')).catch(() => undefined)
        if (st) assert.notEqual(st.ino, (await stat('/etc/passwd')).ino)
      }
    }
    assert.deepEqual(await passwdState(), passwd, '/etc/passwd untouched')
  })

  it('no escaped file exists anywhere outside the data root', async () => {
    const r = await runCmd('find', ['/', '-xdev', '-name', `${RUN}*`, '-not', '-path', `${h.dataRoot}/*`])
    assert.equal(r.stdout.trim(), '', `escaped files: ${r.stdout}`)
  })

  it('whiteouts become overlay whiteouts: .wh.a is a 0/0 char device, .wh..wh..opq an opaque dir', async () => {
    const l1 = await makeTar([
      { name: 'a', data: 'to be deleted' },
      { name: 'keep', data: 'kept' },
      { name: 'd/', type: 'directory' },
      { name: 'd/x', data: 'hidden by the opaque dir' },
    ])
    const l2 = await makeTar([
      { name: '.wh.a', data: '' },
      { name: 'd/', type: 'directory' },
      { name: 'd/.wh..wh..opq', data: '' },
      { name: 'd/y', data: 'new' },
    ])
    const { archive, ids: [id] } = await makeImageArchive([{ layers: [l1, l2], tag: 'wh:1' }])
    const res = await api(h, 'POST', '/images/load', archive)
    assert.equal(res.status, 200, res.body.toString())
    const inspect = (await api(h, 'GET', '/images/wh:1/json')).json() as Json
    assert.equal(inspect.Id, id)
    const lower = join(h.dataRoot, 'layers', sha256hex(l1), 'diff')
    const upper = inspect.GraphDriver.Data.UpperDir as string
    assert.equal(inspect.GraphDriver.Data.LowerDir, lower)
    assert.ok(upper.startsWith(join(h.dataRoot, 'layers')))

    const st = await runCmd('stat', ['-c', '%F %t:%T', join(upper, 'a')])
    assert.equal(st.stdout.trim(), 'character special file 0:0')
    const attr = await runCmd('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(upper, 'd')])
    assert.equal(attr.code, 0, attr.stderr)
    assert.equal(attr.stdout, 'y')
    assert.deepEqual((await readdir(upper)).sort(), ['a', 'd'], 'no .wh. files are left in the diff')
    assert.deepEqual((await readdir(join(upper, 'd'))).sort(), ['y'])

    const mnt = join(h.root, 'mnt')
    const work = join(h.root, 'ovl-work')
    const up = join(h.root, 'ovl-upper')
    for (const d of [mnt, work, up]) await mkdir(d)
    const m = await runCmd('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${upper}:${lower},upperdir=${up},workdir=${work}`, mnt])
    assert.equal(m.code, 0, m.stderr)
    mounts.push(mnt)
    try {
      assert.deepEqual((await readdir(mnt)).sort(), ['d', 'keep'])
      assert.deepEqual(await readdir(join(mnt, 'd')), ['y'])
      assert.equal(await exists(join(mnt, 'a')), false)
      assert.equal(await readFile(join(mnt, 'keep'), 'utf8'), 'kept')
    } finally {
      const u = await runCmd('umount', [mnt])
      if (u.code === 0) mounts.splice(mounts.indexOf(mnt), 1)
    }
  })

  it('a whiteout cannot reach through a symlink', async () => {
    // `.wh.passwd` under a symlink to /etc: the whiteout must not become a device in /etc.
    const r = await loadLayer('evil:whsym', [{ name: 'etc', type: 'symlink', linkname: '/etc' }, { name: 'etc/.wh.passwd', data: '' }])
    if (r.diff) assert.equal((await lstat(join(r.diff, 'etc'))).isSymbolicLink(), true)
    assert.deepEqual(await passwdState(), passwd)
    assert.equal((await stat('/etc/passwd')).isFile(), true)
  })
})

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import tarStream from 'tar-stream'
import {
  BIG_SMALL,
  BUSYBOX_PASSWD,
  FIXED_EPOCH,
  MEDIA_OCI_CONFIG,
  MEDIA_OCI_INDEX,
  MEDIA_OCI_LAYER,
  MEDIA_OCI_MANIFEST,
  Prng,
  buildHelloElf,
  generateFixtures,
  helloMessage,
  hostArch,
  type FixtureResult,
} from './fixtures-lib.js'

const BUSYBOX = '/bin/busybox'
const haveBusybox = existsSync(BUSYBOX)
const skip = haveBusybox ? false : `${BUSYBOX} missing (apt-get install busybox-static)`

interface Entry {
  name: string
  type: string
  mode: number
  uid: number
  gid: number
  mtime: number
  linkname: string | null
  data: Buffer
}

/** Reads a whole tar (file path or bytes) with tar-stream: an independent parser. */
async function readTar(src: string | Buffer): Promise<Entry[]> {
  const ex = tarStream.extract()
  const input = typeof src === 'string' ? createReadStream(src) : Readable.from([src])
  input.pipe(ex)
  const out: Entry[] = []
  for await (const e of ex) {
    const chunks: Buffer[] = []
    for await (const c of e) chunks.push(c as Buffer)
    const h = e.header
    out.push({
      name: h.name,
      type: h.type ?? 'file',
      mode: h.mode ?? 0,
      uid: h.uid ?? -1,
      gid: h.gid ?? -1,
      mtime: (h.mtime?.getTime() ?? -1) / 1000,
      linkname: h.linkname ?? null,
      data: Buffer.concat(chunks),
    })
  }
  return out
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const fileSha = (p: string): string => sha256(readFileSync(p))

function byName(results: FixtureResult[], name: string): FixtureResult {
  const r = results.find((x) => x.name === name)
  assert.ok(r, `no result for ${name}`)
  return r
}

interface Checked {
  entries: Entry[]
  config: { architecture: string; os: string; created: string; config: Record<string, unknown>; rootfs: { diff_ids: string[] }; history: unknown[] }
  layers: Entry[][]
  imageId: string
}

/** Checks that a fixture archive is a consistent docker-save (Docker 25+) / OCI layout archive. */
async function checkArchive(path: string, repo: string, tag: string): Promise<Checked> {
  const entries = await readTar(path)
  const files = new Map(entries.filter((e) => e.type === 'file').map((e) => [e.name, e.data]))

  // Outer entries: fixed metadata and order.
  for (const e of entries) {
    assert.equal(e.uid, 0, e.name)
    assert.equal(e.gid, 0, e.name)
    assert.equal(e.mtime, FIXED_EPOCH, e.name)
    assert.equal(e.mode, e.type === 'directory' ? 0o755 : 0o644, e.name)
  }
  const names = entries.map((e) => e.name)
  assert.deepEqual(names.slice(0, 2), ['blobs/', 'blobs/sha256/'])
  assert.deepEqual(names.slice(-4), ['index.json', 'manifest.json', 'oci-layout', 'repositories'])
  const blobNames = names.slice(2, -4)
  assert.deepEqual(blobNames, [...blobNames].sort())
  for (const n of blobNames) {
    assert.match(n, /^blobs\/sha256\/[0-9a-f]{64}$/)
    assert.equal(sha256(files.get(n) ?? Buffer.alloc(0)), n.slice('blobs/sha256/'.length), `blob ${n} content matches its name`)
  }
  const blob = (digest: string): Buffer => {
    const b = files.get(`blobs/sha256/${digest.replace(/^sha256:/, '')}`)
    assert.ok(b, `blob ${digest} present`)
    return b
  }

  assert.deepEqual(JSON.parse(files.get('oci-layout')?.toString() ?? ''), { imageLayoutVersion: '1.0.0' })

  // manifest.json (docker archive)
  const manifest = JSON.parse(files.get('manifest.json')?.toString() ?? '') as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>
  assert.equal(manifest.length, 1)
  const m = manifest[0]!
  assert.deepEqual(m.RepoTags, [`${repo}:${tag}`])
  const configBytes = blob(m.Config.replace('blobs/sha256/', ''))
  const config = JSON.parse(configBytes.toString()) as Checked['config']
  const diffIds = m.Layers.map((l) => `sha256:${sha256(files.get(l) ?? Buffer.alloc(0))}`)
  assert.deepEqual(config.rootfs.diff_ids, diffIds, 'diff_ids are the sha256 of the layer tars')
  assert.deepEqual(
    m.Layers,
    diffIds.map((d) => `blobs/sha256/${d.slice(7)}`),
  )
  assert.equal(config.os, 'linux')
  assert.equal(config.architecture, hostArch())
  assert.equal(config.created, '2024-01-01T00:00:00Z')

  // index.json → OCI manifest → same config and layers
  const index = JSON.parse(files.get('index.json')?.toString() ?? '') as {
    schemaVersion: number
    mediaType: string
    manifests: Array<{ mediaType: string; digest: string; size: number; annotations: Record<string, string> }>
  }
  assert.equal(index.schemaVersion, 2)
  assert.equal(index.mediaType, MEDIA_OCI_INDEX)
  assert.equal(index.manifests.length, 1)
  const desc = index.manifests[0]!
  assert.equal(desc.mediaType, MEDIA_OCI_MANIFEST)
  const fq = repo.includes('/') ? `docker.io/${repo}:${tag}` : `docker.io/library/${repo}:${tag}`
  assert.deepEqual(desc.annotations, { 'io.containerd.image.name': fq, 'org.opencontainers.image.ref.name': tag })
  const ociManifestBytes = blob(desc.digest)
  assert.equal(ociManifestBytes.length, desc.size)
  const oci = JSON.parse(ociManifestBytes.toString()) as {
    schemaVersion: number
    mediaType: string
    config: { mediaType: string; digest: string; size: number }
    layers: Array<{ mediaType: string; digest: string; size: number }>
  }
  assert.equal(oci.schemaVersion, 2)
  assert.equal(oci.mediaType, MEDIA_OCI_MANIFEST)
  assert.deepEqual(oci.config, { mediaType: MEDIA_OCI_CONFIG, digest: `sha256:${sha256(configBytes)}`, size: configBytes.length })
  assert.deepEqual(
    oci.layers,
    m.Layers.map((l, i) => ({ mediaType: MEDIA_OCI_LAYER, digest: diffIds[i], size: files.get(l)?.length })),
  )

  // repositories (legacy): top layer
  const repositories = JSON.parse(files.get('repositories')?.toString() ?? '') as Record<string, Record<string, string>>
  assert.deepEqual(repositories, { [repo]: { [tag]: diffIds[diffIds.length - 1]?.slice(7) } })

  const layers: Entry[][] = []
  for (const l of m.Layers) {
    const layer = await readTar(files.get(l) ?? Buffer.alloc(0))
    checkLayer(layer)
    layers.push(layer)
  }
  return { entries, config, layers, imageId: `sha256:${sha256(configBytes)}` }
}

/** Layer entries: relative paths, parents before children, name-sorted, fixed owners and times. */
function checkLayer(layer: Entry[]): void {
  const seen = new Set<string>()
  const strip = (n: string): string => n.replace(/\/$/, '')
  for (const e of layer) {
    assert.ok(!e.name.startsWith('/') && !e.name.startsWith('./'), e.name)
    assert.equal(e.uid, 0, e.name)
    assert.equal(e.gid, 0, e.name)
    assert.equal(e.mtime, FIXED_EPOCH, e.name)
    const name = strip(e.name)
    const parent = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : ''
    if (parent !== '') assert.ok(seen.has(parent), `${name}: parent directory comes first`)
    if (e.type === 'link') assert.ok(seen.has(e.linkname ?? ''), `${name}: hard link target ${e.linkname} comes first`)
    assert.ok(!seen.has(name), `${name} appears once`)
    seen.add(name)
  }
}

describe('make-fixtures', { skip }, () => {
  let dirA = ''
  let dirB = ''
  let runA: FixtureResult[] = []
  let runB: FixtureResult[] = []

  before(() => {
    dirA = mkdtempSync(join(tmpdir(), 'berth-fixtures-a-'))
    dirB = mkdtempSync(join(tmpdir(), 'berth-fixtures-b-'))
    runA = generateFixtures({ outDir: dirA, big: true, bigParams: BIG_SMALL })
    runB = generateFixtures({ outDir: dirB, big: true, bigParams: BIG_SMALL })
  })
  after(() => {
    for (const d of [dirA, dirB]) if (d !== '') rmSync(d, { recursive: true, force: true })
  })

  test('two runs produce byte-identical archives', () => {
    assert.deepEqual(
      runA.map((r) => r.name),
      ['busybox.tar', 'hello-world.tar', 'bench-big.tar'],
    )
    for (const a of runA) {
      const b = byName(runB, a.name)
      assert.equal(a.cached, false)
      assert.equal(fileSha(a.path), fileSha(b.path), `${a.name} identical across runs`)
      assert.equal(a.archiveSha256, fileSha(a.path))
      assert.equal(a.imageId, b.imageId)
      assert.equal(readFileSync(`${a.path}.key`, 'utf8'), readFileSync(`${b.path}.key`, 'utf8'))
    }
    // No staging directories left behind.
    assert.deepEqual(
      execFileSync('ls', ['-A', dirA], { encoding: 'utf8' }).trim().split('\n').sort(),
      ['bench-big.tar', 'bench-big.tar.key', 'busybox.tar', 'busybox.tar.key', 'hello-world.tar', 'hello-world.tar.key'],
    )
  })

  test('a matching .key skips the rebuild; a stale one rebuilds the same bytes', () => {
    const before = runA.map((r) => [r.name, statSync(r.path).mtimeMs] as const)
    const again = generateFixtures({ outDir: dirA, big: true, bigParams: BIG_SMALL })
    assert.ok(again.every((r) => r.cached))
    for (const [name, mtime] of before) assert.equal(statSync(join(dirA, name)).mtimeMs, mtime)

    const bb = byName(runA, 'busybox.tar')
    const sum = fileSha(bb.path)
    writeFileSync(`${bb.path}.key`, 'stale\n')
    const rebuilt = byName(generateFixtures({ outDir: dirA }), 'busybox.tar')
    assert.equal(rebuilt.cached, false)
    assert.equal(fileSha(bb.path), sum)
  })

  test('busybox.tar: consistent archive with the official rootfs layout', async () => {
    const r = byName(runA, 'busybox.tar')
    const { config, layers, imageId } = await checkArchive(r.path, 'busybox', 'latest')
    assert.equal(imageId, r.imageId)
    assert.deepEqual(config.config['Cmd'], ['sh'])
    assert.deepEqual(config.config['Env'], ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'])
    assert.equal(config.history.length, 2)
    assert.equal(layers.length, 1)
    const layer = layers[0]!
    const get = (n: string): Entry | undefined => layer.find((e) => e.name === n)

    assert.equal(layer[0]?.name, 'bin/')
    const busyboxBytes = readFileSync(BUSYBOX)
    const first = get('bin/[')
    assert.equal(first?.type, 'file')
    assert.ok(first?.data.equals(busyboxBytes), 'bin/[ carries the busybox binary')
    for (const n of ['bin/busybox', 'bin/sh', 'bin/ls', 'bin/echo']) {
      const e = get(n)
      assert.equal(e?.type, 'link', n)
      assert.equal(e?.linkname, 'bin/[', n)
      assert.equal(e?.mode, 0o755, n)
    }
    const applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).trim().split('\n')
    for (const a of applets) assert.ok(get(`bin/${a.slice(a.lastIndexOf('/') + 1)}`), `applet ${a}`)

    assert.equal(get('tmp/')?.mode, 0o1777)
    assert.equal(get('root/')?.mode, 0o700)
    for (const d of ['home/', 'var/www/', 'usr/sbin/', 'usr/bin/', 'sbin/', 'dev/', 'proc/', 'sys/', 'etc/']) {
      assert.equal(get(d)?.type, 'directory', d)
    }
    assert.equal(get('etc/passwd')?.data.toString(), BUSYBOX_PASSWD)
    assert.match(get('etc/passwd')?.data.toString() ?? '', /^root:x:0:0:root:\/root:\/bin\/sh\n/)
    assert.match(get('etc/group')?.data.toString() ?? '', /^root:x:0:\n/)
    assert.equal(get('etc/hostname'), undefined)

    // GNU tar reads it as well.
    const listing = spawnSync('tar', ['-tvf', r.path], { encoding: 'utf8' })
    if (listing.error === undefined) assert.equal(listing.status, 0, listing.stderr)
  })

  test('hello-world.tar: /hello is a static ELF that prints the Berth greeting', async () => {
    const r = byName(runA, 'hello-world.tar')
    const { config, layers } = await checkArchive(r.path, 'hello-world', 'latest')
    assert.deepEqual(config.config['Cmd'], ['/hello'])
    assert.equal(layers.length, 1)
    const hello = layers[0]?.find((e) => e.name === 'hello')
    assert.ok(hello)
    assert.equal(hello.mode, 0o755)
    assert.ok(hello.data.length < 1500, `tiny: ${hello.data.length} bytes`)

    const dir = mkdtempSync(join(tmpdir(), 'berth-hello-'))
    try {
      const exe = join(dir, 'hello')
      writeFileSync(exe, hello.data, { mode: 0o755 })
      const run = spawnSync(exe, [], { encoding: 'utf8', env: {} })
      assert.equal(run.status, 0)
      assert.equal(run.stdout, helloMessage(hostArch()))
      assert.match(run.stdout, /^\nHello from Berth!\nThis message shows that your installation appears to be working correctly\./)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('hello ELF headers for amd64 and arm64', () => {
    for (const [arch, machine] of [
      ['amd64', 62],
      ['arm64', 183],
    ] as const) {
      const elf = buildHelloElf(arch, 'hi\n')
      assert.equal(elf.subarray(0, 4).toString('latin1'), '\x7fELF')
      assert.equal(elf[4], 2) // 64-bit
      assert.equal(elf[5], 1) // little endian
      assert.equal(elf.readUInt16LE(16), 2) // ET_EXEC
      assert.equal(elf.readUInt16LE(18), machine)
      const entry = Number(elf.readBigUInt64LE(24))
      assert.equal(entry, 0x400000 + 64 + 2 * 56)
      assert.equal(Number(elf.readBigUInt64LE(64 + 32)), elf.length, 'PT_LOAD covers the file')
      assert.ok(elf.subarray(-3).equals(Buffer.from('hi\n')))
      assert.ok(buildHelloElf(arch, 'hi\n').equals(elf), 'deterministic')
    }
  })

  test('bench image (scaled down): 7 layers on the busybox rootfs, with links', async () => {
    const r = byName(runA, 'bench-big.tar')
    const { config, layers } = await checkArchive(r.path, 'berth-bench/big', 'latest')
    assert.equal(layers.length, 7)
    const busybox = await checkArchive(byName(runA, 'busybox.tar').path, 'busybox', 'latest')
    assert.equal(config.rootfs.diff_ids[0], busybox.config.rootfs.diff_ids[0], 'layer 1 is the busybox rootfs')
    assert.equal(config.history.length, 8)
    const upper = layers.slice(1).flat()
    assert.ok(upper.some((e) => e.type === 'link'))
    assert.ok(upper.some((e) => e.type === 'symlink' && e.linkname?.startsWith('/')))
    assert.ok(upper.some((e) => e.type === 'symlink' && !e.linkname?.startsWith('/')))
    const files = upper.filter((e) => e.type === 'file')
    assert.ok(Math.abs(files.length - BIG_SMALL.files) <= 20, `${files.length} files`)
    assert.ok(upper.some((e) => /\/big\/blob-\d+\.dat$/.test(e.name)))
    const depth = Math.max(...upper.map((e) => e.name.split('/').filter(Boolean).length))
    assert.ok(depth >= 6, `nested directories (depth ${depth})`)
    const total = r.layerSizes?.reduce((a, b) => a + b, 0) ?? 0
    assert.ok(total > BIG_SMALL.totalBytes * 0.8 && total < BIG_SMALL.totalBytes * 1.2, `total ${total}`)
  })

  test('PRNG is stable', () => {
    const p = new Prng('seed')
    const a = [p.next(), p.next(), p.next()]
    const q = new Prng('seed')
    assert.deepEqual([q.next(), q.next(), q.next()], a)
    assert.notDeepEqual(
      [new Prng('other').next()],
      [a[0]],
    )
  })

  test('CLI: --out DIR --print prints the archive paths', () => {
    const script = fileURLToPath(new URL('./make-fixtures.js', import.meta.url))
    const out = mkdtempSync(join(tmpdir(), 'berth-fixtures-cli-'))
    try {
      const stdout = execFileSync(process.execPath, [script, '--out', out, '--print', '--quiet'], { encoding: 'utf8' })
      assert.deepEqual(stdout.trim().split('\n'), [join(out, 'busybox.tar'), join(out, 'hello-world.tar')])
      assert.equal(fileSha(join(out, 'busybox.tar')), fileSha(byName(runA, 'busybox.tar').path))
      const bad = spawnSync(process.execPath, [script, '--nope'], { encoding: 'utf8' })
      assert.equal(bad.status, 2)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })
})

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, readFile, writeFile, readdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { BERTH, runCmd, startDaemon, type DaemonHandle, type RunResult } from './harness.js'

// `berth context` shares the docker CLI's context store: each check runs the same command with
// docker 28 and with berth on two copies of one store, and compares output, status and files.

const hasDocker = (() => {
  try {
    execFileSync('docker', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

let root: string
let daemon: DaemonHandle | undefined
const noHost = { DOCKER_HOST: '', BERTH_HOST: '', DOCKER_CONTEXT: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' }

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-ctx-'))
})
after(async () => {
  await daemon?.cleanup()
  await rm(root, { recursive: true, force: true })
})

const dockerIn = (cfg: string, args: string[], env: Record<string, string> = {}, input?: Buffer) => runCmd('docker', args, { env: { ...noHost, DOCKER_CONFIG: cfg, ...env }, ...(input ? { input } : {}) })
const berthIn = (cfg: string, args: string[], env: Record<string, string> = {}, input?: Buffer) => runCmd(process.execPath, [BERTH, ...args], { env: { ...noHost, DOCKER_CONFIG: cfg, ...env }, ...(input ? { input } : {}) })

async function treeOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (d: string, rel: string) => {
    let names: string[]
    try {
      names = await readdir(d)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    for (const n of names.sort()) {
      const p = join(d, n)
      const st = await stat(p)
      const r = `${rel}/${n}`
      if (st.isDirectory()) {
        out[r] = `dir ${(st.mode & 0o777).toString(8)}`
        await walk(p, r)
      } else out[r] = `${(st.mode & 0o777).toString(8)} ${await readFile(p, 'utf8')}`
    }
  }
  await walk(dir, '')
  return out
}

let certs: { ca: string; cert: string; key: string }
async function makeCerts(): Promise<void> {
  const { createCA, createClientCert } = await import('../../src/lib/pki.js')
  const ca = await createCA({ commonName: 'ctx-ca' })
  const client = await createClientCert(ca, { commonName: 'ctx-client' })
  certs = { ca: join(root, 'ca.pem'), cert: join(root, 'cert.pem'), key: join(root, 'key.pem') }
  await writeFile(certs.ca, ca.certPem)
  await writeFile(certs.cert, client.certPem)
  await writeFile(certs.key, client.keyPem, { mode: 0o600 })
}

let seq = 0
/** Run args with docker and berth on fresh copies of the same seeded store; compare everything. */
async function same(args: string[], opts: { env?: Record<string, string>; seed?: string[][] } = {}): Promise<{ d: RunResult; b: RunResult }> {
  const n = ++seq
  const dc = join(root, `d${n}`)
  const bc = join(root, `b${n}`)
  const seeds = opts.seed ?? [
    ['context', 'create', 'foo', '--docker', `host=tcp://1.2.3.4:2376,ca=${certs.ca},cert=${certs.cert},key=${certs.key}`, '--description', 'tls <one>'],
    ['context', 'create', 'bar', '--docker', 'host=ssh://root@h2'],
  ]
  for (const s of seeds) {
    for (const cfg of [dc, bc]) assert.equal((await dockerIn(cfg, s)).code, 0, `seed ${s.join(' ')}`)
  }
  const d = await dockerIn(dc, args, opts.env)
  const b = await berthIn(bc, args, opts.env)
  // The default context's endpoint is each CLI's own default socket (of other lengths: table
  // columns are compared with runs of spaces collapsed).
  const norm = (s: string, cfg: string) => s.split(cfg).join('<CFG>').split('unix:///run/berth/berth.sock').join('unix:///var/run/docker.sock').replace(/ {2,}/g, '  ')
  const label = `berth ${args.join(' ')}`
  assert.equal(b.code, d.code, `${label}: exit status (docker stderr: ${d.stderr}, berth stderr: ${b.stderr})`)
  assert.equal(norm(b.stdout, bc), norm(d.stdout, dc), `${label}: stdout`)
  assert.equal(norm(b.stderr, bc), norm(d.stderr, dc), `${label}: stderr`)
  assert.deepEqual(await treeOf(bc), await treeOf(dc), `${label}: the store`)
  return { d, b }
}

test('context commands match docker 28: output, status, wording and the files of the store', { skip: !hasDocker && 'the docker CLI is not installed' }, async () => {
  await makeCerts()
  const cases: string[][] = [
    ['context', 'ls'],
    ['context', 'ls', '-q'],
    ['context', 'ls', '--format', 'json'],
    ['context', 'ls', '--format', '{{.Name}}:{{.DockerEndpoint}}:{{.Current}}'],
    ['context', 'inspect', 'foo'],
    ['context', 'inspect', 'foo', 'nope'],
    ['context', 'inspect', '--format', '{{.Name}} {{.Endpoints.docker.Host}}', 'bar', 'foo'],
    ['context', 'inspect'],
    ['context', 'show'],
    ['context', 'use', 'foo'],
    ['context', 'use', 'nope'],
    ['context', 'use', 'default'],
    ['context', 'create', 'foo', '--docker', 'host=tcp://x:1'],
    ['context', 'create', 'b@d', '--docker', 'host=tcp://x:1'],
    ['context', 'create', 'default'],
    ['context', 'create', 'q1', '--docker', 'bogus=1'],
    ['context', 'create', 'q2', '--docker', 'host=tcp://a:1,skip-tls-verify=yes'],
    ['context', 'create', 'q3', '--docker', 'host=tcp://a:1,skip-tls-verify=true'],
    ['context', 'create', 'q4', '--docker', 'host=tcp://a:1,cert=/nonexistent.pem'],
    ['context', 'create', 'q5', '--from', 'foo', '--description', 'copied'],
    ['context', 'create', 'q6', '--from', 'foo'],
    ['context', 'create', 'q7', '--docker', 'from=foo'],
    ['context', 'create', 'q8', '--from', 'nope'],
    ['context', 'create', 'q9', '--docker', 'host=tcp://a:1', '--from', 'bar'],
    ['context', 'create', 'q10', '--docker', 'host=tcp://a:1', '--docker', 'host=tcp://b:2'],
    ['context', 'update', 'foo', '--description', 'new'],
    ['context', 'update', 'foo', '--docker', 'host=tcp://9.9.9.9:1'],
    ['context', 'update', 'nope', '--description', 'x'],
    ['context', 'update', 'default', '--description', 'x'],
    ['context', 'rm', 'foo', 'bar'],
    ['context', 'rm', 'nope'],
    ['context', 'rm', '-f', 'nope'],
    ['context', 'rm', 'default'],
  ]
  for (const c of cases) await same(c)
  // A context in use: refused, then removed with -f (and config.json forgets it).
  const inUse = [...[
    ['context', 'create', 'foo', '--docker', 'host=tcp://1.2.3.4:2376'],
  ], ['context', 'use', 'foo']]
  await same(['context', 'rm', 'foo'], { seed: inUse })
  await same(['context', 'rm', '-f', 'foo'], { seed: inUse })
  await same(['context', 'ls'], { seed: inUse })
  await same(['context', 'ls'], { seed: inUse, env: { DOCKER_HOST: 'tcp://5.6.7.8:2375' } })
  await same(['context', 'show'], { seed: inUse, env: { DOCKER_CONTEXT: 'default' } })
})

test('export is byte-identical to docker\'s, and each imports the other\'s archive', { skip: !hasDocker && 'the docker CLI is not installed' }, async () => {
  if (!certs) await makeCerts()
  const cfg = join(root, 'exp')
  assert.equal((await dockerIn(cfg, ['context', 'create', 'tlsctx', '--docker', `host=tcp://1.2.3.4:2376,ca=${certs.ca},cert=${certs.cert},key=${certs.key}`, '--description', 'd'])).code, 0)
  assert.equal((await dockerIn(cfg, ['context', 'create', 'sshctx', '--docker', 'host=ssh://root@h2'])).code, 0)
  for (const name of ['tlsctx', 'sshctx', 'default']) {
    const d = join(root, `${name}.docker.tar`)
    const b = join(root, `${name}.berth.tar`)
    assert.equal((await dockerIn(cfg, ['context', 'export', name, d])).code, 0)
    const r = await berthIn(cfg, ['context', 'export', name, b])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, `Written file "${b}"\n`)
    const [db, bb] = [await readFile(d), await readFile(b)]
    if (name === 'default') {
      // default's endpoint is each CLI's own default socket; the layout is the same.
      assert.equal(bb.length, db.length)
      assert.equal(bb.subarray(0, 100).toString('latin1'), db.subarray(0, 100).toString('latin1'))
    } else assert.ok(bb.equals(db), `${name}: berth's export differs from docker's`)
    assert.equal(((await stat(b)).mode & 0o777).toString(8), '600')
    // Refuses to overwrite, as docker does.
    const again = await berthIn(cfg, ['context', 'export', name, b])
    assert.equal(again.code, 1)
    assert.equal(again.stderr, `open ${b}: file exists\n`)
  }
  // berth imports docker's archive (from a file and from stdin); docker imports berth's.
  const bi = await berthIn(cfg, ['context', 'import', 'fromdocker', join(root, 'tlsctx.docker.tar')])
  assert.equal(bi.code, 0, bi.stderr)
  assert.equal(bi.stdout, 'fromdocker\n')
  assert.equal(bi.stderr, 'Successfully imported context "fromdocker"\n')
  const bs = await berthIn(cfg, ['context', 'import', 'fromstdin', '-'], {}, await readFile(join(root, 'sshctx.docker.tar')))
  assert.equal(bs.code, 0, bs.stderr)
  assert.equal((await dockerIn(cfg, ['context', 'import', 'fromberth', join(root, 'tlsctx.berth.tar')])).code, 0)
  const di = JSON.parse((await dockerIn(cfg, ['context', 'inspect', 'fromdocker', 'fromberth', 'fromstdin'])).stdout) as Array<{ Endpoints: { docker: { Host: string } }; TLSMaterial: Record<string, string[]>; Metadata: { Description?: string } }>
  assert.deepEqual(di.map((c) => c.Endpoints.docker.Host), ['tcp://1.2.3.4:2376', 'tcp://1.2.3.4:2376', 'ssh://root@h2'])
  assert.deepEqual(di[0]!.TLSMaterial, { docker: ['ca.pem', 'cert.pem', 'key.pem'] })
  assert.deepEqual(di[1]!.TLSMaterial, { docker: ['ca.pem', 'cert.pem', 'key.pem'] })
  assert.equal(di[0]!.Metadata.Description, 'd')
  const tlsDir = (JSON.parse((await dockerIn(cfg, ['context', 'inspect', 'fromdocker'])).stdout) as Array<{ Storage: { TLSPath: string } }>)[0]!.Storage.TLSPath
  assert.equal(await readFile(join(tlsDir, 'docker', 'key.pem'), 'utf8'), await readFile(certs.key, 'utf8'))
  // Import errors: existing name, bad archive, missing file.
  const dup = await berthIn(cfg, ['context', 'import', 'fromdocker', join(root, 'tlsctx.docker.tar')])
  assert.deepEqual([dup.code, dup.stderr], [1, 'context "fromdocker" already exists\n'])
  await writeFile(join(root, 'garbage.tar'), 'garbage\n')
  assert.equal((await berthIn(cfg, ['context', 'import', 'g1', join(root, 'garbage.tar')])).code, 1)
  const missing = await berthIn(cfg, ['context', 'import', 'g2', join(root, 'nope.tar')])
  assert.deepEqual([missing.code, missing.stderr], [1, `open ${join(root, 'nope.tar')}: no such file or directory\n`])
  assert.equal((await berthIn(cfg, ['context', 'ls', '-q'])).stdout, 'default\nfromberth\nfromdocker\nfromstdin\nsshctx\ntlsctx\n')
})

test('the endpoint comes from --context, then -H / DOCKER_HOST, then DOCKER_CONTEXT, then currentContext', { skip: !hasDocker && 'the docker CLI is not installed' }, async () => {
  daemon = await startDaemon()
  const cfg = join(root, 'prec')
  const nowhere = `unix://${join(root, 'nowhere.sock')}`
  assert.equal((await berthIn(cfg, ['context', 'create', 'live', '--docker', `host=${daemon.host}`])).code, 0)
  assert.equal((await berthIn(cfg, ['context', 'create', 'dead', '--docker', `host=${nowhere}`])).code, 0)
  const ps = (args: string[], env: Record<string, string> = {}) => berthIn(cfg, [...args, 'ps', '-q'], env)
  const ok = (r: RunResult) => assert.equal(r.code, 0, r.stderr)
  const refused = (r: RunResult) => {
    assert.equal(r.code, 1)
    assert.match(r.stderr, new RegExp(`Cannot connect to the Berth daemon at ${nowhere.replace(/[/.]/g, '\\$&')}`))
  }
  ok(await ps(['--context', 'live']))
  ok(await ps(['-c', 'live'], { DOCKER_HOST: nowhere }))
  refused(await ps(['--context', 'dead']))
  ok(await ps([], { DOCKER_CONTEXT: 'live' }))
  refused(await ps([], { DOCKER_CONTEXT: 'dead' }))
  ok(await ps([], { DOCKER_CONTEXT: 'dead', DOCKER_HOST: daemon.host }))
  assert.equal((await berthIn(cfg, ['context', 'use', 'dead'])).code, 0)
  refused(await ps([]))
  ok(await ps([], { DOCKER_CONTEXT: 'live' }))
  ok(await ps(['-H', daemon.host]))
  // The docker CLI reads the context berth chose: docker itself reaches berthd through it.
  assert.equal((await berthIn(cfg, ['context', 'use', 'live'])).code, 0)
  const d = await dockerIn(cfg, ['ps', '-q'])
  assert.equal(d.code, 0, d.stderr)
  ok(await ps([]))
  const both = await ps(['-c', 'live', '-H', daemon.host])
  assert.deepEqual([both.code, both.stderr], [1, 'conflicting options: cannot specify both --host and --context\n'])
  const nope = await ps(['-c', 'nope'])
  const dn = await dockerIn(cfg, ['-c', 'nope', 'ps', '-q'])
  assert.equal(nope.code, 1)
  assert.equal(nope.stderr, dn.stderr)
})

/**
 * berthd as a process: flags and daemon.json (with dockerd's errors), two daemons side by side,
 * the data root lock, socket mode, pid file, and TCP with mutual TLS driven by the docker CLI.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile, access } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BERTHD, docker, fixture, runCmd, startDaemon, type DaemonHandle } from './harness.js'
import { dockerSuite } from './image-helpers.js'

const exists = (p: string) => access(p).then(() => true, () => false)

async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise((r) => srv.close(r))
  return port
}

/** A CA, a server cert for 127.0.0.1 and a client cert, made with openssl. */
async function makeCerts(dir: string): Promise<void> {
  const ossl = async (...args: string[]) => {
    const r = await runCmd('openssl', args)
    assert.equal(r.code, 0, `openssl ${args.join(' ')}: ${r.stderr}`)
  }
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await ossl('req', '-x509', ...ec, '-keyout', join(dir, 'ca-key.pem'), '-out', join(dir, 'ca.pem'), '-days', '2', '-subj', '/CN=berth test CA')
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  await writeFile(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n')
  for (const [name, cn] of [['server', 'localhost'], ['client', 'berth-client']] as const) {
    await ossl('req', '-new', ...ec, '-keyout', join(dir, `${name}-key.pem`), '-out', join(dir, `${name}.csr`), '-subj', `/CN=${cn}`)
    await ossl('x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca-key.pem'), '-CAcreateserial',
      '-out', join(dir, `${name}-cert.pem`), '-days', '2', '-extfile', join(dir, `${name}.ext`))
  }
  // A client cert from another CA.
  await ossl('req', '-x509', ...ec, '-keyout', join(dir, 'rogue-key.pem'), '-out', join(dir, 'rogue-cert.pem'), '-days', '2', '-subj', '/CN=rogue')
}

dockerSuite('berthd daemon', () => {
  let h: DaemonHandle
  let dir: string
  let port = 0
  let tcpHost = ''
  let pidfile = ''

  /** Run berthd with args that must make it exit at once; returns its exit code and stderr. */
  const berthdFails = async (args: string[]) => {
    const scratch = join(dir, `scratch-${Math.random().toString(16).slice(2)}`)
    const r = await runCmd(process.execPath, [BERTHD, '--exec-root', join(scratch, 'exec'), '-H', `unix://${join(scratch, 's.sock')}`, ...args], { timeoutMs: 20_000 })
    await rm(scratch, { recursive: true, force: true })
    return r
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-daemon-it-'))
    await makeCerts(dir)
    await writeFile(join(dir, 'labels.json'), JSON.stringify({ labels: ['a=b', 'team=berth'] }))
    port = await freePort()
    tcpHost = `tcp://127.0.0.1:${port}`
    pidfile = join(dir, 'run', 'berthd-it.pid')
    h = await startDaemon([
      '--config-file', join(dir, 'labels.json'),
      '--pidfile', pidfile,
      '-H', tcpHost,
      '--tlsverify', '--tlscacert', join(dir, 'ca.pem'), '--tlscert', join(dir, 'server-cert.pem'), '--tlskey', join(dir, 'server-key.pem'),
    ])
  })
  after(async () => {
    await h?.cleanup()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('labels from --config-file show in docker info', async () => {
    const r = await docker(h, 'info', '--format', '{{json .Labels}}')
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), ['a=b', 'team=berth'])
    const text = await docker(h, 'info')
    assert.match(text.stdout, /^ Labels:\n {2}a=b\n {2}team=berth$/m)
  })

  it('the unix socket is mode 0660 and the pid file holds the pid', async () => {
    assert.equal((await stat(h.socket)).mode & 0o777, 0o660)
    assert.equal((await stat(h.socket)).isSocket(), true)
    assert.equal((await readFile(pidfile, 'utf8')).trim(), String(h.proc.pid))
  })

  it('two daemons run side by side on their own roots and sockets', async () => {
    const h2 = await startDaemon()
    try {
      assert.notEqual(h2.socket, h.socket)
      assert.equal((await docker(h2, 'load', '-i', await fixture('hello-world'))).code, 0)
      const imgs1 = await docker(h, 'images', '-q')
      const imgs2 = await docker(h2, 'images', '-q')
      assert.equal(imgs1.stdout.trim(), '', 'the first daemon does not see the second one\'s images')
      assert.equal(imgs2.stdout.trim().split('\n').length, 1)
      assert.equal((await docker(h2, 'info', '--format', '{{.DockerRootDir}}')).stdout.trim(), h2.dataRoot)
      assert.equal((await docker(h, 'info', '--format', '{{.DockerRootDir}}')).stdout.trim(), h.dataRoot)
      // Its own pid file, in its own exec root.
      assert.equal((await readFile(join(h2.execRoot, 'berthd.pid'), 'utf8')).trim(), String(h2.proc.pid))
    } finally {
      await h2.cleanup()
    }
    assert.equal((await docker(h, 'version', '--format', '{{.Server.APIVersion}}')).stdout.trim(), '1.50', 'the first one is unaffected')
  })

  it('a second daemon on the same data root refuses to start, and leaves the first alone', async () => {
    const r = await berthdFails(['--data-root', h.dataRoot, '--config-file', join(dir, 'labels.json')])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, new RegExp(`data root ${h.dataRoot} is in use by another berthd \\(pid ${h.proc.pid}\\)`))
    assert.equal((await readFile(pidfile, 'utf8')).trim(), String(h.proc.pid))
    assert.ok(await exists(h.socket))
    assert.equal((await docker(h, 'version', '--format', '{{.Server.APIVersion}}')).stdout.trim(), '1.50')
    // The same pid file (another exec root, a fresh data root) is refused too.
    const p = await berthdFails(['--data-root', join(dir, 'other-root'), '--pidfile', pidfile, '--config-file', join(dir, 'labels.json')])
    assert.notEqual(p.code, 0)
    assert.match(p.stderr, /pid file found, ensure berthd is not running or delete /)
    assert.equal((await readFile(pidfile, 'utf8')).trim(), String(h.proc.pid), 'the running daemon keeps its pid file')
  })

  it('a directive given as a flag and in the file is an error (dockerd\'s message)', async () => {
    const cfg = join(dir, 'conflict.json')
    await writeFile(cfg, JSON.stringify({ 'data-root': '/tmp/from-file', labels: ['x=1'] }))
    const r = await berthdFails(['--data-root', join(dir, 'conflict-root'), '--label', 'y=2', '--config-file', cfg])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, new RegExp(`^unable to configure the Docker daemon with file ${cfg}: the following directives are specified both as a flag and in the configuration file: `))
    assert.match(r.stderr, new RegExp(`data-root: \\(from flag: ${join(dir, 'conflict-root')}, from file: /tmp/from-file\\)`))
    assert.match(r.stderr, /labels: \(from flag: \[y=2\], from file: \[x=1\]\)/)
    assert.equal(await exists(join(dir, 'conflict-root')), false, 'nothing was created')
  })

  it('an unknown daemon.json key, or a broken file, is an error', async () => {
    const cfg = join(dir, 'unknown.json')
    await writeFile(cfg, JSON.stringify({ 'no-such-option': true }))
    const r = await berthdFails(['--data-root', join(dir, 'unknown-root'), '--config-file', cfg])
    assert.notEqual(r.code, 0)
    assert.equal(r.stderr.trim(), `unable to configure the Docker daemon with file ${cfg}: the following directives don't match any configuration option: no-such-option`)
    const broken = join(dir, 'broken.json')
    await writeFile(broken, '{"labels": [')
    const b = await berthdFails(['--data-root', join(dir, 'unknown-root'), '--config-file', broken])
    assert.notEqual(b.code, 0)
    assert.match(b.stderr, new RegExp(`^unable to configure the Docker daemon with file ${broken}: `))
    const missing = await berthdFails(['--data-root', join(dir, 'unknown-root'), '--config-file', join(dir, 'missing.json')])
    assert.notEqual(missing.code, 0, 'an explicit --config-file must exist')
    const flag = await berthdFails(['--no-such-flag'])
    assert.notEqual(flag.code, 0)
    assert.match(flag.stderr, /unknown flag: --no-such-flag/)
  })

  describe('TCP with mutual TLS', () => {
    const tlsDocker = (...args: string[]) => runCmd('docker', ['-H', tcpHost, ...args], { env: { DOCKER_CERT_PATH: join(dir, 'no-certs-here'), DOCKER_TLS_VERIFY: '' } })

    it('docker with the client cert works', async () => {
      const r = await tlsDocker('--tlsverify', '--tlscacert', join(dir, 'ca.pem'), '--tlscert', join(dir, 'client-cert.pem'), '--tlskey', join(dir, 'client-key.pem'), 'version', '--format', '{{.Server.APIVersion}}')
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout.trim(), '1.50')
      const info = await tlsDocker('--tlsverify', '--tlscacert', join(dir, 'ca.pem'), '--tlscert', join(dir, 'client-cert.pem'), '--tlskey', join(dir, 'client-key.pem'), 'info', '--format', '{{.DockerRootDir}}')
      assert.equal(info.stdout.trim(), h.dataRoot)
    })

    it('without a client cert, with one from another CA, or without TLS, it fails', async () => {
      await mkdir(join(dir, 'no-certs-here'), { recursive: true })
      const none = await tlsDocker('--tlsverify', '--tlscacert', join(dir, 'ca.pem'), 'version', '--format', '{{.Server.APIVersion}}')
      assert.notEqual(none.code, 0)
      assert.equal(none.stdout.trim(), '', 'no server answer')
      assert.match(none.stderr, /remote error: tls: certificate required/)
      const rogue = await tlsDocker('--tlsverify', '--tlscacert', join(dir, 'ca.pem'), '--tlscert', join(dir, 'rogue-cert.pem'), '--tlskey', join(dir, 'rogue-key.pem'), 'version', '--format', '{{.Server.APIVersion}}')
      assert.notEqual(rogue.code, 0)
      assert.equal(rogue.stdout.trim(), '')
      assert.match(rogue.stderr, /remote error: tls: /)
      const plain = await tlsDocker('version', '--format', '{{.Server.APIVersion}}')
      assert.notEqual(plain.code, 0)
      assert.equal(plain.stdout.trim(), '')
    })
  })

  it('SIGTERM stops it and removes the pid file and the socket', async () => {
    await h.stop()
    assert.equal(h.proc.exitCode, 0)
    assert.equal(await exists(pidfile), false, 'pid file removed')
    assert.equal(await exists(h.socket), false, 'socket removed')
    assert.match(h.log(), /Processing signal 'terminated'/)
  })
})

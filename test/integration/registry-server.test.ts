/**
 * `berth registry serve` on a loopback port, driven by the real docker CLI through a private
 * berthd, by skopeo, and by berth's own CLI: two users and an organisation, namespaces owned
 * by their users, public and private pulls, login and logout, SIGTERM, a restart, TLS.
 */
import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BERTH, fixture, runCmd, startDaemon, type DaemonHandle } from './harness.js'
import { dockerSuite } from './image-helpers.js'

const hasSkopeo = spawnSync('skopeo', ['--version'], { stdio: 'ignore' }).status === 0

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

const berthCli = (args: string[], input?: string) => runCmd(process.execPath, [BERTH, ...args], input !== undefined ? { input } : {})

interface Reg { port: number; host: string; dir: string; proc: ChildProcess; log: () => string; stop(): Promise<number | null> }

/** Start `berth registry serve` and wait for /health. */
async function startBerthRegistry(dir: string, extra: string[] = [], scheme = 'http', port?: number): Promise<Reg> {
  port ??= await freePort()
  const proc = spawn(process.execPath, [BERTH, 'registry', 'serve', '--listen', `127.0.0.1:${port}`, '--data-root', dir, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  proc.stderr!.on('data', (b: Buffer) => (log += b.toString()))
  const deadline = Date.now() + 15_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`berth registry serve exited: ${log}`)
    const r = await runCmd('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', `${scheme}://127.0.0.1:${port}/health`]).catch(() => undefined)
    if (r?.stdout === '200') break
    if (Date.now() > deadline) throw new Error(`berth registry serve did not start: ${log}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    port, host: `127.0.0.1:${port}`, dir, proc, log: () => log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode
      const done = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)))
      proc.kill('SIGTERM')
      return done
    },
  }
}

dockerSuite('berth registry serve: docker, skopeo and berth against a registry with users', () => {
  let h: DaemonHandle
  let reg: Reg
  let work: string
  const cfg: Record<string, string> = {}
  const run = (who: 'alice' | 'bob' | 'anon', cmd: 'docker' | 'berth', args: string[], input?: string) =>
    runCmd(cmd === 'docker' ? 'docker' : process.execPath, cmd === 'docker' ? args : [BERTH, ...args], { host: h.host, env: { DOCKER_CONFIG: cfg[who]! }, ...(input !== undefined ? { input } : {}) })
  const ok = async (who: 'alice' | 'bob' | 'anon', cmd: 'docker' | 'berth', ...args: string[]) => {
    const r = await run(who, cmd, args)
    assert.equal(r.code, 0, `${who}: ${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}\n${r.stdout}`)
    return r.stdout
  }
  const dataRoot = () => join(work, 'registry')

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-it-regsrv-'))
    for (const who of ['alice', 'bob', 'anon']) {
      cfg[who] = join(work, `config-${who}`)
      await mkdir(cfg[who]!)
    }
    for (const [u, pw] of [['alice', 'alice-pw'], ['bob', 'bob-pw']]) {
      const r = await berthCli(['registry', 'user', 'add', u!, '--password-stdin', '--data-root', dataRoot()], `${pw}\n`)
      assert.equal(r.code, 0, r.stderr)
    }
    assert.equal((await berthCli(['registry', 'org', 'create', 'acme', '--data-root', dataRoot()])).code, 0)
    assert.equal((await berthCli(['registry', 'org', 'add-member', 'acme', 'alice', '--role', 'push', '--data-root', dataRoot()])).code, 0)
    reg = await startBerthRegistry(dataRoot())
    h = await startDaemon()
    await ok('alice', 'docker', 'load', '-i', await fixture('busybox'))
  })
  after(async () => {
    await h?.cleanup()
    await reg?.stop()
    await rm(work, { recursive: true, force: true })
  })

  it('docker login with a wrong password fails, with the right one succeeds', async () => {
    const bad = await run('alice', 'docker', ['login', reg.host, '-u', 'alice', '--password-stdin'], 'nope\n')
    assert.notEqual(bad.code, 0)
    assert.match(bad.stderr, /unauthorized|incorrect username or password/i)
    const good = await run('alice', 'docker', ['login', reg.host, '-u', 'alice', '--password-stdin'], 'alice-pw\n')
    assert.equal(good.code, 0, good.stderr)
    assert.match(good.stdout, /Login Succeeded/)
    assert.equal((await run('bob', 'docker', ['login', reg.host, '-u', 'bob', '--password-stdin'], 'bob-pw\n')).code, 0)
  })

  it('alice pushes alice/app, is refused on bob/app, pushes acme/app as a member with push rights', async () => {
    await ok('alice', 'docker', 'tag', 'busybox:latest', `${reg.host}/alice/app:1`)
    const push = await ok('alice', 'docker', 'push', `${reg.host}/alice/app:1`)
    assert.match(push, /^1: digest: sha256:[a-f0-9]{64} size: \d+$/m)
    await ok('alice', 'docker', 'tag', 'busybox:latest', `${reg.host}/bob/app:1`)
    const refused = await run('alice', 'docker', ['push', `${reg.host}/bob/app:1`])
    assert.notEqual(refused.code, 0)
    assert.match(refused.stderr + refused.stdout, /denied: requested access to the resource is denied/)
    // Nothing of the refused push is stored.
    assert.deepEqual(await readdir(join(dataRoot(), 'repositories')).then((l) => l.filter((n) => n === 'bob')), [])
    await ok('alice', 'docker', 'tag', 'busybox:latest', `${reg.host}/acme/app:1`)
    const orgPush = await ok('alice', 'docker', 'push', `${reg.host}/acme/app:1`)
    // The layer is mounted from alice/app (alice may read it) or found already there.
    assert.match(orgPush, /(Mounted from alice\/app|Layer already exists|Pushed)/)
    assert.match(reg.log(), /"user":"alice","method":"PUT","path":"\/v2\/acme\/app\/manifests\/1","repository":"acme\/app","action":"push","status":201/)
  })

  it('offline grants: GET /token?offline_token=true and POST /token (password, refresh_token) as the token spec; an identity token pulls through berthd', async () => {
    const base = `http://${reg.host}`
    const basic = `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`
    const scope = 'repository:alice/app:pull'
    const offline = await fetch(`${base}/token?scope=${scope}&offline_token=true&client_id=docker`, { headers: { authorization: basic } })
    const off = await offline.json() as Record<string, string>
    assert.equal(offline.status, 200, JSON.stringify(off))
    assert.ok(off.refresh_token && off.access_token)
    const noOffline = await (await fetch(`${base}/token?scope=${scope}`, { headers: { authorization: basic } })).json() as Record<string, string>
    assert.equal(noOffline.refresh_token, undefined)
    // A refresh token is never a bearer token.
    assert.equal((await fetch(`${base}/v2/alice/app/tags/list`, { headers: { authorization: `Bearer ${off.refresh_token}` } })).status, 401)
    const post = (form: Record<string, string>, type = 'application/x-www-form-urlencoded') => fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': type }, body: new URLSearchParams(form).toString() })
    const refreshed = await post({ grant_type: 'refresh_token', refresh_token: off.refresh_token!, client_id: 'docker', scope })
    const r = await refreshed.json() as Record<string, string>
    assert.equal(refreshed.status, 200, JSON.stringify(r))
    assert.equal(r.scope, scope)
    assert.equal(r.refresh_token, off.refresh_token)
    const tags = await fetch(`${base}/v2/alice/app/tags/list`, { headers: { authorization: `Bearer ${r.access_token}` } })
    assert.equal(tags.status, 200)
    const pw = await post({ grant_type: 'password', username: 'alice', password: 'alice-pw', client_id: 'docker', access_type: 'offline', scope: 'repository:bob/app:push' })
    const p = await pw.json() as Record<string, string>
    assert.equal(pw.status, 200)
    assert.ok(p.refresh_token)
    assert.equal(p.scope, 'repository:bob/app:', 'alice was granted push on bob/app')
    assert.equal((await post({ grant_type: 'password', username: 'alice', password: 'wrong', client_id: 'docker' })).status, 401)
    assert.deepEqual(await (await post({ grant_type: 'refresh_token', refresh_token: 'x.y.z', client_id: 'docker' })).json(), { error: 'invalid_grant', error_description: 'invalid or expired refresh token' })
    assert.equal((await post({ grant_type: 'client_credentials', client_id: 'docker' })).status, 400)
    assert.equal((await post({ grant_type: 'password', username: 'alice', password: 'alice-pw' })).status, 400, 'no client_id')
    assert.equal((await post({ grant_type: 'password' }, 'application/json')).status, 400)
    // The docker CLI keeps a refresh token as `identitytoken`: berthd pulls with it (POST refresh_token).
    const idCfg = join(work, 'config-identity')
    await mkdir(idCfg, { recursive: true })
    await writeFile(join(idCfg, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('alice:').toString('base64'), identitytoken: off.refresh_token } } }))
    const pulled = await runCmd('docker', ['pull', `${reg.host}/alice/app:1`], { host: h.host, env: { DOCKER_CONFIG: idCfg } })
    assert.equal(pulled.code, 0, pulled.stderr)
    assert.match(reg.log(), /"user":"alice","method":"(GET|HEAD)","path":"\/v2\/alice\/app\/manifests\/1"/)
    // A password change ends every refresh token of the user.
    const change = await berthCli(['registry', 'user', 'passwd', 'alice', '--password-stdin', '--data-root', dataRoot()], 'alice-pw\n')
    assert.equal(change.code, 0, change.stderr)
    assert.equal((await post({ grant_type: 'refresh_token', refresh_token: off.refresh_token!, client_id: 'docker' })).status, 401, 'a refresh token outlived a password change')
  })

  it('bob pulls alice/app only once it is public', async () => {
    await ok('alice', 'docker', 'rmi', `${reg.host}/alice/app:1`, `${reg.host}/bob/app:1`)
    const before = await run('bob', 'docker', ['pull', `${reg.host}/alice/app:1`])
    assert.notEqual(before.code, 0)
    assert.match(before.stderr, /denied|access|not found/i)
    assert.equal((await berthCli(['registry', 'namespace', 'set-public', 'alice', '--data-root', dataRoot()])).code, 0)
    await new Promise((r) => setTimeout(r, 300))
    const pull = await ok('bob', 'docker', 'pull', `${reg.host}/alice/app:1`)
    assert.match(pull, /Digest: sha256:[a-f0-9]{64}/)
    // Still not bob's to push to.
    const push = await run('bob', 'docker', ['push', `${reg.host}/alice/app:1`])
    assert.notEqual(push.code, 0)
    assert.match(push.stderr + push.stdout, /denied/)
    // Anonymous pulls of a public namespace work too.
    await ok('anon', 'docker', 'rmi', `${reg.host}/alice/app:1`)
    await ok('anon', 'docker', 'pull', `${reg.host}/alice/app:1`)
  })

  it('after docker logout, a pull of a private image is refused', async () => {
    await ok('alice', 'docker', 'rmi', `${reg.host}/acme/app:1`)
    await ok('alice', 'docker', 'pull', `${reg.host}/acme/app:1`)
    await ok('alice', 'docker', 'rmi', `${reg.host}/acme/app:1`)
    await ok('alice', 'docker', 'logout', reg.host)
    const r = await run('alice', 'docker', ['pull', `${reg.host}/acme/app:1`])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /denied|unauthorized|authentication required|may require 'docker login'/i)
  })

  it("berth's own CLI logs in, pushes and pulls through berthd", async () => {
    const login = await run('alice', 'berth', ['login', reg.host, '-u', 'alice', '--password-stdin'], 'alice-pw\n')
    assert.equal(login.code, 0, login.stderr)
    await ok('alice', 'berth', 'tag', 'busybox:latest', `${reg.host}/alice/berth:1`)
    await ok('alice', 'berth', 'push', `${reg.host}/alice/berth:1`)
    await ok('alice', 'berth', 'rmi', `${reg.host}/alice/berth:1`)
    await ok('alice', 'berth', 'pull', `${reg.host}/alice/berth:1`)
    const refused = await run('alice', 'berth', ['push', `${reg.host}/bob/app:1`])
    assert.notEqual(refused.code, 0)
  })

  it('skopeo copies with credentials, is refused outside the namespace', async (t) => {
    if (!hasSkopeo) return t.skip('skopeo is not installed (apt-get install skopeo)')
    const archive = await fixture('busybox')
    const env = { env: { HOME: work } }
    const good = await runCmd('skopeo', ['copy', '--dest-creds', 'alice:alice-pw', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${reg.host}/alice/skopeo:1`], env)
    assert.equal(good.code, 0, good.stderr)
    const bad = await runCmd('skopeo', ['copy', '--dest-creds', 'alice:alice-pw', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${reg.host}/bob/skopeo:1`], env)
    assert.notEqual(bad.code, 0)
    assert.match(bad.stderr, /denied: requested access to the resource is denied/)
    const tags = await runCmd('skopeo', ['list-tags', '--creds', 'alice:alice-pw', '--tls-verify=false', `docker://${reg.host}/alice/skopeo`], env)
    assert.equal(tags.code, 0, tags.stderr)
    assert.deepEqual(JSON.parse(tags.stdout).Tags, ['1'])
    const wrong = await runCmd('skopeo', ['inspect', '--creds', 'alice:wrong', '--tls-verify=false', `docker://${reg.host}/alice/skopeo:1`], env)
    assert.notEqual(wrong.code, 0)
    await runCmd('skopeo', ['copy', '--src-creds', 'bob:bob-pw', '--src-tls-verify=false', `docker://${reg.host}/alice/skopeo:1`, `oci:${join(work, 'oci')}:x`], env).then((r) => assert.equal(r.code, 0, r.stderr))
  })

  it('SIGTERM stops the server cleanly; a restart serves the same content', async () => {
    assert.equal(await reg.stop(), 0)
    reg = await startBerthRegistry(dataRoot(), [], 'http', reg.port)
    await ok('bob', 'docker', 'rmi', `${reg.host}/alice/app:1`)
    await ok('bob', 'docker', 'pull', `${reg.host}/alice/app:1`)
  })

  it('berth registry gc keeps what tags reference', async () => {
    const r = await berthCli(['registry', 'gc', '--data-root', dataRoot(), '--grace', '0s'])
    assert.equal(r.code, 0, r.stderr)
    await ok('bob', 'docker', 'rmi', `${reg.host}/alice/app:1`)
    await ok('bob', 'docker', 'pull', `${reg.host}/alice/app:1`)
  })
})

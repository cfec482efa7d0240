/**
 * berth compose and `docker compose` (berth compose as the docker CLI's plugin) against a private
 * berthd on a realistic project: a web service built from a Dockerfile with a healthcheck, a
 * worker gated on service_healthy, named volumes, two networks, .env interpolation, scale to 3
 * with name resolution to all replicas, run --rm, exec, logs -f, a changed environment recreating
 * only that service, down -v leaving nothing behind; and a project created by Debian's
 * docker-compose 1.29, then managed by berth compose.
 */
import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api, BERTH, type DaemonHandle } from './harness.js'
import { dockerSuite } from './image-helpers.js'
import { busyboxDaemon, runKilled } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

const hasDockerCompose1 = (() => { try { execFileSync('docker-compose', ['version'], { stdio: 'ignore' }); return true } catch { return false } })()

dockerSuite('compose: berth compose and the docker compose plugin', () => {
  let h: DaemonHandle
  let dir: string
  let cfg: string
  const daemon = busyboxDaemon()

  const bc = (seconds: number, cwd: string, args: string[], env: Record<string, string> = {}) =>
    runKilled(h, seconds, ['env', '-C', cwd, process.execPath, BERTH, 'compose', ...args], { env })
  const dc = (seconds: number, cwd: string, args: string[], env: Record<string, string> = {}) =>
    runKilled(h, seconds, ['env', '-C', cwd, 'docker', 'compose', ...args], { env: { DOCKER_CONFIG: cfg, ...env } })
  const ok = async (p: Promise<{ code: number; stdout: string; stderr: string }>, what: string) => {
    const r = await p
    assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`)
    return r
  }
  const containers = async (project: string): Promise<Json[]> => (await api(h, 'GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${project}`] }))}`)).json() as Json[]

  before(async () => {
    h = daemon.h
    dir = await mkdtemp(join(tmpdir(), 'berth-compose-'))
    cfg = join(dir, 'docker-config')
    await mkdir(join(cfg, 'cli-plugins'), { recursive: true })
    await writeFile(join(cfg, 'cli-plugins', 'docker-compose'), `#!/bin/sh\nif [ "$1" = docker-cli-plugin-metadata ]; then exec ${process.execPath} ${BERTH} compose docker-cli-plugin-metadata; fi\nexec ${process.execPath} ${BERTH} "$@"\n`)
    await chmod(join(cfg, 'cli-plugins', 'docker-compose'), 0o755)
  })
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('converges a realistic project: build, healthcheck gate, volumes, two networks, .env, scale, run, exec, logs, recreate, down -v', async () => {
    const app = join(dir, 'shop')
    await mkdir(join(app, 'web'), { recursive: true })
    await writeFile(join(app, 'web', 'Dockerfile'), 'FROM busybox\nRUN mkdir -p /www && echo hello-from-web > /www/index.html\nCMD ["httpd", "-f", "-p", "80", "-h", "/www"]\n')
    await writeFile(join(app, '.env'), 'GREETING=hi\nWORKER_TAG=latest\n')
    await writeFile(join(app, 'compose.yaml'), [
      'services:',
      '  web:',
      '    build: ./web',
      '    environment:',
      '      GREETING: ${GREETING}',
      '    healthcheck:',
      '      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost/"]',
      '      interval: 1s',
      '      start_period: 10s',
      '      start_interval: 200ms',
      '    networks: [front, back]',
      '    volumes: [static:/www/static]',
      '  worker:',
      '    image: busybox:${WORKER_TAG}',
      '    command: sh -c "echo worker-started; while true; do sleep 1; done"',
      '    depends_on:',
      '      web: {condition: service_healthy}',
      '    networks: [back]',
      '    volumes: [jobs:/jobs]',
      'networks:',
      '  front: {}',
      '  back: {}',
      'volumes:',
      '  static: {}',
      '  jobs: {}',
      '',
    ].join('\n'))

    const up = await ok(bc(120, app, ['up', '-d', '--wait']), 'berth compose up -d --wait')
    assert.match(up.stderr, /Container shop-web-1 {2}Healthy/)
    const cs = await containers('shop')
    assert.deepEqual(cs.map((c) => c.Names[0]).sort(), ['/shop-web-1', '/shop-worker-1'])
    const web = cs.find((c) => c.Names[0] === '/shop-web-1')
    assert.equal(web.Labels['com.docker.compose.service'], 'web')
    assert.equal(web.Labels['com.docker.compose.container-number'], '1')
    assert.equal(web.Labels['com.docker.compose.oneoff'], 'False')
    assert.match(web.Labels['com.docker.compose.config-hash'], /^[0-9a-f]{64}$/)
    assert.equal(web.Labels['com.docker.compose.project.working_dir'], app)
    const worker = cs.find((c) => c.Names[0] === '/shop-worker-1')
    assert.equal(worker.Labels['com.docker.compose.depends_on'], 'web:service_healthy:false')
    // The worker started only once web was healthy.
    const wi = (await api(h, 'GET', '/containers/shop-worker-1/json')).json() as Json
    const webi = (await api(h, 'GET', '/containers/shop-web-1/json')).json() as Json
    assert.equal(webi.State.Health.Status, 'healthy')
    assert.ok(Date.parse(wi.State.StartedAt) >= Date.parse(webi.State.Health.Log[0].End) - 5, 'worker started after the first healthy check')
    assert.equal(webi.Config.Env.includes('GREETING=hi'), true)
    const nets = ((await api(h, 'GET', '/networks')).json() as Json[]).map((n) => n.Name).filter((n: string) => n.startsWith('shop_')).sort()
    assert.deepEqual(nets, ['shop_back', 'shop_front'])
    const vols = ((await api(h, 'GET', '/volumes')).json() as Json).Volumes.map((v: Json) => v.Name).filter((n: string) => n.startsWith('shop_')).sort()
    assert.deepEqual(vols, ['shop_jobs', 'shop_static'])

    // No change: nothing touched, and the docker plugin sees the same project.
    const ids = (await containers('shop')).map((c) => c.Id).sort()
    const again = await ok(dc(60, app, ['up', '-d']), 'docker compose up -d (no change)')
    assert.doesNotMatch(again.stderr, /Creat|Recreat|Start/)
    assert.deepEqual((await containers('shop')).map((c) => c.Id).sort(), ids)
    const dry = await ok(bc(60, app, ['--dry-run', 'up', '-d'], { GREETING: 'changed' }), 'up --dry-run')
    assert.match(dry.stdout, /^web-1: recreate, config changed: environment\.GREETING$/m)
    assert.match(dry.stdout, /^worker-1: unchanged, running$/m)
    assert.deepEqual((await containers('shop')).map((c) => c.Id).sort(), ids, '--dry-run changed nothing')

    // A changed environment recreates only that service.
    await ok(bc(120, app, ['up', '-d'], { GREETING: 'changed' }), 'up with a changed environment')
    const after1 = await containers('shop')
    assert.equal(after1.find((c) => c.Names[0] === '/shop-worker-1').Id, worker.Id, 'worker kept')
    assert.notEqual(after1.find((c) => c.Names[0] === '/shop-web-1').Id, web.Id, 'web recreated')

    // Scale to 3: every replica answers to the service name.
    await ok(dc(120, app, ['up', '-d', '--scale', 'worker=3'], { GREETING: 'changed' }), 'docker compose up --scale worker=3')
    const workers = (await containers('shop')).filter((c) => c.Labels['com.docker.compose.service'] === 'worker')
    assert.equal(workers.length, 3)
    const ips = new Set(workers.map((c) => c.NetworkSettings.Networks.shop_back.IPAddress))
    const ns = await ok(dc(60, app, ['exec', '-T', 'web', 'nslookup', 'worker'], { GREETING: 'changed' }), 'exec nslookup')
    const resolved = new Set([...ns.stdout.matchAll(/Address:\s*([\d.]+)$/gm)].map((m) => m[1]).filter((ip) => !ip!.endsWith('.1')))
    assert.deepEqual([...resolved].sort(), [...ips].sort())

    // exec, run --rm, logs.
    const page = await ok(bc(60, app, ['exec', '-T', 'worker', 'wget', '-q', '-O', '-', 'http://web/'], { GREETING: 'changed' }), 'exec wget')
    assert.equal(page.stdout.trim(), 'hello-from-web')
    const run = await ok(bc(60, app, ['run', '--rm', '-T', '--no-deps', 'worker', 'sh', '-c', 'echo ran-$HOSTNAME; ls -d /jobs'], { GREETING: 'changed' }), 'run --rm')
    assert.match(run.stdout, /^ran-/m)
    assert.match(run.stdout, /^\/jobs$/m)
    assert.equal((await containers('shop')).filter((c) => c.Labels['com.docker.compose.oneoff'] === 'True').length, 0, 'run --rm removed its container')
    const logs = await ok(bc(60, app, ['logs', '--no-color', 'worker'], { GREETING: 'changed' }), 'logs')
    assert.match(logs.stdout, /^worker-1 +\| worker-started$/m)
    const follow = await bc(4, app, ['logs', '-f', 'worker'], { GREETING: 'changed' })
    assert.equal(follow.code, 137, 'logs -f keeps following until killed')
    assert.match(follow.stdout, /worker-3 +\| worker-started/)

    const ps = await ok(dc(60, app, ['ps', '--format', 'json'], { GREETING: 'changed' }), 'ps --format json')
    assert.equal(ps.stdout.trim().split('\n').length, 4)
    const ls = await ok(bc(60, app, ['ls', '--format', 'json']), 'ls')
    assert.ok((JSON.parse(ls.stdout) as Json[]).some((p) => p.Name === 'shop' && /running\(4\)/.test(p.Status)))

    // down -v leaves nothing.
    await ok(dc(120, app, ['down', '-v'], { GREETING: 'changed' }), 'docker compose down -v')
    assert.deepEqual(await containers('shop'), [])
    assert.deepEqual(((await api(h, 'GET', '/networks')).json() as Json[]).filter((n) => n.Name.startsWith('shop_')), [])
    assert.deepEqual(((await api(h, 'GET', '/volumes')).json() as Json).Volumes?.filter((v: Json) => v.Name.startsWith('shop_')) ?? [], [])
  })

  it('reports bad input naming the file, line, column and key', async () => {
    const app = join(dir, 'bad')
    await mkdir(app, { recursive: true })
    await writeFile(join(app, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n    ports:\n      - "80"\n      - {target: 80, bogus: 1}\n')
    const r = await bc(30, app, ['config'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /compose\.yaml:6:\d+: services\.web\.ports\[1\]\.bogus additional property bogus is not allowed/)
    await writeFile(join(app, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n    depends_on: [db]\n')
    assert.match((await bc(30, app, ['up', '-d'])).stderr, /service "web" depends on undefined service "db"/)
    await writeFile(join(app, 'compose.yaml'), 'services:\n  web:\n    image: busybox:${TAG:?set TAG}\n')
    assert.match((await bc(30, app, ['config'])).stderr, /required variable TAG is missing a value: set TAG/)
    await writeFile(join(app, 'compose.yaml'), 'services:\n  web:\n    image: no-such-image-here\n    pull_policy: never\n')
    assert.match((await bc(30, app, ['up', '-d'])).stderr, /service web: image no-such-image-here/)
    // A port already taken: the error names the service and container; down cleans up what was made.
    const port = 20000 + Math.floor(Math.random() * 20000)
    await writeFile(join(app, 'compose.yaml'), `services:\n  a:\n    image: busybox\n    command: sleep 60\n    ports: ["127.0.0.1:${port}:80"]\n  b:\n    image: busybox\n    command: sleep 60\n    ports: ["127.0.0.1:${port}:80"]\n    depends_on: [a]\n`)
    const taken = await bc(60, app, ['up', '-d'])
    assert.notEqual(taken.code, 0)
    assert.match(taken.stderr, /service b: container bad-b-1: Error response from daemon: .*(address already in use|port is already allocated)/i)
    assert.match(taken.stderr, /up failed; created so far: .*container bad-b-1/)
    await ok(bc(60, app, ['down', '-t', '0']), 'down after a failed up')
    assert.deepEqual(await containers('bad'), [])
    await writeFile(join(app, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n    blkio_config: {weight: 10}\n')
    assert.match((await bc(30, app, ['config'])).stderr, /services\.web\.blkio_config: not supported by berth compose yet/)
  })

  it('manages a project created by docker-compose 1.29', async (t) => {
    if (!hasDockerCompose1) return t.skip('Debian docker-compose 1.29 is not installed (apt-get install docker-compose)')
    const app = join(dir, 'legacy')
    await mkdir(app, { recursive: true })
    await writeFile(join(app, 'docker-compose.yml'), 'version: "3"\nservices:\n  db:\n    image: busybox\n    command: sleep 600\n  app:\n    image: busybox\n    command: sleep 600\n    depends_on: [db]\n')
    await ok(runKilled(h, 120, ['env', '-C', app, 'docker-compose', 'up', '-d']), 'docker-compose 1.29 up -d')
    const before = await containers('legacy')
    assert.deepEqual(before.map((c) => c.Names[0]).sort(), ['/legacy_app_1', '/legacy_db_1'])
    const ps = await ok(bc(60, app, ['ps', '--services']), 'berth compose ps on a 1.29 project')
    assert.deepEqual(ps.stdout.trim().split('\n').sort(), ['app', 'db'])
    // compose v2 recreates 1.29's containers (its config hash differs) under v2 names.
    await ok(bc(120, app, ['up', '-d']), 'berth compose up -d over a 1.29 project')
    assert.deepEqual((await containers('legacy')).map((c) => c.Names[0]).sort(), ['/legacy-app-1', '/legacy-db-1'])
    await ok(bc(120, app, ['down']), 'berth compose down')
    assert.deepEqual(await containers('legacy'), [])
    assert.deepEqual(((await api(h, 'GET', '/networks')).json() as Json[]).filter((n) => n.Name.startsWith('legacy_')), [])
  })
})

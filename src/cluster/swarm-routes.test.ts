import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createServer, request, type Server } from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ClusterBackend, LogStream, SwarmInfo, SwarmLifecycle, SwarmLogs, SwarmNetworks } from '../api/backend.js'
import { Router } from '../api/router.js'
import { swarmRoutes } from '../api/routes/swarm.js'
import { EngineError } from '../lib/errors.js'
import { NOT_A_MANAGER, NOT_IN_SWARM, requireManager, type SwarmContext } from './context.js'
import { Agent } from './agent.js'
import { Manager } from './manager.js'
import { ClusterObjects } from './objects.js'
import { FakeEngine } from './testing/fake-engine.js'
import { ClusterStore } from './store.js'
import { ETCD_SKIP, startTestEtcd } from './testing/etcd-fixture.js'
import { makeNode, makeTask } from './testing/objects.js'
import { defaultSwarmSpec, type NodeRole } from './types.js'

/**
 * routes/swarm.ts over ClusterObjects on a real etcd, with a lifecycle, networks and logs
 * stand-in written here, driven by the real docker CLI and docker-py (the parts the daemon
 * composes arrive from the other helpers' files).
 */

let fx: Awaited<ReturnType<typeof startTestEtcd>> | undefined
let store: ClusterStore
let role: NodeRole | undefined = 'manager'
let server: Server | undefined
let dir = ''
let sock = ''

const ctx = (): SwarmContext | undefined => role === undefined ? undefined : ({
  nodeId: 'node-m1', role, store, advertiseAddr: '127.0.0.1', swarmAddr: '127.0.0.1:2377', dataPathAddr: '127.0.0.1', dataPathPort: 4789,
  tls: { certPem: '', keyPem: '', caPem: '' },
})

const TOKENS = { worker: 'SWMTKN-1-aaaa-worker', manager: 'SWMTKN-1-aaaa-manager' }

function lifecycle(): SwarmLifecycle {
  return {
    async info(): Promise<SwarmInfo> {
      const c = ctx()
      return { nodeId: c?.nodeId ?? '', nodeAddr: c?.advertiseAddr ?? '', localNodeState: c ? 'active' : 'inactive', controlAvailable: c?.role === 'manager', error: '', remoteManagers: [] }
    },
    async inspect() {
      const s = requireManager(ctx).store
      return { cluster: (await s.getCluster())!, joinTokens: TOKENS }
    },
    async init() { throw new EngineError('Unavailable', 'ERR_SWARM_EXISTS', 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.') },
    async join() { throw new EngineError('Unavailable', 'ERR_SWARM_EXISTS', 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.') },
    async leave() { if (!ctx()) throw new EngineError('Unavailable', 'ERR_SWARM_NOT_IN_SWARM', NOT_IN_SWARM) },
    async update(spec, flags) {
      const s = requireManager(ctx).store
      const cur = (await s.getCluster())!
      await s.putCluster({ ...cur, spec }, flags.version)
    },
    async unlockKey() { requireManager(ctx); return 'SWMKEY-1-testkey' },
    async unlock() { requireManager(ctx) },
  }
}

const networks: SwarmNetworks = {
  async listSwarmNetworks() { return requireManager(ctx).store.list('networks') },
  async inspectSwarmNetwork() { throw new Error('not in this test') },
  async createSwarmNetwork() { throw new Error('not in this test') },
  async removeSwarmNetwork() { throw new Error('not in this test') },
}

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text)
  const h = Buffer.alloc(8)
  h[0] = stream
  h.writeUInt32BE(body.length, 4)
  return Buffer.concat([h, body])
}

const logs: SwarmLogs = {
  // As moby: with `details` each line starts with the task's attributes (the CLI reads them for its prefix).
  async serviceLogs(id, o): Promise<LogStream> {
    const svc = await objects.inspectService(id)
    const d = o.details ? `com.docker.swarm.node.id=node-w1,com.docker.swarm.service.id=${svc.service.id},com.docker.swarm.task.id=taskaaaaaaaaaaaaaaaaaaaa1 ` : ''
    return { tty: false, chunks: (async function* () { yield frame(1, `${d}hello from ${svc.service.spec.name}\n`) })() }
  },
  async taskLogs(id, o): Promise<LogStream> {
    const t = await objects.inspectTask(id)
    const d = o.details ? `com.docker.swarm.node.id=${t.nodeId},com.docker.swarm.service.id=${t.serviceId},com.docker.swarm.task.id=${t.id} ` : ''
    return { tty: false, chunks: (async function* () { yield frame(2, `${d}task ${t.id}\n`) })() }
  },
}

const objects = new ClusterObjects(ctx)

/** The four parts as the daemon combines them. */
function combine(...parts: object[]): ClusterBackend {
  const out: Record<string, unknown> = {}
  for (const p of parts) {
    let proto: object | null = p
    while (proto && proto !== Object.prototype) {
      for (const k of Object.getOwnPropertyNames(proto)) {
        const v = (p as Record<string, unknown>)[k]
        if (k !== 'constructor' && typeof v === 'function' && !(k in out)) out[k] = (v as (...a: unknown[]) => unknown).bind(p)
      }
      proto = Object.getPrototypeOf(proto)
    }
  }
  return out as unknown as ClusterBackend
}

before(async () => {
  if (ETCD_SKIP) return
  fx = await startTestEtcd('swarm-routes')
  store = new ClusterStore(fx.member.client)
  const now = new Date().toISOString()
  await store.putCluster({ id: 'clusterid0000000000000001', version: { index: 0 }, createdAt: now, updatedAt: now, spec: defaultSwarmSpec(), rootRotationInProgress: false, dataPathPort: 4789, defaultAddrPool: ['10.0.0.0/8'], subnetSize: 24 }, 0)
  await store.create('nodes', { ...makeNode('mgr1', { id: 'node-m1', role: 'manager' }), managerStatus: { leader: true, reachability: 'reachable', addr: '127.0.0.1:2377' } })
  await store.create('nodes', makeNode('wrk1', { id: 'node-w1', role: 'worker' }))
  const router = new Router('Berth/test (linux)')
  router.add(['GET', 'HEAD'], '/_ping', (c) => { c.res.writeHead(200, { 'Content-Type': 'text/plain' }); c.res.end(c.req.method === 'HEAD' ? undefined : 'OK') })
  router.add('GET', '/info', async () => {
    const i = await lifecycle().info()
    return { ID: 'x', Name: 'test', Swarm: { NodeID: i.nodeId, NodeAddr: i.nodeAddr, LocalNodeState: i.localNodeState, ControlAvailable: i.controlAvailable, Error: '', RemoteManagers: null } }
  })
  router.add('GET', '/version', () => ({ Version: '28.2.2', ApiVersion: '1.50', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64' }))
  swarmRoutes(router, combine(lifecycle(), objects, networks, logs))
  dir = mkdtempSync(join(tmpdir(), 'berth-swarm-routes-'))
  sock = join(dir, 'api.sock')
  server = createServer((req, res) => { void router.handle(req, res) })
  await new Promise<void>((resolve) => server!.listen(sock, resolve))
})

after(async () => {
  if (server) {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server!.close(() => resolve()))
  }
  if (dir) rmSync(dir, { recursive: true, force: true })
  await fx?.close()
})

function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json: () => any; type: string }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const req = request({ socketPath: sock, method, path, headers: { ...headers, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text), type: String(res.headers['content-type'] ?? '') })
      })
    })
    req.on('error', reject)
    req.end(data)
  })
}

function docker(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile('docker', ['-H', `unix://${sock}`, ...args], { env: { ...process.env, DOCKER_CONFIG: dir, DOCKER_CLI_HINTS: 'false' }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
    p.stdin?.end()
  })
}

function py(code: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('python3', ['-c', `import docker, json\nc = docker.DockerClient(base_url='unix://${sock}')\n${code}`], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

const hasDocker = await new Promise<boolean>((resolve) => execFile('docker', ['--version'], (err) => resolve(!err)))
const hasPy = await new Promise<boolean>((resolve) => execFile('python3', ['-c', 'import docker'], (err) => resolve(!err)))
const opts = { skip: ETCD_SKIP || (!hasDocker && 'the docker CLI is not installed'), timeout: 120_000 }

test('swarm routes: Docker\'s 503 outside swarm mode, before any body is read; worker words on a worker', { skip: ETCD_SKIP, timeout: 60_000 }, async () => {
  role = undefined
  try {
    for (const [method, path] of [['GET', '/swarm'], ['POST', '/services/create'], ['POST', '/nodes/x/update?version=1'], ['POST', '/services/x/update?version=1'], ['GET', '/tasks'], ['POST', '/secrets/create'], ['DELETE', '/configs/x'], ['POST', '/swarm/update?version=1'], ['GET', '/swarm/unlockkey']] as const) {
      const r = await api(method, path, method === 'POST' ? {} : undefined)
      assert.equal(r.status, 503, `${method} ${path}: ${r.text}`)
      assert.equal(r.json().message, NOT_A_MANAGER)
    }
    const leave = await api('POST', '/swarm/leave?force=1')
    assert.equal(leave.status, 503)
    assert.equal(leave.json().message, NOT_IN_SWARM)
    role = 'worker'
    const w = await api('POST', '/services/create', {})
    assert.equal(w.status, 503)
    assert.match(w.json().message, /Worker nodes can't be used to view or modify cluster state/)
  } finally {
    role = 'manager'
  }
})

test('swarm routes: moby\'s conversion errors and query checks', { skip: ETCD_SKIP, timeout: 60_000 }, async () => {
  const r1 = await api('POST', '/services/create', { Name: 'x', TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, Mode: { Global: {}, Replicated: { Replicas: 2 } } })
  assert.equal(r1.status, 400)
  assert.equal(r1.json().message, 'must specify only one service mode')
  const r2 = await api('POST', '/services/create', { Name: 'x', TaskTemplate: { ContainerSpec: { Image: '' } } })
  assert.equal(r2.status, 400)
  assert.equal(r2.json().message, 'rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided')
  const r3 = await api('POST', '/services/create', { Name: 'x' })
  assert.equal(r3.json().message, 'mismatched Runtime and *Spec fields')
  const r4 = await api('POST', '/services/x/update?version=abc', {})
  assert.equal(r4.status, 400)
  assert.equal(r4.json().message, 'invalid service version \'abc\': strconv.ParseUint: parsing "abc": invalid syntax')
  const r5 = await api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ bogus: ['1'] }))}`)
  assert.equal(r5.json().message, "invalid filter 'bogus'")
  const r6 = await api('POST', '/nodes/node-w1/update?version=1', { Role: 'boss', Availability: 'active' })
  assert.equal(r6.json().message, 'invalid Role: "boss"')
  const r7 = await api('GET', '/services/nosuch')
  assert.equal(r7.status, 404)
  assert.equal(r7.json().message, 'service nosuch not found')
})

test('swarm routes: the docker CLI drives services, tasks, nodes, secrets, configs and the swarm', opts, async () => {
  const ok = (r: { code: number; stdout: string; stderr: string }, what: string) => assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`)

  // secrets and configs
  writeFileSync(join(dir, 'pw'), 's3cret')
  const sc = await docker('secret', 'create', '--label', 'team=a', 'db_pw', join(dir, 'pw'))
  ok(sc, 'secret create')
  const secretId = sc.stdout.trim()
  assert.equal(secretId.length, 25)
  const si = await docker('secret', 'inspect', 'db_pw')
  ok(si, 'secret inspect')
  const sj = JSON.parse(si.stdout)[0]
  assert.deepEqual(Object.keys(sj).sort(), ['CreatedAt', 'ID', 'Spec', 'UpdatedAt', 'Version'])
  assert.deepEqual(sj.Spec, { Name: 'db_pw', Labels: { team: 'a' } })
  const dup = await docker('secret', 'create', 'db_pw', join(dir, 'pw'))
  assert.equal(dup.code, 1)
  assert.equal(dup.stderr.trim(), 'Error response from daemon: rpc error: code = AlreadyExists desc = secret db_pw already exists')
  ok(await docker('config', 'create', 'app_conf', join(dir, 'pw')), 'config create')
  const ci = await docker('config', 'inspect', '--format', '{{json .Spec.Data}}', 'app_conf')
  ok(ci, 'config inspect')
  assert.equal(JSON.parse(ci.stdout), Buffer.from('s3cret').toString('base64'))
  const sls = await docker('secret', 'ls', '--format', '{{.Name}} {{.ID}}')
  ok(sls, 'secret ls')
  assert.equal(sls.stdout.trim(), `db_pw ${secretId}`)

  // services
  const cr = await docker('service', 'create', '--detach', '--no-resolve-image', '--name', 'web', '--replicas', '2', '-p', '8080:80', '-p', '9000', '--secret', 'db_pw', '--config', 'src=app_conf,target=/etc/app.conf', '--label', 'tier=front', 'busybox:latest', 'sleep', '1000')
  ok(cr, 'service create')
  const id = cr.stdout.trim()
  assert.equal(id.length, 25)
  const insp = JSON.parse((await docker('service', 'inspect', 'web')).stdout)[0]
  assert.equal(insp.ID, id)
  assert.equal(insp.Spec.Name, 'web')
  assert.deepEqual(insp.Spec.Labels, { tier: 'front' })
  assert.equal(insp.Spec.TaskTemplate.ContainerSpec.Image, 'busybox:latest')
  assert.deepEqual(insp.Spec.TaskTemplate.ContainerSpec.Args, ['sleep', '1000'])
  assert.equal(insp.Spec.TaskTemplate.ContainerSpec.Secrets[0].SecretID, secretId)
  assert.equal(insp.Spec.TaskTemplate.ContainerSpec.Secrets[0].File.Name, 'db_pw')
  assert.equal(insp.Spec.TaskTemplate.ContainerSpec.Configs[0].File.Name, '/etc/app.conf')
  assert.equal(insp.Spec.TaskTemplate.Runtime, 'container')
  assert.deepEqual(insp.Spec.Mode, { Replicated: { Replicas: 2 } })
  assert.deepEqual(insp.Endpoint.Ports, [
    { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
    { Protocol: 'tcp', TargetPort: 9000, PublishedPort: 30000, PublishMode: 'ingress' },
  ])
  assert.equal(insp.PreviousSpec, undefined)
  const ls = await docker('service', 'ls', '--format', '{{.Name}}|{{.Mode}}|{{.Replicas}}|{{.Image}}|{{.Ports}}')
  ok(ls, 'service ls')
  assert.equal(ls.stdout.trim(), 'web|replicated|0/2|busybox:latest|*:8080->80/tcp, *:30000->9000/tcp')

  const pretty = await docker('service', 'inspect', '--pretty', 'web')
  ok(pretty, 'service inspect --pretty')
  assert.match(pretty.stdout, /^Name:\s+web$/m)
  assert.match(pretty.stdout, /^Service Mode:\s+Replicated\n Replicas:\s+2$/m)
  assert.match(pretty.stdout, /PublishedPort = 8080/)
  const flt = await docker('service', 'ls', '-q', '--filter', 'label=tier=front')
  assert.equal(flt.stdout.trim(), id.slice(0, 12))
  assert.equal((await docker('service', 'ls', '-q', '--filter', 'mode=global')).stdout.trim(), '')

  // A clash on 8080, in swarmkit's words.
  const clash = await docker('service', 'create', '--detach', '--no-resolve-image', '--name', 'web2', '-p', '8080:80', 'busybox')
  assert.equal(clash.code, 1)
  assert.equal(clash.stderr.trim(), `Error response from daemon: rpc error: code = InvalidArgument desc = port '8080' is already in use by service 'web' (${id}) as an ingress port`)
  const nameClash = await docker('service', 'create', '--detach', '--no-resolve-image', '--name', 'WEB', 'busybox')
  assert.equal(nameClash.stderr.trim(), 'Error response from daemon: rpc error: code = AlreadyExists desc = name conflicts with an existing object: service WEB already exists')

  const other = await docker('service', 'create', '--detach', '--no-resolve-image', '--name', 'other', 'busybox')
  ok(other, 'service create other')
  const pa = await docker('service', 'update', '--detach', '--publish-add', '8080:81', 'other')
  assert.equal(pa.code, 1)
  assert.match(pa.stderr, /port '8080' is already in use by service 'web' \(\w+\) as an ingress port/)
  ok(await docker('service', 'rm', 'other'), 'service rm other')

  // scale, update, rollback
  const sc3 = await docker('service', 'scale', '--detach', 'web=3')
  ok(sc3, 'service scale')
  assert.match(sc3.stdout, /web scaled to 3/)
  const up = await docker('service', 'update', '--detach', '--env-add', 'A=1', 'web')
  ok(up, 'service update')
  const after = JSON.parse((await docker('service', 'inspect', 'web')).stdout)[0]
  assert.deepEqual(after.Spec.TaskTemplate.ContainerSpec.Env, ['A=1'])
  assert.deepEqual(after.Spec.Mode, { Replicated: { Replicas: 3 } })
  assert.deepEqual(after.PreviousSpec.Mode, { Replicated: { Replicas: 3 } })
  assert.equal(after.PreviousSpec.TaskTemplate.ContainerSpec.Env, undefined)
  assert.deepEqual(after.Endpoint.Ports.map((p: { PublishedPort: number }) => p.PublishedPort), [8080, 30000])
  const rb = await docker('service', 'rollback', '--detach', 'web')
  ok(rb, 'service rollback')
  const rolled = JSON.parse((await docker('service', 'inspect', 'web')).stdout)[0]
  assert.equal(rolled.Spec.TaskTemplate.ContainerSpec.Env, undefined)
  assert.equal(rolled.UpdateStatus.State, 'rollback_started')
  assert.equal(rolled.UpdateStatus.Message, 'manually requested rollback')

  // tasks: service ps and node ps resolve names; logs stream
  const svc = (await objects.inspectService(id)).service
  await store.create('tasks', { ...makeTask(svc, { id: 'taskaaaaaaaaaaaaaaaaaaaa1', slot: 1, nodeId: 'node-w1', state: 'running' }), createdAt: new Date().toISOString() })
  await store.create('tasks', { ...makeTask(svc, { id: 'taskaaaaaaaaaaaaaaaaaaaa2', slot: 2, nodeId: 'node-m1', state: 'failed' }), status: { timestamp: new Date().toISOString(), state: 'failed', message: 'started', err: 'task: non-zero exit (1)' } })
  const ps = await docker('service', 'ps', '--format', '{{.Name}}|{{.Node}}|{{.DesiredState}}|{{.Error}}', 'web')
  ok(ps, 'service ps')
  assert.deepEqual(ps.stdout.trim().split('\n').sort(), ['web.1|wrk1|Running|', 'web.2|mgr1|Running|"task: non-zero exit (1)"'])
  const table = await docker('service', 'ps', '--no-trunc', 'web')
  ok(table, 'service ps (table)')
  assert.match(table.stdout, /^ID\s+NAME\s+IMAGE\s+NODE\s+DESIRED STATE\s+CURRENT STATE\s+ERROR\s+PORTS$/m)
  assert.match(table.stdout, /taskaaaaaaaaaaaaaaaaaaaa2\s+web\.2\s+busybox:latest\s+mgr1\s+Running\s+Failed .*"task: non-zero exit \(1\)"/)
  const nps = await docker('node', 'ps', '--format', '{{.Name}}', 'wrk1')
  ok(nps, 'node ps')
  assert.equal(nps.stdout.trim(), 'web.1')
  const lsAgain = await docker('service', 'ls', '--format', '{{.Replicas}}')
  assert.equal(lsAgain.stdout.trim(), '1/3')
  const lg = await docker('service', 'logs', '--raw', 'web')
  ok(lg, 'service logs')
  assert.equal(lg.stdout, 'hello from web\n')
  const lgp = await docker('service', 'logs', 'web')
  ok(lgp, 'service logs (prefixed)')
  assert.match(lgp.stdout, /^web\.1\.taskaaaaaaaa\w*@wrk1\s*\| hello from web\n$/)
  const tl = await docker('service', 'logs', '--raw', 'taskaaaaaaaaaaaaaaaaaaaa2')
  assert.equal(tl.stderr, 'task taskaaaaaaaaaaaaaaaaaaaa2\n')

  // a secret in use cannot be removed
  const srm = await docker('secret', 'rm', 'db_pw')
  assert.equal(srm.code, 1)
  assert.equal(srm.stderr.trim(), "Error response from daemon: rpc error: code = InvalidArgument desc = secret 'db_pw' is in use by the following service: web")

  // nodes
  const nls = await docker('node', 'ls', '--format', '{{.Hostname}}|{{.Self}}|{{.Status}}|{{.Availability}}|{{.ManagerStatus}}')
  ok(nls, 'node ls')
  assert.deepEqual(nls.stdout.trim().split('\n').sort(), ['mgr1|true|Ready|Active|Leader', 'wrk1|false|Ready|Active|'])
  ok(await docker('node', 'update', '--availability', 'drain', '--label-add', 'zone=b', 'wrk1'), 'node update')
  const ni = await docker('node', 'inspect', '--format', '{{.Spec.Availability}} {{json .Spec.Labels}}', 'wrk1')
  assert.equal(ni.stdout.trim(), 'drain {"zone":"b"}')
  const nrm = await docker('node', 'rm', 'wrk1')
  assert.equal(nrm.code, 1)
  assert.equal(nrm.stderr.trim(), "Error response from daemon: rpc error: code = FailedPrecondition desc = node node-w1 is not down and can't be removed")

  // swarm
  const jt = await docker('swarm', 'join-token', '-q', 'worker')
  ok(jt, 'join-token')
  assert.equal(jt.stdout.trim(), TOKENS.worker)
  ok(await docker('swarm', 'update', '--task-history-limit', '7'), 'swarm update')
  assert.equal((await store.getCluster())!.spec.orchestration.taskHistoryRetentionLimit, 7)
  const uk = await docker('swarm', 'unlock-key', '-q')
  ok(uk, 'unlock-key')
  assert.equal(uk.stdout.trim(), 'SWMKEY-1-testkey')

  // removal
  ok(await docker('service', 'rm', 'web'), 'service rm')
  assert.equal((await docker('service', 'ls', '-q')).stdout.trim(), '')
  ok(await docker('secret', 'rm', 'db_pw'), 'secret rm')
  ok(await docker('config', 'rm', 'app_conf'), 'config rm')
  for (const t of await store.list('tasks')) await store.remove('tasks', t.id)
})

test('swarm routes: docker-py services, secrets, configs, nodes and swarm attributes', { ...opts, skip: opts.skip || (!hasPy && 'docker-py is not installed') }, async () => {
  const p = await py([
    "s = c.services.create('busybox:latest', name='pysvc', command=['sleep', '60'], labels={'a': 'b'})",
    's.reload()',
    "print(s.name, s.attrs['Spec']['Mode'], s.attrs['Spec']['Labels'])",
    's.scale(4)',
    's.reload()',
    "print(s.attrs['Spec']['Mode']['Replicated']['Replicas'], s.attrs['Version']['Index'] > 0)",
    "print([x.name for x in c.services.list(filters={'name': 'pys'})])",
    "sec = c.secrets.create(name='pysec', data=b'hello')",
    "print(c.secrets.get(sec.id).name, 'Data' in c.secrets.get(sec.id).attrs['Spec'])",
    "cf = c.configs.create(name='pyconf', data=b'cfg')",
    "print(c.configs.get('pyconf').attrs['Spec']['Data'])",
    "print(sorted(n.attrs['Description']['Hostname'] for n in c.nodes.list()))",
    'c.swarm.reload()',
    "print(c.swarm.attrs['JoinTokens']['Manager'], isinstance(c.swarm.attrs['Spec']['Orchestration']['TaskHistoryRetentionLimit'], int))",
    's.remove()', 'sec.remove()', 'cf.remove()',
    'try:\n  c.services.get("pysvc")\nexcept docker.errors.NotFound as e:\n  print("gone", e.explanation)',
  ].join('\n'))
  assert.equal(p.code, 0, p.stderr)
  assert.deepEqual(p.stdout.trim().split('\n'), [
    "pysvc {'Replicated': {'Replicas': 1}} {'a': 'b'}",
    '4 True',
    "['pysvc']",
    'pysec False',
    Buffer.from('cfg').toString('base64'),
    "['mgr1', 'wrk1']",
    `${TOKENS.manager} True`,
    'gone service pysvc not found',
  ])
})

test('swarm routes: the CLI\'s attached service create, update, rollback and scale converge with the manager and agents (fake engine)', { ...opts, timeout: 180_000 }, async (t) => {
  const stops: Array<() => Promise<void>> = []
  const engines = new Map<string, FakeEngine>()
  try {
    const mgr = new Manager({ nodeId: 'node-m1', store })
    mgr.start()
    stops.push(() => mgr.stop())
    await mgr.whenLeader()
    for (const id of ['node-m1', 'node-w1']) {
      const engine = new FakeEngine()
      engines.set(id, engine)
      const a = new Agent({ nodeId: id, store, engine, pollMs: 50 })
      stops.push(() => a.stop({ revoke: true }))
      await a.start()
    }
    const ok = (r: { code: number; stdout: string; stderr: string }, what: string) => assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`)
    const running = () => [...engines.values()].reduce((n, e) => n + [...e.containers.values()].filter((c) => c.state === 'running').length, 0)

    const t0 = Date.now()
    const cr = await docker('service', 'create', '--no-resolve-image', '--quiet', '--name', 'conv', '--replicas', '3',
      '--update-monitor', '300ms', '--rollback-monitor', '300ms', 'busybox:latest', 'sleep', '1000')
    ok(cr, 'attached service create')
    t.diagnostic(`service create converged (CLI returned) in ${Date.now() - t0} ms`)
    assert.equal(running(), 3)
    assert.equal((await docker('service', 'ls', '--format', '{{.Name}} {{.Replicas}}')).stdout.trim(), 'conv 3/3')

    const up = await docker('service', 'update', '--quiet', '--env-add', 'X=1', 'conv')
    ok(up, 'attached service update')
    const afterUp = (await objects.inspectService('conv')).service
    assert.equal(afterUp.updateStatus?.state, 'completed')
    const live = await objects.listTasks({ service: ['conv'], 'desired-state': ['running'] })
    assert.equal(live.length, 3)
    assert.ok(live.every((x) => x.specRevision === afterUp.specRevision && x.spec.containerSpec.env?.includes('X=1')))

    const rb = await docker('service', 'rollback', '--quiet', 'conv')
    ok(rb, 'attached service rollback')
    const afterRb = (await objects.inspectService('conv')).service
    assert.equal(afterRb.updateStatus?.state, 'rollback_completed')
    assert.equal(afterRb.spec.taskTemplate.containerSpec.env, undefined)

    // Scale: no task replaced, one more slot.
    const before = new Set((await objects.listTasks({ service: ['conv'], 'desired-state': ['running'] })).map((x) => x.id))
    ok(await docker('service', 'scale', 'conv=4'), 'attached scale')
    const now = (await objects.listTasks({ service: ['conv'], 'desired-state': ['running'] })).map((x) => x.id)
    assert.equal(now.length, 4)
    assert.equal(now.filter((id) => before.has(id)).length, 3)
    assert.equal((await docker('service', 'ls', '--format', '{{.Replicas}}')).stdout.trim(), '4/4')

    // Global: one task per node that takes tasks (wrk1 was drained above: active again first).
    ok(await docker('node', 'update', '--availability', 'active', 'wrk1'), 'node update active')
    const gl = await docker('service', 'create', '--no-resolve-image', '--quiet', '--mode', 'global', '--name', 'glob', '--update-monitor', '300ms', 'busybox:latest', 'sleep', '1000')
    ok(gl, 'attached global create')
    assert.equal((await docker('service', 'ls', '--filter', 'mode=global', '--format', '{{.Name}} {{.Mode}} {{.Replicas}}')).stdout.trim(), 'glob global 2/2')
    assert.deepEqual((await objects.listTasks({ service: ['glob'] })).map((x) => x.nodeId).sort(), ['node-m1', 'node-w1'])
    ok(await docker('service', 'rm', 'glob'), 'service rm glob')

    ok(await docker('service', 'rm', 'conv'), 'service rm')
    await (async () => {
      for (let i = 0; i < 200 && running() > 0; i++) await new Promise((r) => setTimeout(r, 50))
    })()
    assert.equal(running(), 0, 'the tasks of a removed service are stopped')
  } finally {
    for (const s of stops.reverse()) await Promise.race([s().catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())])
  }
})

// The agent and swarmAgentEngine over a real in-process engine (crun, conmon, a temp data root):
// a task's container runs with Docker's name, labels and secret/config files, reports running,
// exits → failed, is removed with its files on desired remove; healthchecks gate `running`;
// ClusterLogs merges the task logs from the engine's container logs.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createReadStream, existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, LABEL, type ContainerSpecExtras } from '../../src/cluster/agent.js'
import type { OverlayNetworks, SwarmContext } from '../../src/cluster/context.js'
import { ClusterLogs } from '../../src/cluster/logs.js'
import { ClusterStore } from '../../src/cluster/store.js'
import { ETCD_SKIP, startTestEtcd } from '../../src/cluster/testing/etcd-fixture.js'
import { makeNode, makeService, makeTask } from '../../src/cluster/testing/objects.js'
import type { ContainerSpec, Network, ServiceSpec, Task, TaskState } from '../../src/cluster/types.js'
import { containerBackend } from '../../src/engine/backends/containers.js'
import { swarmAgentEngine } from '../../src/engine/backends/swarm-agent.js'
import { Engine } from '../../src/engine/engine.js'
import { pushImage } from '../../src/engine/images/push.js'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { freePort } from '../../src/cluster/testing/etcd-fixture.js'
import { FIXTURES, isRoot, runCmd } from './harness.js'

const BUSYBOX = join(FIXTURES, 'busybox.tar')
const SKIP = !isRoot ? 'needs root (containers)' : ETCD_SKIP ? ETCD_SKIP : !existsSync(BUSYBOX) ? `no busybox fixture at ${BUSYBOX}` : false
const opts = { skip: SKIP, timeout: 90_000 }

let fx: Awaited<ReturnType<typeof startTestEtcd>> | undefined
let root = ''
let engine: Engine | undefined
let store: ClusterStore
let agent: Agent | undefined
let bare: Agent | undefined
const NODE = 'sagentnode1'
/** A node whose engine has no overlay driver. */
const BARE = 'sagentnode2'
const localNets: string[] = []
const released: string[] = []

/** A stand-in for the overlay driver: a local bridge network with the swarm network's subnet. */
const overlay: OverlayNetworks = {
  async ensure(n: Network): Promise<string> {
    const name = `sagent-${n.spec.name}`
    try {
      return engine!.networks.resolveNetwork(name).id
    } catch {
      const { id } = await engine!.networks.create({ name, ipam: { config: [{ subnet: n.spec.ipam.config[0]!.subnet, gateway: n.spec.ipam.config[0]!.gateway }] } })
      localNets.push(id)
      return id
    }
  },
  async release(id: string): Promise<void> { released.push(id) },
  async start() { return { stop: async () => undefined } },
}

before(async () => {
  if (SKIP) return
  fx = await startTestEtcd('swarm-agent')
  store = new ClusterStore(fx.member.client)
  root = await mkdtemp(join(tmpdir(), 'berth-sagent-'))
  engine = new Engine({ dataRoot: join(root, 'data'), execRoot: join(root, 'exec'), log: (m) => { if (process.env.SAGENT_DEBUG) console.error(m) } })
  await engine.init()
  await engine.images.load(createReadStream(BUSYBOX))
  await store.create('nodes', makeNode('h1', { id: NODE }))
  await store.create('nodes', makeNode('h2', { id: BARE }))
  const deps = { containers: engine.containers, images: engine.images, registry: {}, execRoot: join(root, 'exec') }
  agent = new Agent({ nodeId: NODE, store, pollMs: 100, engine: swarmAgentEngine({ ...deps, overlay }) })
  await agent.start()
  bare = new Agent({ nodeId: BARE, store, pollMs: 100, engine: swarmAgentEngine(deps) })
  await bare.start()
})

after(async () => {
  await agent?.stop({ revoke: true }).catch(() => undefined)
  await bare?.stop({ revoke: true }).catch(() => undefined)
  if (engine) {
    if (process.env.SAGENT_DEBUG) console.error('bridges', engine.networks.resolveNetwork('bridge').bridge, localNets.map((id) => engine!.networks.resolveNetwork(id).bridge))
    for (const c of engine.containers.store.all()) await engine.containers.remove(c.id, { force: true, volumes: true }).catch(() => undefined)
    for (const id of localNets) await engine.networks.remove(id).catch(() => undefined)
    // The default bridge goes once idle (2 s), then repair() leaves nothing of this engine's network.
    await new Promise((r) => setTimeout(r, 2500))
    await engine.networks.repair().catch((e) => { if (process.env.SAGENT_DEBUG) console.error('repair', e) })
    engine.networks.close()
    engine.containers.close()
    await engine.layers.settle()
  }
  if (root) {
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(`${root}/`))
    for (const m of mounts.sort().reverse()) await runCmd('umount', ['-l', m])
    await rm(root, { recursive: true, force: true })
  }
  await fx?.close()
})

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function stateIs(id: string, s: TaskState) {
  return async () => {
    const t = await store.find('tasks', id)
    return t?.status.state === s ? t : undefined
  }
}

async function assign(name: string, c: Partial<ContainerSpec> & ContainerSpecExtras, o: { node?: string; service?: Partial<ServiceSpec>; task?: Partial<Task> } = {}): Promise<Task> {
  const svc = makeService(name, { id: `svc${name}`, ...o.service, taskTemplate: { containerSpec: { image: 'busybox', stopGracePeriod: 1e9, ...c }, ...o.service?.taskTemplate } })
  if (!(await store.find('services', svc.id))) await store.create('services', svc)
  return store.create('tasks', { ...makeTask(svc, { nodeId: o.node ?? NODE, slot: 1, state: 'assigned' }), ...o.task })
}

test('swarm agent engine: a task runs with Docker\'s name and labels, its secret and config files, logs, then is removed with its files', opts, async () => {
  const sec = await store.create('secrets', { id: 'sagentsec1', version: { index: 0 }, createdAt: '', updatedAt: '', spec: { name: 'pw', labels: {}, data: Buffer.from('s3cret').toString('base64') } })
  const cfg = await store.create('configs', { id: 'sagentcfg1', version: { index: 0 }, createdAt: '', updatedAt: '', spec: { name: 'app.conf', labels: {}, data: Buffer.from('k=v').toString('base64') } })
  await mkdir(join(root, 'bindsrc'))
  await writeFile(join(root, 'bindsrc', 'f'), 'bound\n')
  const t = await assign('web', {
    args: ['sh', '-c', 'stat -c "%n %a %u %g" /run/secrets/pw /app.conf; cat /run/secrets/pw; echo; cat /app.conf; echo; cat /data/f; touch /data/x 2>/dev/null || echo read-only; grep -c " /scratch tmpfs " /proc/mounts; touch /rootfs-x 2>/dev/null || echo ro-rootfs; grep -q "10.1.2.3.*db.local" /etc/hosts && echo hosts-ok; echo hello-from-task; sleep 300'],
    readOnly: true,
    hosts: ['10.1.2.3 db.local'],
    mounts: [{ type: 'bind', source: join(root, 'bindsrc'), target: '/data', readOnly: true }, { type: 'tmpfs', target: '/scratch' }],
    labels: { app: 'web' },
    secrets: [{ secretId: sec.id, secretName: 'pw', file: { name: 'pw', uid: '1000', gid: '2000', mode: 0o400 } }],
    configs: [{ configId: cfg.id, configName: 'app.conf', file: { name: 'app.conf', uid: '0', gid: '0', mode: 0o444 } }],
  })
  const running = await until('running', stateIs(t.id, 'running'))
  const id = running.status.containerStatus!.containerId
  const rec = engine!.containers.resolve(id)
  assert.equal(rec.name, `web.1.${t.id}`)
  assert.equal(rec.config.labels[LABEL.taskId], t.id)
  assert.equal(rec.config.labels[LABEL.taskName], `web.1.${t.id}`)
  assert.equal(rec.config.labels[LABEL.nodeId], NODE)
  assert.equal(rec.config.labels[LABEL.task], '')
  assert.equal(rec.config.labels.app, 'web')
  assert.equal(rec.hostConfig.restartPolicy.name, 'no')
  assert.ok(running.status.containerStatus!.pid > 0)

  // The container's output through ClusterLogs (local reader = the engine's container logs).
  const backend = containerBackend({ containers: engine!.containers, images: engine!.images, exec: engine!.exec, events: engine!.events })
  const ctx: SwarmContext = { nodeId: NODE, role: 'manager', store, advertiseAddr: '127.0.0.1', swarmAddr: '127.0.0.1:2377', dataPathAddr: '127.0.0.1', dataPathPort: 4789, tls: { certPem: '', keyPem: '', caPem: '' } }
  const logs = new ClusterLogs(() => ctx, (cid, o) => backend.logs(cid, o))
  const read = async () => {
    const s = await logs.serviceLogs('web', { stdout: true, stderr: true, follow: false, timestamps: false, details: true, signal: new AbortController().signal })
    const parts: Buffer[] = []
    for await (const c of s.chunks) parts.push(c)
    const b = Buffer.concat(parts)
    const lines: string[] = []
    for (let i = 0; i < b.length; i += 8 + b.readUInt32BE(i + 4)) lines.push(b.subarray(i + 8, i + 8 + b.readUInt32BE(i + 4)).toString())
    return lines
  }
  const lines = await until('task output', async () => {
    const l = await read()
    return l.some((x) => x.endsWith('hello-from-task\n')) ? l : undefined
  })
  const details = `com.docker.swarm.node.id=${NODE},com.docker.swarm.service.id=svcweb,com.docker.swarm.task.id=${t.id}`
  assert.deepEqual(lines, [
    `${details} /run/secrets/pw 400 1000 2000\n`,
    `${details} /app.conf 444 0 0\n`,
    `${details} s3cret\n`,
    `${details} k=v\n`,
    `${details} bound\n`,
    `${details} read-only\n`,
    `${details} 1\n`,
    `${details} ro-rootfs\n`,
    `${details} hosts-ok\n`,
    `${details} hello-from-task\n`,
  ])
  const filesDir = join(root, 'exec', 'swarm', 'task-files', t.id)
  assert.ok(existsSync(filesDir), 'the task\'s files are under the exec root')
  const tmpfsAt = async (dir: string) => (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === dir && l.includes(' - tmpfs '))
  assert.equal(await tmpfsAt(filesDir), true, 'on a tmpfs of their own')

  await store.modify('tasks', t.id, (x) => ({ ...x, desiredState: 'remove' }))
  const down = await until('shutdown', stateIs(t.id, 'shutdown'))
  assert.equal(down.status.message, 'shutdown')
  await until('container removed', async () => !engine!.containers.store.get(id))
  assert.equal(existsSync(filesDir), false, 'the files went with the container')
  assert.equal(await tmpfsAt(filesDir), false, 'the tmpfs is unmounted')
})

test('swarm agent engine: a non-zero exit fails the task in swarmkit\'s words; a missing image is rejected', opts, async () => {
  const t = await assign('bad', { args: ['sh', '-c', 'exit 3'] })
  const failed = await until('failed', stateIs(t.id, 'failed'))
  assert.equal(failed.status.err, 'task: non-zero exit (3)')
  assert.equal(failed.status.containerStatus?.exitCode, 3)
  const r = await assign('noimg', { image: 'localhost:1/berth-sagent-nosuch:latest', args: ['true'] })
  const rej = await until('rejected', stateIs(r.id, 'rejected'))
  assert.equal(rej.status.err, 'No such image: localhost:1/berth-sagent-nosuch:latest')
  // A bind mount's source must exist (swarm mounts have --mount semantics).
  const m = await assign('nobind', { args: ['true'], mounts: [{ type: 'bind', source: '/nonexistent-sagent', target: '/x' }] })
  const rm2 = await until('rejected', stateIs(m.id, 'rejected'))
  assert.equal(rm2.status.err, 'invalid mount config for type "bind": bind source path does not exist: /nonexistent-sagent')
})

const NET: Network = { id: 'sagentnet1', version: { index: 0 }, createdAt: '', updatedAt: '', vni: 4999, spec: { name: 'backend', labels: {}, driver: 'overlay', options: {}, attachable: false, ingress: false, internal: false, ipam: { driver: 'default', config: [{ subnet: '172.31.251.0/24', gateway: '172.31.251.1' }] } } }

test('swarm agent engine: swarm networks through OverlayNetworks (task address, aliases), host-mode ports, release on remove; no overlay driver: Docker\'s error', opts, async () => {
  await store.create('networks', NET)
  const t = await assign('db', { args: ['sleep', '300'] }, {
    service: { endpointSpec: { mode: 'vip', ports: [{ protocol: 'tcp', targetPort: 80, publishMode: 'host' }] }, taskTemplate: { containerSpec: { image: 'busybox' }, networks: [{ target: 'backend', aliases: ['database'] }] } },
    task: { networksAttachments: [{ networkId: NET.id, addresses: ['172.31.251.9/24'] }] },
  })
  const running = await until('running', stateIs(t.id, 'running'))
  const id = running.status.containerStatus!.containerId
  const rec = engine!.containers.resolve(id)
  const ep = rec.network?.endpoints[0]
  assert.equal(ep?.networkName, 'sagent-backend')
  assert.equal(ep?.ip, '172.31.251.9')
  assert.ok(ep?.aliases.includes('database'), `aliases ${JSON.stringify(ep?.aliases)}`)
  const port = rec.network?.ports.find((p) => p.containerPort === 80)
  assert.ok(port && port.hostPort > 0, `host port bound: ${JSON.stringify(rec.network?.ports)}`)
  await store.modify('tasks', t.id, (x) => ({ ...x, desiredState: 'remove' }))
  await until('container removed', async () => !engine!.containers.store.get(id))
  await until('network released', async () => released.length > 0)
  assert.deepEqual(released, [localNets[0]])

  const b = await assign('dbbare', { args: ['sleep', '300'] }, { node: BARE, task: { networksAttachments: [{ networkId: NET.id, addresses: ['172.31.251.10/24'] }] } })
  const rej = await until('rejected', stateIs(b.id, 'rejected'))
  assert.equal(rej.status.err, 'could not find plugin overlay in v1 plugin registry: plugin not found')
})

test('swarm agent engine: a healthcheck holds the task in starting until healthy; unhealthy stops and fails it', opts, async () => {
  const seen = new Set<TaskState>()
  const t = await assign('hc', { args: ['sleep', '300'], healthCheck: { test: ['CMD', 'true'], interval: 300e6 } })
  const ok = await until('running', async () => {
    const x = await store.find('tasks', t.id)
    if (x) seen.add(x.status.state)
    return x?.status.state === 'running' ? x : undefined
  })
  assert.ok(seen.has('starting'), `starting was seen (${[...seen].join(', ')})`)
  assert.equal(engine!.containers.resolve(ok.status.containerStatus!.containerId).state.health?.status, 'healthy', 'running only once healthy')
  const u = await assign('hcbad', { args: ['sleep', '300'], healthCheck: { test: ['CMD', 'false'], interval: 300e6, retries: 1 } })
  const failed = await until('failed', stateIs(u.id, 'failed'))
  assert.match(failed.status.err ?? '', /^task: non-zero exit \((137|143)\): dockerexec: unhealthy container$/)
  assert.equal(engine!.containers.resolve(failed.status.containerStatus!.containerId).state.status, 'exited')
})

const REGISTRY_BIN = '/usr/bin/docker-registry'
const REG_SKIP = SKIP || (!existsSync(REGISTRY_BIN) ? 'docker-registry is not installed' : spawnSync('htpasswd', ['-h'], { stdio: 'ignore' }).status === null ? 'htpasswd is not installed' : false)

test('swarm agent engine: an absent image is pulled with the service\'s registry credentials; without them the task is rejected', { skip: REG_SKIP, timeout: 90_000 }, async () => {
  const dir = join(root, 'registry')
  await mkdir(dir)
  const port = await freePort()
  await writeFile(join(dir, 'htpasswd'), spawnSync('htpasswd', ['-Bbn', 'alice', 'pa55']).stdout)
  await writeFile(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\nauth:\n  htpasswd:\n    realm: basic-realm\n    path: ${join(dir, 'htpasswd')}\n`)
  const proc: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: 'ignore' })
  try {
    await until('registry up', () => new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/v2/' }, (res) => { res.resume(); resolve(true) })
      req.on('error', () => resolve(false))
      req.end()
    }))
    const repo = `127.0.0.1:${port}/sagent/busybox`
    const settings = { insecureRegistries: [], mirrors: [], maxConcurrentDownloads: 3, maxConcurrentUploads: 5 }
    await engine!.images.tag('busybox:latest', repo, 'v1')
    await pushImage(engine!.images.deps, repo, 'v1', { credentials: { username: 'alice', password: 'pa55' }, settings, progress: () => undefined })
    await engine!.images.remove(`${repo}:v1`)
    assert.throws(() => engine!.images.resolve(`${repo}:v1`))
    const noAuth = await assign('privnoauth', { image: `${repo}:v1`, args: ['true'] })
    const rej = await until('rejected', stateIs(noAuth.id, 'rejected'))
    assert.equal(rej.status.err, `No such image: ${repo}:v1`)
    // The API keeps X-Registry-Auth with the service (Service.registryAuth).
    await store.create('services', Object.assign(makeService('priv', { id: 'svcpriv', taskTemplate: { containerSpec: { image: `${repo}:v1`, args: ['sleep', '300'] } } }), { registryAuth: { username: 'alice', password: 'pa55', serveraddress: `127.0.0.1:${port}` } }))
    const t = await assign('priv', { image: `${repo}:v1`, args: ['sleep', '300'] })
    await until('running', stateIs(t.id, 'running'))
    assert.ok(engine!.images.resolve(`${repo}:v1`), 'the image was pulled')
  } finally {
    const done = new Promise((r) => proc.once('exit', r))
    proc.kill('SIGTERM')
    await done
  }
})

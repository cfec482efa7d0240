/**
 * The berth swarm commands (swarm, node, service, secret, config, stack).
 *
 * 1. Against a canned Engine API (fake-swarm-daemon.ts), the real docker CLI 28 and berth run the
 *    same commands: their stdout, stderr (docker→berth) and exit status must be identical, and
 *    so must the bodies and queries of what they write (service create/update, swarm init...).
 * 2. Against a private berthd: `berth swarm init` and a service's life. Today's berthd answers
 *    init with 503 "swarm mode is not available": that part skips explicitly until it is wired.
 */
import { after, before, describe, it, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { BERTH, fixture, runCmd, startDaemon, type DaemonHandle, type RunResult } from './harness.js'
import { hasDockerCli } from './image-helpers.js'
import { startFakeDaemon, type Recorded } from './fake-swarm-daemon.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

interface CliRun extends RunResult { writes: Recorded[] }

/** One CLI against a fresh canned daemon: what it printed and what it wrote. */
async function runAgainstFake(bin: 'docker' | 'berth', args: string[], cfg: string, cwd: string, now: number): Promise<CliRun> {
  const d = await startFakeDaemon({}, now)
  try {
    const env = { DOCKER_HOST: d.host, BERTH_HOST: d.host, DOCKER_CONTEXT: 'default', DOCKER_CONFIG: cfg, HOME: cwd }
    const r = bin === 'docker'
      ? await runCmd('env', ['-C', cwd, 'docker', ...args], { env, timeoutMs: 30_000 })
      : await runCmd('env', ['-C', cwd, process.execPath, BERTH, ...args], { env, timeoutMs: 30_000 })
    return { ...r, writes: d.requests.filter((x) => x.method !== 'GET') }
  } finally {
    await d.close()
  }
}

/** The table commands whose output must be docker's, byte for byte. */
const READS: string[][] = [
  ['node', 'ls'], ['node', 'ls', '-q'], ['node', 'ls', '--format', 'json'], ['node', 'ls', '--format', '{{.Hostname}} {{.TLSStatus}} {{.Self}}'],
  ['node', 'inspect', '--pretty', 'self'], ['node', 'inspect', '--pretty', 'node-10'], ['node', 'inspect', 'self', 'nope'],
  ['node', 'ps'], ['node', 'ps', 'self', 'node-10'], ['node', 'ps', '--no-trunc', '--no-resolve', 'node-10'],
  ['service', 'ls'], ['service', 'ls', '-q'], ['service', 'ls', '--format', 'json'],
  ['service', 'ps', 'web'], ['service', 'ps', '--no-trunc', 'web', 'agent'], ['service', 'ps', '-q', 'web'], ['service', 'ps', 'nope'], ['service', 'ps', '--format', 'json', 'agent'],
  ['service', 'inspect', '--pretty', 'web'], ['service', 'inspect', '--pretty', 'agent'], ['service', 'inspect', 'nope'], ['service', 'inspect', '--format', '{{.Spec.Name}}', 'web'],
  ['secret', 'ls'], ['secret', 'ls', '-q'], ['secret', 'ls', '--format', '{{.Name}}: {{.Labels}}'], ['secret', 'inspect', '--pretty', 'db_pw'], ['secret', 'inspect', 'api_key'],
  ['config', 'ls'], ['config', 'inspect', '--pretty', 'nginx.conf'],
  ['stack', 'ls'], ['stack', 'services', 'shop'], ['stack', 'ps', 'shop'], ['stack', 'ps', 'nope'], ['stack', 'services', 'nope'],
  ['service', 'logs', 'web'], ['service', 'logs', '-t', '--no-task-ids', 'web'], ['service', 'logs', '--raw', 'web'], ['service', 'logs', '--details', '--no-trunc', 'web'], ['service', 'logs', 'nope'],
  ['swarm', 'join-token', 'worker'], ['swarm', 'join-token', '-q', 'manager'], ['swarm', 'ca'], ['swarm', 'unlock-key'],
]

/** Commands that write: their requests must be docker's too. */
const WRITES: string[][] = [
  ['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:4500'],
  ['swarm', 'init', '--autolock', '--task-history-limit', '3', '--dispatcher-heartbeat', '7s', '--cert-expiry', '1000h', '--default-addr-pool', '10.20.0.0/16', '--default-addr-pool-mask-length', '26', '--data-path-port', '5000', '--availability', 'drain', '--force-new-cluster'],
  ['swarm', 'init', '--listen-addr', 'bad:port:x'],
  ['swarm', 'join', '--token', 'SWMTKN-x', '--advertise-addr', '10.0.0.5', '10.0.0.1:2377'],
  ['swarm', 'update', '--task-history-limit', '2', '--autolock=true'],
  ['swarm', 'join-token', '--rotate', 'worker'], ['swarm', 'unlock-key', '--rotate', '-q'], ['swarm', 'leave', '-f'],
  ['node', 'update', '--availability', 'pause', '--label-add', 'a=b', '--label-rm', 'zone', 'node-1'], ['node', 'update', '--label-rm', 'nope', 'node-1'],
  ['node', 'promote', 'node-10'], ['node', 'demote', 'node-10'], ['node', 'demote', 'node-1'], ['node', 'rm', '-f', 'node-10'],
  ['service', 'create', '-d', '--name', 'web', 'nginx'],
  ['service', 'create', '-d', '--name', 'web', '--replicas', '3', '-e', 'A=1', '-e', 'B', '--label', 'x=y', '--container-label', 'c=d', '-p', '8080:80',
    '-p', 'published=53,target=53,protocol=udp,mode=host', '--mount', 'type=bind,source=/a,target=/b,readonly', '--constraint', 'node.role==worker',
    '--placement-pref', 'spread=node.labels.zone', '--limit-cpu', '0.5', '--limit-memory', '256m', '--reserve-cpu', '0.25', '--reserve-memory', '128M',
    '--restart-condition', 'on-failure', '--restart-delay', '3s', '--restart-max-attempts', '4', '--restart-window', '1m', '--update-parallelism', '2',
    '--update-delay', '10s', '--update-failure-action', 'rollback', '--update-order', 'start-first', '--update-monitor', '7s', '--update-max-failure-ratio', '0.2',
    '--rollback-parallelism', '0', '--health-cmd', 'true', '--health-interval', '5s', '--health-retries', '2', '--hostname', 'h', '--workdir', '/w', '--user', 'u',
    '--entrypoint', 'sh -c', '--stop-grace-period', '20s', '--stop-signal', 'SIGINT', '--init', '-t', '--secret', 'source=api_key,target=k,mode=0400',
    '--config', 'nginx.conf', '--network', 'frontend', 'nginx', 'echo', 'hi'],
  ['service', 'create', '-d', '--mode', 'global', '--no-resolve-image', 'busybox'],
  ['service', 'create', '-d', '--mode', 'global', '--replicas', '2', 'busybox'],
  ['service', 'create', '-d', '--update-delay', 'x', 'busybox'], ['service', 'create', '-d', '-p', '1.2.3.4:80:80', 'busybox'],
  ['service', 'create', '-d', '--mount', 'source=a', 'busybox'], ['service', 'create', '-d', '--limit-cpu', 'abc', 'busybox'], ['service', 'create', '-d', '--secret', 'nope', 'busybox'],
  ['service', 'update', '-d', '--image', 'nginx:2', '--env-add', 'C=3', '--label-add', 'q=r', '--label-rm', 'app', '--publish-add', '9090:90', '--publish-rm', '80', '--replicas', '5', '--force', 'web'],
  ['service', 'update', '-d', '--constraint-add', 'a==b', '--constraint-rm', 'node.role==worker', '--mount-add', 'type=volume,source=v,target=/v', '--mount-rm', '/data', '--secret-rm', 'db_pw', '--secret-add', 'api_key', '--network-add', 'frontend', 'web'],
  ['service', 'update', '-d', '--rollback', '--image', 'x', 'web'], ['service', 'rollback', '-d', 'web'],
  ['service', 'scale', '-d', 'web=4', 'agent=2', 'nope=1', 'web=x'], ['service', 'scale', 'web'], ['service', 'rm', 'web', 'nope'],
  ['secret', 'create', '--label', 'a=b', 's1', 'data.txt'], ['secret', 'create', 's1', '/nope'], ['config', 'create', 'c1', 'data.txt'], ['secret', 'rm', 'db_pw', 'nope'],
  ['stack', 'deploy', '-c', 'compose.yaml', 'shop'], ['stack', 'deploy', 'shop'], ['stack', 'rm', 'nope'],
]

const COMPOSE = `services:
  web:
    image: nginx:1.27
    command: ["nginx", "-g", "daemon off;"]
    environment:
      A: "1"
      B: \${BVAL:-two}
    labels: { c: d }
    ports:
      - "8080:80"
      - { target: 53, published: 5353, protocol: udp, mode: host }
    volumes: [ "data:/data", "/tmp:/host:ro" ]
    secrets: [ pw, { source: pw, target: other, mode: 0400 } ]
    configs: [ cfg ]
    healthcheck: { test: ["CMD", "true"], interval: 10s }
    networks: [ front ]
    deploy:
      replicas: 3
      labels: { tier: front }
      resources: { limits: { cpus: "0.5", memory: 256M }, reservations: { memory: 64M } }
      restart_policy: { condition: on-failure, delay: 5s, max_attempts: 3 }
      update_config: { parallelism: 2, delay: 10s, order: start-first }
      placement: { constraints: [node.role == worker], preferences: [ { spread: node.labels.zone } ] }
  agent:
    image: busybox
    restart: always
    deploy: { mode: global }
volumes: { data: {} }
networks: { front: { driver: overlay, attachable: true } }
secrets: { pw: { file: ./data.txt } }
configs: { cfg: { file: ./data.txt } }
`

/** Writes compared as docker sends them; Go map iteration makes docker's order of creates and of secret references random. */
function normalizeWrites(w: Recorded[]): Recorded[] {
  const sortRefs = (b: Json) => {
    const cs = b?.TaskTemplate?.ContainerSpec
    for (const k of ['Secrets', 'Configs']) if (Array.isArray(cs?.[k])) cs[k].sort((x: Json, y: Json) => (x.File.Name < y.File.Name ? -1 : 1))
    if (Array.isArray(cs?.Env)) cs.Env.sort() // service update rebuilds Env from a Go map
    return b
  }
  const out = w.map((r) => ({ ...r, body: sortRefs(structuredClone(r.body)) }))
  for (const path of ['/networks/create', '/services/create']) {
    const at = out.map((r, i) => (r.path === path ? i : -1)).filter((i) => i >= 0)
    const same = at.map((i) => out[i]!).sort((a, b) => (JSON.stringify(a.body) < JSON.stringify(b.body) ? -1 : 1))
    at.forEach((i, k) => { out[i] = same[k]! })
  }
  return out
}

/** The lines docker prints in Go map order (stack deploy's "Creating network"), sorted. */
const normalizeOut = (s: string) => s.replace(/(Creating (network|service) [^\n]+\n)+/g, (m) => m.split('\n').filter(Boolean).sort().map((l) => `${l}\n`).join(''))

describe('berth swarm commands against a canned Engine API, compared with the docker CLI 28', () => {
  let dir: string
  let cfg: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-swarm-cli-'))
    cfg = join(dir, 'cfg')
    await writeFile(join(dir, 'data.txt'), 'pw\n')
    await writeFile(join(dir, 'compose.yaml'), COMPOSE)
  })
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  for (const args of READS) {
    it(`prints what docker prints: ${args.join(' ')}`, async (t) => {
      if (!hasDockerCli) { t.skip('the docker CLI is not installed'); return }
      const now = Date.now()
      const d = await runAgainstFake('docker', args, cfg, dir, now)
      const b = await runAgainstFake('berth', args, cfg, dir, now)
      assert.equal(b.stdout, d.stdout, 'stdout')
      assert.equal(b.stderr, d.stderr.replace(/\bdocker (\w+ \w+ --help|\w+ --help)/g, 'berth $1').replace(/Usage: {2}docker/g, 'Usage:  berth'), 'stderr')
      assert.equal(b.code, d.code, 'exit status')
    })
  }

  for (const args of WRITES) {
    it(`sends what docker sends: ${args.join(' ')}`, async (t) => {
      if (!hasDockerCli) { t.skip('the docker CLI is not installed'); return }
      const now = Date.now()
      const d = await runAgainstFake('docker', args, cfg, dir, now)
      const b = await runAgainstFake('berth', args, cfg, dir, now)
      assert.equal(normalizeOut(b.stdout), normalizeOut(d.stdout), 'stdout')
      assert.equal(b.stderr, d.stderr.replace(/'docker ([\w -]+) --help'/g, "'berth $1 --help'").replace(/Usage: {2}docker/g, 'Usage:  berth'), 'stderr')
      assert.equal(b.code, d.code, 'exit status')
      const dw = normalizeWrites(d.writes)
      const bw = normalizeWrites(b.writes)
      assert.ok(isDeepStrictEqual(bw, dw), `requests differ:\ndocker: ${JSON.stringify(dw, null, 1)}\nberth: ${JSON.stringify(bw, null, 1)}`)
    })
  }
})

test('berth swarm init and a service on a private berthd', async (t) => {
  const h: DaemonHandle = await startDaemon()
  const b = (...args: string[]) => runCmd(process.execPath, [BERTH, ...args], { host: h.host, timeoutMs: 120_000 })
  try {
    const port = await freePort()
    const init = await b('swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`)
    if (init.code !== 0 && /swarm mode is not available/.test(init.stderr)) {
      t.skip('swarm mode not wired yet')
      return
    }
    assert.equal(init.code, 0, init.stderr)
    assert.notEqual(init.stdout, '', `swarm init printed nothing (exit ${init.code}, stderr ${JSON.stringify(init.stderr)}); berthd said:\n${h.log().slice(-2000)}`)
    const m = /^Swarm initialized: current node \(([a-z0-9]{25})\) is now a manager\.\n\nTo add a worker to this swarm, run the following command:\n\n {4}docker swarm join --token (SWMTKN-1-\S+) 127\.0\.0\.1:(\d+)\n\nTo add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions\.\n$/.exec(init.stdout)
    assert.ok(m, `swarm init said:\n${init.stdout}`)
    assert.equal(Number(m[3]), port)
    const nodeId = m[1]!

    const tok = await b('swarm', 'join-token', '-q', 'worker')
    assert.equal(tok.code, 0, tok.stderr)
    assert.equal(tok.stdout.trim(), m[2])

    const nodes = await b('node', 'ls')
    assert.equal(nodes.code, 0, nodes.stderr)
    const lines = nodes.stdout.trimEnd().split('\n')
    assert.match(lines[0]!, /^ID\s+HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\s+ENGINE VERSION$/)
    assert.equal(lines.length, 2)
    assert.match(lines[1]!, new RegExp(`^${nodeId} \\*\\s+\\S+\\s+Ready\\s+Active\\s+Leader\\s+`))

    const load = await b('load', '-i', await fixture('busybox'))
    assert.equal(load.code, 0, load.stderr)
    const create = await b('service', 'create', '--name', 'web', '--replicas', '2', '--no-resolve-image', 'busybox:latest', 'sleep', '600')
    assert.equal(create.code, 0, create.stderr)
    assert.match(create.stdout, /^[a-z0-9]{25}\noverall progress: 0 out of 2 tasks\n/)
    assert.match(create.stdout, /verify: Service [a-z0-9]{25} converged\n$/)

    const ls = await b('service', 'ls')
    assert.equal(ls.code, 0, ls.stderr)
    assert.match(ls.stdout, /^ID\s+NAME\s+MODE\s+REPLICAS\s+IMAGE\s+PORTS\n[a-z0-9]{12}\s+web\s+replicated\s+2\/2\s+busybox:latest\s*\n$/)

    const ps = await b('service', 'ps', '--format', '{{.Name}} {{.DesiredState}} {{.Node}}', 'web')
    assert.equal(ps.code, 0, ps.stderr)
    assert.deepEqual(ps.stdout.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' ')).sort(), ['web.1 Running', 'web.2 Running'])

    const scale = await b('service', 'scale', '-d', 'web=1')
    assert.equal(scale.code, 0, scale.stderr)
    assert.equal(scale.stdout, 'web scaled to 1\n')

    const pretty = await b('service', 'inspect', '--pretty', 'web')
    assert.equal(pretty.code, 0, pretty.stderr)
    assert.match(pretty.stdout, /\nName:\t\tweb\n/)
    assert.match(pretty.stdout, /\n Replicas:\t1\n/)

    const rmOut = await b('service', 'rm', 'web')
    assert.equal(rmOut.code, 0, rmOut.stderr)
    assert.equal(rmOut.stdout, 'web\n')

    // Root CA rotation is not built: both CLIs get the daemon's error instead of waiting forever.
    const rotate = await b('swarm', 'ca', '--rotate')
    assert.equal(rotate.code, 1)
    assert.match(rotate.stderr, /rotating the swarm root CA \(swarm ca --rotate\) is not supported by this berthd yet/)
    const dockerRotate = await runCmd('docker', ['swarm', 'ca', '--rotate'], { host: h.host, timeoutMs: 30_000 })
    assert.equal(dockerRotate.code, 1)
    assert.match(dockerRotate.stderr, /is not supported by this berthd yet/)

    const leave = await b('swarm', 'leave', '--force')
    assert.equal(leave.code, 0, leave.stderr)
    assert.equal(leave.stdout, 'Node left the swarm.\n')
    const after = await b('node', 'ls')
    assert.equal(after.code, 1)
    assert.match(after.stderr, /This node is not a swarm manager/)
  } finally {
    await runCmd(process.execPath, [BERTH, 'swarm', 'leave', '--force'], { host: h.host }).catch(() => undefined)
    await h.cleanup()
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyServiceUpdate, buildServiceSpec, FlagValueError, parseMount, parsePorts, type SpecResolver } from './service-opts.js'
import { goDurationString, goOrdered, naturalLess, parseGoDuration, prettyPrint, progressStep, taskRows, type Json } from './swarm-util.js'
import { loadStackFiles, octalMode, stackNetworks, stackObjects, stackServices } from './stack-convert.js'
import { serviceRow } from './service.js'
import { nodeRow } from './node.js'
import { nodeAddr } from './swarm.js'

const resolver: SpecResolver = {
  networkId: async (n) => { if (n === 'nope') throw new Error('network nope not found'); return `id-${n}` },
  secretIds: async (names) => new Map(names.filter((n) => n !== 'missing').map((n) => [n, `sid-${n}`])),
  configIds: async (names) => new Map(names.map((n) => [n, `cid-${n}`])),
}

test('Go durations: parse and print as time.ParseDuration and Duration.String do', () => {
  assert.equal(parseGoDuration('1h2m3.5s'), 3723.5e9)
  assert.equal(parseGoDuration('300ms'), 300e6)
  assert.equal(parseGoDuration('0'), 0)
  assert.throws(() => parseGoDuration('5'), /time: missing unit in duration "5"/)
  assert.throws(() => parseGoDuration('x'), /time: invalid duration "x"/)
  assert.throws(() => parseGoDuration('3d'), /time: unknown unit "d" in duration "3d"/)
  assert.equal(goDurationString(5e9), '5s')
  assert.equal(goDurationString(90e9), '1m30s')
  assert.equal(goDurationString(3600e9), '1h0m0s')
  assert.equal(goDurationString(7776000e9), '2160h0m0s')
  assert.equal(goDurationString(1.5e9), '1.5s')
  assert.equal(goDurationString(100e6), '100ms')
  assert.equal(goDurationString(0), '0s')
})

test('PrettyPrint and natural order', () => {
  assert.equal(prettyPrint('running'), 'Running')
  assert.equal(prettyPrint('READY'), 'Ready')
  assert.equal(prettyPrint(''), '')
  assert.deepEqual(['web.10', 'web.2', 'web.1'].sort(naturalLess), ['web.1', 'web.2', 'web.10'])
})

test('service create flags → the ServiceSpec the docker CLI sends', async () => {
  const spec = await buildServiceSpec({
    name: 'web', replicas: '3', env: ['A=1', 'B', 'A=2'], label: ['x=y'], publish: ['8080:80', 'published=53,target=53,protocol=udp,mode=host'],
    'update-delay': '10s', 'restart-condition': 'on-failure', 'limit-cpu': '0.5', 'reserve-memory': '128M', secret: ['source=db,target=pw,mode=0400'],
    network: ['front'], init: true, 'stop-grace-period': '20s',
  }, 'nginx', ['echo', 'hi'], resolver, { B: 'from-env' })
  assert.deepEqual(spec, {
    Name: 'web',
    Labels: { x: 'y' },
    TaskTemplate: {
      ContainerSpec: {
        Image: 'nginx', Args: ['echo', 'hi'], Env: ['B=from-env', 'A=2'], Init: true, StopGracePeriod: 20e9, DNSConfig: {},
        Secrets: [{ File: { Name: 'pw', UID: '0', GID: '0', Mode: 0o400 }, SecretID: 'sid-db', SecretName: 'db' }],
      },
      Resources: { Limits: { NanoCPUs: 5e8 }, Reservations: { MemoryBytes: 128 * 1024 * 1024 } },
      RestartPolicy: { Condition: 'on-failure', Delay: 5e9, MaxAttempts: 0 },
      Placement: {},
      Networks: [{ Target: 'id-front' }],
      ForceUpdate: 0,
    },
    Mode: { Replicated: { Replicas: 3 } },
    UpdateConfig: { Parallelism: 1, Delay: 10e9, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' },
    EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }, { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'host' }] },
  })
  const minimal = await buildServiceSpec({}, 'busybox', [], resolver)
  assert.deepEqual(minimal, {
    Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox', Init: false, DNSConfig: {} }, Resources: { Limits: {}, Reservations: {} }, Placement: {}, ForceUpdate: 0 },
    Mode: { Replicated: {} }, EndpointSpec: { Mode: 'vip' },
  })
})

test('service create: docker\'s errors for bad values', async () => {
  await assert.rejects(buildServiceSpec({ mode: 'global', replicas: '2' }, 'x', [], resolver), /replicas can only be used with replicated or replicated-job mode/)
  await assert.rejects(buildServiceSpec({ mode: 'foo' }, 'x', [], resolver), /Unknown mode: foo, only replicated and global supported/)
  await assert.rejects(buildServiceSpec({ replicas: 'x' }, 'x', [], resolver), (e: unknown) => e instanceof FlagValueError && e.message === 'invalid argument "x" for "--replicas" flag: strconv.ParseUint: parsing "x": invalid syntax')
  await assert.rejects(buildServiceSpec({ secret: ['missing'] }, 'x', [], resolver), /secret not found: missing/)
  await assert.rejects(buildServiceSpec({ 'health-cmd': 'x', 'no-healthcheck': true }, 'x', [], resolver), /--no-healthcheck conflicts with --health-\* options/)
  assert.throws(() => parsePorts(['1.2.3.4:80:80']), /hostip is not supported/)
  assert.throws(() => parseMount('source=a'), /target is required/)
  assert.deepEqual(parseMount('type=volume,src=v,dst=/v,volume-nocopy,volume-label=a=b'), { Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { NoCopy: true, Labels: { a: 'b' } } })
  assert.deepEqual(parsePorts(['8000-8001:80-81/udp']).map((p) => `${p.PublishedPort}:${p.TargetPort}/${p.Protocol}`), ['8000:80/udp', '8001:81/udp'])
})

test('service update: -add/-rm edit the current spec, nothing else changes', async () => {
  const current: Json = {
    Name: 'web', Labels: { app: 'a', keep: 'k' },
    TaskTemplate: { ContainerSpec: { Image: 'nginx:1', Env: ['A=1', 'B=2'], Mounts: [{ Type: 'volume', Source: 'd', Target: '/data' }] }, Placement: { Constraints: ['node.role==worker'] }, ForceUpdate: 2 },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] },
  }
  const next = await applyServiceUpdate(current, {
    image: 'nginx:2', 'env-add': ['C=3', 'A=9'], 'env-rm': ['B'], 'label-rm': ['app'], 'label-add': ['n=1'], replicas: '4', force: true,
    'publish-rm': ['80'], 'publish-add': ['9090:90'], 'mount-rm': ['/data'], 'constraint-add': ['node.labels.x==y'], 'update-parallelism': '3',
  }, resolver)
  assert.deepEqual(next.Labels, { keep: 'k', n: '1' })
  assert.equal(next.TaskTemplate.ContainerSpec.Image, 'nginx:2')
  assert.deepEqual(next.TaskTemplate.ContainerSpec.Env, ['A=9', 'C=3'])
  assert.deepEqual(next.TaskTemplate.ContainerSpec.Mounts, [])
  assert.deepEqual(next.TaskTemplate.Placement.Constraints, ['node.role==worker', 'node.labels.x==y'])
  assert.equal(next.TaskTemplate.ForceUpdate, 3)
  assert.deepEqual(next.Mode, { Replicated: { Replicas: 4 } })
  assert.deepEqual(next.EndpointSpec.Ports, [{ Protocol: 'tcp', TargetPort: 90, PublishedPort: 9090, PublishMode: 'ingress' }])
  assert.deepEqual(next.UpdateConfig, { Parallelism: 3, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' })
  assert.equal(current.TaskTemplate.ContainerSpec.Image, 'nginx:1', 'the current spec is not modified')
  await assert.rejects(applyServiceUpdate({ Mode: { Global: {} } }, { replicas: '2' }, resolver), /replicas can only be used with replicated or replicated-job mode/)
})

test('service ls rows: mode, replicas, familiar image, ingress port ranges', () => {
  const row = serviceRow({
    ID: 'abcdefghijklmnopqrstuvwxy',
    Spec: { Name: 'web', Mode: { Replicated: { Replicas: 3 } }, TaskTemplate: { ContainerSpec: { Image: 'docker.io/library/nginx:1.27@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' }, Placement: { MaxReplicas: 2 } } },
    ServiceStatus: { RunningTasks: 2, DesiredTasks: 3 },
    Endpoint: { Ports: [
      { Protocol: 'tcp', TargetPort: 81, PublishedPort: 8081, PublishMode: 'ingress' }, { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
      { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'ingress' }, { Protocol: 'tcp', TargetPort: 22, PublishedPort: 2222, PublishMode: 'host' },
    ] },
  })
  assert.deepEqual(row, { ID: 'abcdefghijkl', Name: 'web', Mode: 'replicated', Replicas: '2/3 (max 2 per node)', Image: 'nginx:1.27', Ports: '*:8080-8081->80-81/tcp, *:53->53/udp' })
})

test('node ls rows: self, status, manager status', () => {
  const info = { Swarm: { NodeID: 'n1' } }
  assert.deepEqual(nodeRow({ ID: 'n1', Spec: { Availability: 'active' }, Description: { Hostname: 'h', Engine: { EngineVersion: '28.2.2' } }, Status: { State: 'ready' }, ManagerStatus: { Leader: true, Reachability: 'reachable' } }, info),
    { ID: 'n1', Self: true, Hostname: 'h', Status: 'Ready', Availability: 'Active', ManagerStatus: 'Leader', EngineVersion: '28.2.2', TLSStatus: 'Unknown' })
  assert.equal(nodeRow({ ID: 'n2', Status: { State: 'down' }, ManagerStatus: { Reachability: 'unreachable' } }, info).ManagerStatus, 'Unreachable')
})

test('task rows: names, history indented, errors truncated and quoted', () => {
  const now = Date.now()
  const t = (id: string, slot: number, created: number, state: string, err = '') => ({ ID: id, ServiceID: 's', NodeID: 'n', Slot: slot, CreatedAt: new Date(now - created).toISOString(), DesiredState: state === 'running' ? 'running' : 'shutdown', Status: { State: state, Timestamp: new Date(now - created).toISOString(), ...(err ? { Err: err } : {}) }, Spec: { ContainerSpec: { Image: 'busybox:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' } } })
  const rows = taskRows([t('old', 1, 7200_000, 'failed', 'task: non-zero exit (1): something went wrong'), t('b', 10, 60_000, 'running'), t('new', 1, 3600_000, 'running')], { service: () => 'web', node: () => 'node-1' }, { trunc: true, table: true })
  assert.deepEqual(rows.map((r) => r.Name), ['web.1', ' \\_ web.1', 'web.10'])
  assert.equal(rows[1]!.Error, '"task: non-zero exit (1): some…"')
  assert.equal(rows[0]!.Image, 'busybox:latest')
  assert.equal(rows[0]!.CurrentState, 'Running about an hour ago')
})

test('convergence progress: docker\'s replicated updater lines', () => {
  const lines: string[] = []
  const sink = { line: (id: string, a: string) => lines.push(`${id}: ${a}`), bar: () => {} }
  const st = {}
  const svc = { Spec: { Mode: { Replicated: { Replicas: 2 } } } }
  const task = (slot: number, state: string) => ({ Slot: slot, NodeID: 'n', DesiredState: 'running', Status: { State: state } })
  assert.equal(progressStep(st, svc, [task(1, 'preparing')], new Set(['n']), false, sink), false)
  assert.equal(progressStep(st, svc, [task(1, 'running'), task(2, 'running')], new Set(['n']), false, sink), true)
  assert.deepEqual(lines, ['overall progress: 0 out of 2 tasks', '1/2:  ', '2/2:  ', 'overall progress: 0 out of 2 tasks', 'overall progress: 2 out of 2 tasks'])
})

test('inspect JSON: Go map keys sorted, struct fields in place', () => {
  assert.equal(JSON.stringify(goOrdered({ Spec: { Name: 'x', Labels: { z: '1', a: '2' } }, ID: 'i' })), '{"Spec":{"Name":"x","Labels":{"a":"2","z":"1"}},"ID":"i"}')
})

test('swarm listen addresses as opts.ParseTCPAddr completes them', () => {
  assert.equal(nodeAddr('127.0.0.1'), '127.0.0.1:2377')
  assert.equal(nodeAddr(':4000'), '0.0.0.0:4000')
  assert.equal(nodeAddr('eth0:4000'), 'eth0:4000')
  assert.throws(() => nodeAddr('bad:port:x'), /invalid port ":x" after host/)
})

test('stack deploy: compose → networks, secrets, services as docker stack converts them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-stack-unit-'))
  try {
    await writeFile(join(dir, 'pw.txt'), 'pw\n')
    await writeFile(join(dir, 'compose.yaml'), `services:
  web:
    image: nginx
    environment: [ "B=\${BVAL:-two}", A=1 ]
    ports: [ "8080:80" ]
    secrets: [ { source: pw, target: p, mode: 0400 } ]
    volumes: [ "data:/data" ]
    restart: on-failure:3
    deploy:
      replicas: 2
      update_config: { parallelism: 2, delay: 5s }
      placement: { constraints: [ node.role == worker ] }
  agent:
    image: busybox
    build: .
    deploy: { mode: global, endpoint_mode: dnsrr }
    networks: [ ext ]
networks: { ext: { external: true, name: outside } }
volumes: { data: {} }
secrets: { pw: { file: ./pw.txt } }
`)
    const s = await loadStackFiles([join(dir, 'compose.yaml')], 'st', { env: {} })
    assert.deepEqual(s.warnings, ['Ignoring unsupported options: build, restart\n\n'])
    const nets = stackNetworks('st', s)
    assert.deepEqual([...nets.create.keys()], ['st_default'])
    assert.deepEqual(nets.external, ['outside'])
    assert.deepEqual(stackObjects('st', s, 'secrets'), [{ Name: 'st_pw', Labels: { 'com.docker.stack.namespace': 'st' }, Data: Buffer.from('pw\n').toString('base64') }])
    const [agent, web] = stackServices('st', s)
    assert.equal(agent!.name, 'st_agent')
    assert.deepEqual(agent!.spec.Mode, { Global: {} })
    assert.deepEqual(agent!.spec.EndpointSpec, { Mode: 'dnsrr' })
    assert.deepEqual(agent!.spec.TaskTemplate.Networks, [{ Target: 'outside', Aliases: ['agent'] }])
    assert.deepEqual(web!.spec.Labels, { 'com.docker.stack.namespace': 'st', 'com.docker.stack.image': 'nginx' })
    assert.deepEqual(web!.spec.Mode, { Replicated: { Replicas: 2 } })
    assert.deepEqual(web!.spec.TaskTemplate.ContainerSpec.Env, ['A=1', 'B=two'])
    assert.deepEqual(web!.spec.TaskTemplate.RestartPolicy, { Condition: 'on-failure', MaxAttempts: 3 })
    assert.deepEqual(web!.spec.UpdateConfig, { Parallelism: 2, Delay: 5e9, MaxFailureRatio: 0 })
    assert.deepEqual(web!.spec.TaskTemplate.Placement, { Constraints: ['node.role == worker'] })
    assert.deepEqual(web!.spec.TaskTemplate.ContainerSpec.Mounts, [{ Type: 'volume', Target: '/data', Source: 'st_data', VolumeOptions: { Labels: { 'com.docker.stack.namespace': 'st' } } }])
    assert.deepEqual(web!.spec.EndpointSpec, { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] })
    assert.deepEqual(web!.secrets, [{ name: 'st_pw', file: { Name: 'p', UID: '0', GID: '0', Mode: 0o400 } }])
    assert.equal(octalMode(440), 0o440)
    await assert.rejects(loadStackFiles([], 'st'), /Specify a Compose file \(with --compose-file\)/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

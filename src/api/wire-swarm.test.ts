import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fromWireNodeSpec, fromWireServiceSpec, mergeWireSwarmSpec, toWireNode, toWireService, toWireServiceSpec, toWireTask } from './wire-swarm.js'
import type { Node, Service, SwarmSpec, Task } from './backend.js'

/** What `docker service create --name web -p 8080:80 --secret s --mount ... busybox sleep 1` sends (CLI 28). */
const CLI_SPEC = {
  Name: 'web',
  Labels: {},
  TaskTemplate: {
    ContainerSpec: {
      Image: 'busybox:latest', Args: ['sleep', '1'], Init: false, StopGracePeriod: 10_000_000_000, DNSConfig: {}, Isolation: 'default',
      ReadOnly: true, CapabilityAdd: ['CAP_NET_ADMIN'], Sysctls: { 'net.core.somaxconn': '1024' }, Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }], Hosts: ['10.0.0.9 db'],
      Mounts: [{ Type: 'volume', Source: 'data', Target: '/data', VolumeOptions: { DriverConfig: { Name: 'local' } } }],
      Secrets: [{ File: { Name: 's', UID: '0', GID: '0', Mode: 292 }, SecretID: 'sid', SecretName: 's' }],
      Healthcheck: { Test: ['CMD', 'true'], Interval: 2_000_000_000, Retries: 3 },
    },
    Resources: { Limits: {}, Reservations: {} },
    RestartPolicy: { Condition: 'on-failure', Delay: 5_000_000_000, MaxAttempts: 3 },
    Placement: { Constraints: ['node.role==worker'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }], Platforms: [{ Architecture: 'amd64', OS: 'linux' }] },
    Networks: [{ Target: 'net1', Aliases: ['w'] }],
    ForceUpdate: 0,
    Runtime: 'container',
  },
  Mode: { Replicated: { Replicas: 2 } },
  UpdateConfig: { Parallelism: 1, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first' },
  RollbackConfig: { Parallelism: 1, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first' },
  EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] },
}

test('service spec: what the CLI sends comes back as sent', () => {
  const spec = fromWireServiceSpec(structuredClone(CLI_SPEC))
  assert.equal(spec.taskTemplate.containerSpec.image, 'busybox:latest')
  assert.deepEqual(spec.mode, { replicated: { replicas: 2 } })
  assert.deepEqual(spec.taskTemplate.restartPolicy, { condition: 'on-failure', delay: 5_000_000_000, maxAttempts: 3 })
  const back = toWireServiceSpec(spec)
  const want = structuredClone(CLI_SPEC) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  want.TaskTemplate.Resources = { Limits: {}, Reservations: {} }
  assert.deepEqual(back, want)
})

test('service spec: moby\'s conversion rules and words', () => {
  const base = { TaskTemplate: { ContainerSpec: { Image: 'busybox' } } }
  assert.deepEqual(fromWireServiceSpec({ ...base }).mode, { replicated: { replicas: 1 } })
  assert.deepEqual(fromWireServiceSpec({ ...base, Mode: { Replicated: {} } }).mode, { replicated: { replicas: 1 } })
  assert.deepEqual(fromWireServiceSpec({ ...base, Mode: { Global: {} } }).mode, { global: {} })
  assert.throws(() => fromWireServiceSpec({ ...base, Mode: { Global: {}, Replicated: { Replicas: 3 } } }), { kind: 'InvalidArgument', message: 'must specify only one service mode' })
  assert.throws(() => fromWireServiceSpec({ Name: 'x' }), { message: 'mismatched Runtime and *Spec fields' })
  assert.throws(() => fromWireServiceSpec({ TaskTemplate: { Runtime: 'vm', ContainerSpec: { Image: 'x' } } }), { message: 'unsupported runtime' })
  assert.throws(() => fromWireServiceSpec({ TaskTemplate: { ContainerSpec: { Image: 'x', Mounts: [{ Type: 'weird', Target: '/x' }] } } }), { message: 'invalid MountType: "weird"' })
  assert.throws(() => fromWireServiceSpec({ ...base, TaskTemplate: { ...base.TaskTemplate, RestartPolicy: { Condition: 'sometimes' } } }), { message: 'invalid RestartCondition: "sometimes"' })
  assert.throws(() => fromWireServiceSpec({ ...base, UpdateConfig: { FailureAction: 'explode' } }), { message: 'unrecognized update failure action explode' })
  assert.throws(() => fromWireServiceSpec({ ...base, EndpointSpec: { Mode: 'rr' } }), { message: 'invalid resolution mode: "rr"' })
  // Ports: protocol tcp and publish mode ingress unless said.
  assert.deepEqual(fromWireServiceSpec({ ...base, EndpointSpec: { Ports: [{ TargetPort: 80 }] } }).endpointSpec, { mode: 'vip', ports: [{ protocol: 'tcp', targetPort: 80, publishMode: 'ingress' }] })
})

const T = '2026-01-01T00:00:00.000Z'
const svc = (): Service => ({
  id: 'svc1', version: { index: 7 }, createdAt: T, updatedAt: T, specRevision: 1,
  spec: fromWireServiceSpec({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox' } } }),
})

test('service: Endpoint is always there (vip by default); insertDefaults fills swarmkit\'s defaults; registry auth never shown', () => {
  const s = { ...svc(), registryAuth: { username: 'u', password: 'p' } }
  const w = toWireService({ service: s })
  assert.deepEqual(Object.keys(w), ['ID', 'Version', 'CreatedAt', 'UpdatedAt', 'Spec', 'Endpoint'])
  assert.deepEqual(w.Endpoint, { Spec: { Mode: 'vip' } })
  assert.equal(JSON.stringify(w).includes('"p"'), false)
  const d = toWireService({ service: s }, { insertDefaults: true }).Spec
  assert.deepEqual(d.TaskTemplate.RestartPolicy, { Condition: 'any', Delay: 5_000_000_000, MaxAttempts: 0 })
  assert.equal(d.TaskTemplate.ContainerSpec.StopGracePeriod, 10_000_000_000)
  assert.deepEqual(d.UpdateConfig, { Parallelism: 1, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first' })
  assert.deepEqual(d.EndpointSpec, { Mode: 'vip' })
  const st = toWireService({ service: s, serviceStatus: { runningTasks: 1, desiredTasks: 2, completedTasks: 0 } })
  assert.deepEqual(st.ServiceStatus, { RunningTasks: 1, DesiredTasks: 2, CompletedTasks: 0 })
})

test('task: status, container status and attachments as Docker shows them', () => {
  const s = svc()
  const t: Task = {
    id: 't1', version: { index: 3 }, createdAt: T, updatedAt: T, labels: {}, spec: s.spec.taskTemplate, serviceId: 'svc1', serviceName: 'web', specRevision: 1,
    slot: 1, nodeId: 'n1', desiredState: 'running',
    status: { timestamp: T, state: 'failed', message: 'started', err: 'task: non-zero exit (2)', containerStatus: { containerId: 'c1', pid: 0, exitCode: 2 } },
    networksAttachments: [{ networkId: 'net1', addresses: ['10.0.1.3/24'] }],
  }
  const w = toWireTask(t)
  assert.deepEqual(w.Status, { Timestamp: T, State: 'failed', Message: 'started', Err: 'task: non-zero exit (2)', ContainerStatus: { ContainerID: 'c1', ExitCode: 2 }, PortStatus: {} })
  assert.deepEqual(w.NetworksAttachments, [{ Network: { ID: 'net1' }, Addresses: ['10.0.1.3/24'] }])
  assert.equal(w.Slot, 1)
  assert.equal(w.Spec.ContainerSpec.Image, 'busybox')
})

test('node: spec checks in moby\'s words; manager status and TLS info', () => {
  assert.throws(() => fromWireNodeSpec({ Role: 'boss', Availability: 'active' }), { message: 'invalid Role: "boss"' })
  assert.throws(() => fromWireNodeSpec({ Role: 'worker', Availability: 'off' }), { message: 'invalid Availability: "off"' })
  assert.deepEqual(fromWireNodeSpec({ Role: 'worker', Availability: 'drain', Labels: { a: 'b' } }), { labels: { a: 'b' }, role: 'worker', availability: 'drain' })
  const n: Node = {
    id: 'n1', version: { index: 2 }, createdAt: T, updatedAt: T,
    spec: { labels: {}, role: 'manager', availability: 'active' },
    description: { hostname: 'h1', platform: { architecture: 'x86_64', os: 'linux' }, resources: { nanoCPUs: 2e9, memoryBytes: 1 << 30 }, engine: { engineVersion: '28.2.2', labels: {} }, tlsInfo: { trustRoot: 'PEM', certIssuerSubject: 'c3Vi', certIssuerPublicKey: 'cGs=' } },
    status: { state: 'ready', addr: '10.0.0.1' },
    managerStatus: { leader: true, reachability: 'reachable', addr: '10.0.0.1:2377', etcdMemberId: 'abc' },
  }
  const w = toWireNode(n)
  assert.deepEqual(w.ManagerStatus, { Leader: true, Reachability: 'reachable', Addr: '10.0.0.1:2377' })
  assert.deepEqual(w.Description.TLSInfo, { TrustRoot: 'PEM', CertIssuerSubject: 'c3Vi', CertIssuerPublicKey: 'cGs=' })
  assert.deepEqual(w.Status, { State: 'ready', Addr: '10.0.0.1' })
  assert.equal(toWireNode({ ...n, managerStatus: { ...n.managerStatus!, leader: false } }).ManagerStatus.Leader, undefined)
})

test('swarm spec: update merges as moby does (zero keeps, autolock as sent)', () => {
  const base: SwarmSpec = {
    name: 'default', labels: {}, orchestration: { taskHistoryRetentionLimit: 5 },
    raft: { snapshotInterval: 10000, keepOldSnapshots: 0, logEntriesForSlowFollowers: 500, electionTick: 10, heartbeatTick: 1 },
    dispatcher: { heartbeatPeriod: 5e9 }, caConfig: { nodeCertExpiry: 7.776e15, forceRotate: 0 }, encryptionConfig: { autoLockManagers: true }, taskDefaults: {},
  }
  const m = mergeWireSwarmSpec({ Orchestration: { TaskHistoryRetentionLimit: 9 }, Dispatcher: { HeartbeatPeriod: 0 }, EncryptionConfig: {} }, base)
  assert.equal(m.orchestration.taskHistoryRetentionLimit, 9)
  assert.equal(m.dispatcher.heartbeatPeriod, 5e9)
  assert.equal(m.encryptionConfig.autoLockManagers, false)
  assert.equal(m.name, 'default')
})

import type { SwarmView, ServiceView, SecretSpec } from './backend.js'
import type {
  Cluster, Config, ContainerSpec, EndpointPortConfig, EndpointSpec, HealthConfig, Mount, Node, NodeSpec, Secret,
  ServiceMode, ServiceSpec, Network as SwarmNetwork, SwarmSpec, Task,
  TaskSpec, UpdateConfig, ResourceSpec, RestartPolicy, Placement, SecretReference, ConfigReference,
} from '../cluster/types.js'
import { invalid } from '../lib/errors.js'

/**
 * Swarm objects on the wire (PascalCase, the Engine API v1.50's field sets, as moby's
 * daemon/cluster/convert writes them) and back to cluster/types.ts's domain. The wire-to-domain
 * side checks what moby's convert package checks (one service mode, known runtime, mount types,
 * restart conditions, failure actions) with its words; swarmkit's own validations (image, names,
 * ports) are the backend's.
 */

export type Wire = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

function clean<T extends Wire>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k]
  return o
}
const isObj = (v: unknown): v is Wire => v !== null && typeof v === 'object' && !Array.isArray(v)
const strs = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.map((x) => String(x ?? '')) : undefined)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined)
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined)
const map = (v: unknown): Record<string, string> | undefined => (isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x ?? '')])) : undefined)
const nonEmpty = <T>(a: T[] | undefined): T[] | undefined => (a && a.length ? a : undefined)
const badParam = (msg: string) => invalid('ERR_SWARM_BAD_SPEC', msg)

const meta = (o: { id: string; version: { index: number }; createdAt: string; updatedAt: string }) => ({
  ID: o.id, Version: { Index: o.version.index }, CreatedAt: o.createdAt, UpdatedAt: o.updatedAt,
})

// ---- swarm

export function toWireSwarmSpec(s: SwarmSpec): Wire {
  return {
    Name: s.name,
    Labels: s.labels ?? {},
    Orchestration: { TaskHistoryRetentionLimit: s.orchestration.taskHistoryRetentionLimit },
    Raft: {
      SnapshotInterval: s.raft.snapshotInterval, KeepOldSnapshots: s.raft.keepOldSnapshots,
      LogEntriesForSlowFollowers: s.raft.logEntriesForSlowFollowers, ElectionTick: s.raft.electionTick, HeartbeatTick: s.raft.heartbeatTick,
    },
    Dispatcher: { HeartbeatPeriod: s.dispatcher.heartbeatPeriod },
    CAConfig: { NodeCertExpiry: s.caConfig.nodeCertExpiry, ...(s.caConfig.forceRotate ? { ForceRotate: s.caConfig.forceRotate } : {}) },
    TaskDefaults: s.taskDefaults.logDriver ? { LogDriver: toWireDriver(s.taskDefaults.logDriver) } : {},
    EncryptionConfig: { AutoLockManagers: s.encryptionConfig.autoLockManagers },
  }
}

/** GET /swarm: the cluster object with TLS info and join tokens. */
export function toWireSwarm(v: SwarmView): Wire {
  return { ...toWireClusterInfo(v.cluster, v.tlsInfo), JoinTokens: { Worker: v.joinTokens.worker, Manager: v.joinTokens.manager } }
}

/** ClusterInfo: the Swarm object without its join tokens (also `Swarm.Cluster` of /info). */
export function toWireClusterInfo(c: Cluster, tlsInfo?: SwarmView['tlsInfo']): Wire {
  return clean({
    ...meta(c),
    Spec: toWireSwarmSpec(c.spec),
    TLSInfo: tlsInfo ? { TrustRoot: tlsInfo.trustRoot, CertIssuerSubject: tlsInfo.certIssuerSubject, CertIssuerPublicKey: tlsInfo.certIssuerPublicKey } : { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' },
    RootRotationInProgress: c.rootRotationInProgress,
    DefaultAddrPool: c.defaultAddrPool,
    SubnetSize: c.subnetSize,
    DataPathPort: c.dataPathPort,
  })
}

/**
 * A swarm spec of `swarm update` (or init) merged into `base` as moby's MergeSwarmSpecToGRPC
 * does: a zero or absent field keeps the current value; autolock and force-rotate are taken as sent.
 */
export function mergeWireSwarmSpec(w: Wire | undefined, base: SwarmSpec): SwarmSpec {
  const out: SwarmSpec = structuredClone(base)
  if (!isObj(w)) return out
  if (str(w.Name)) out.name = w.Name
  const labels = map(w.Labels)
  if (labels && Object.keys(labels).length) out.labels = labels
  const o = isObj(w.Orchestration) ? w.Orchestration : {}
  if (num(o.TaskHistoryRetentionLimit) !== undefined) out.orchestration.taskHistoryRetentionLimit = o.TaskHistoryRetentionLimit
  const r = isObj(w.Raft) ? w.Raft : {}
  if (num(r.SnapshotInterval)) out.raft.snapshotInterval = r.SnapshotInterval
  if (num(r.KeepOldSnapshots) !== undefined) out.raft.keepOldSnapshots = r.KeepOldSnapshots
  if (num(r.LogEntriesForSlowFollowers)) out.raft.logEntriesForSlowFollowers = r.LogEntriesForSlowFollowers
  if (num(r.ElectionTick)) out.raft.electionTick = r.ElectionTick
  if (num(r.HeartbeatTick)) out.raft.heartbeatTick = r.HeartbeatTick
  const d = isObj(w.Dispatcher) ? w.Dispatcher : {}
  if (num(d.HeartbeatPeriod)) out.dispatcher.heartbeatPeriod = d.HeartbeatPeriod
  const ca = isObj(w.CAConfig) ? w.CAConfig : {}
  if (num(ca.NodeCertExpiry)) out.caConfig.nodeCertExpiry = ca.NodeCertExpiry
  if (num(ca.ForceRotate) !== undefined) out.caConfig.forceRotate = ca.ForceRotate
  const td = isObj(w.TaskDefaults) ? w.TaskDefaults : {}
  if (isObj(td.LogDriver)) out.taskDefaults = { logDriver: fromWireDriver(td.LogDriver) }
  const enc = isObj(w.EncryptionConfig) ? w.EncryptionConfig : {}
  out.encryptionConfig = { autoLockManagers: enc.AutoLockManagers === true }
  return out
}

// ---- nodes

export function toWireNode(n: Node): Wire {
  const d = n.description
  return clean({
    ...meta(n),
    Spec: clean({ Name: n.spec.name || undefined, Labels: n.spec.labels ?? {}, Role: n.spec.role, Availability: n.spec.availability }),
    Description: clean({
      Hostname: d.hostname,
      Platform: { Architecture: d.platform.architecture, OS: d.platform.os },
      Resources: { NanoCPUs: d.resources.nanoCPUs, MemoryBytes: d.resources.memoryBytes },
      Engine: { EngineVersion: d.engine.engineVersion, ...(d.engine.labels && Object.keys(d.engine.labels).length ? { Labels: d.engine.labels } : {}) },
      TLSInfo: d.tlsInfo ? { TrustRoot: d.tlsInfo.trustRoot, CertIssuerSubject: d.tlsInfo.certIssuerSubject, CertIssuerPublicKey: d.tlsInfo.certIssuerPublicKey } : undefined,
    }),
    Status: clean({ State: n.status.state, Message: n.status.message || undefined, Addr: n.status.addr }),
    ManagerStatus: n.managerStatus ? clean({ Leader: n.managerStatus.leader || undefined, Reachability: n.managerStatus.reachability, Addr: n.managerStatus.addr }) : undefined,
  })
}

/** POST /nodes/{id}/update's body, as moby's NodeSpecToGRPC reads it. */
export function fromWireNodeSpec(w: Wire | undefined): NodeSpec {
  const b = isObj(w) ? w : {}
  const role = String(b.Role ?? '')
  if (role !== 'manager' && role !== 'worker') throw badParam(`invalid Role: "${role}"`)
  const av = String(b.Availability ?? '')
  if (av !== 'active' && av !== 'pause' && av !== 'drain') throw badParam(`invalid Availability: "${av}"`)
  return clean({ name: str(b.Name) || undefined, labels: map(b.Labels) ?? {}, role, availability: av }) as NodeSpec
}

// ---- services

const toWireDriver = (d: { name: string; options?: Record<string, string> }): Wire => clean({ Name: d.name, Options: d.options })
const fromWireDriver = (w: Wire): { name: string; options?: Record<string, string> } => clean({ name: String(w.Name ?? ''), options: map(w.Options) })

function toWireMount(m: Mount): Wire {
  return clean({
    Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly || undefined, Consistency: m.consistency,
    BindOptions: m.bindOptions ? clean({ Propagation: m.bindOptions.propagation, NonRecursive: m.bindOptions.nonRecursive, CreateMountpoint: m.bindOptions.createMountpoint, ReadOnlyNonRecursive: m.bindOptions.readOnlyNonRecursive, ReadOnlyForceRecursive: m.bindOptions.readOnlyForceRecursive }) : undefined,
    VolumeOptions: m.volumeOptions ? clean({ NoCopy: m.volumeOptions.noCopy, Labels: m.volumeOptions.labels, Subpath: m.volumeOptions.subpath, DriverConfig: m.volumeOptions.driverConfig ? clean({ Name: m.volumeOptions.driverConfig.name, Options: m.volumeOptions.driverConfig.options }) : undefined }) : undefined,
    TmpfsOptions: m.tmpfsOptions ? clean({ SizeBytes: m.tmpfsOptions.sizeBytes, Mode: m.tmpfsOptions.mode, Options: m.tmpfsOptions.options }) : undefined,
  })
}

const MOUNT_TYPES = ['bind', 'volume', 'tmpfs', 'npipe', 'cluster']
function fromWireMount(w: Wire): Mount {
  const type = String(w.Type ?? '').toLowerCase()
  if (!MOUNT_TYPES.includes(type)) throw badParam(`invalid MountType: "${w.Type ?? ''}"`)
  const b = isObj(w.BindOptions) ? w.BindOptions : undefined
  const v = isObj(w.VolumeOptions) ? w.VolumeOptions : undefined
  const t = isObj(w.TmpfsOptions) ? w.TmpfsOptions : undefined
  return clean({
    type: type as Mount['type'], source: str(w.Source) || undefined, target: String(w.Target ?? ''), readOnly: bool(w.ReadOnly) || undefined,
    consistency: str(w.Consistency) || undefined,
    bindOptions: b ? clean({ propagation: str(b.Propagation), nonRecursive: bool(b.NonRecursive), createMountpoint: bool(b.CreateMountpoint), readOnlyNonRecursive: bool(b.ReadOnlyNonRecursive), readOnlyForceRecursive: bool(b.ReadOnlyForceRecursive) }) : undefined,
    volumeOptions: v ? clean({ noCopy: bool(v.NoCopy), labels: map(v.Labels), subpath: str(v.Subpath), driverConfig: isObj(v.DriverConfig) ? clean({ name: str(v.DriverConfig.Name), options: map(v.DriverConfig.Options) }) : undefined }) : undefined,
    tmpfsOptions: t ? clean({ sizeBytes: num(t.SizeBytes), mode: num(t.Mode), options: Array.isArray(t.Options) ? t.Options : undefined }) : undefined,
  })
}

function toWireHealth(h: HealthConfig): Wire {
  return clean({ Test: h.test, Interval: h.interval, Timeout: h.timeout, Retries: h.retries, StartPeriod: h.startPeriod })
}
function fromWireHealth(w: Wire): HealthConfig {
  return clean({ test: strs(w.Test), interval: num(w.Interval), timeout: num(w.Timeout), retries: num(w.Retries), startPeriod: num(w.StartPeriod) })
}

function toWireFile(f: SecretReference['file']): Wire | undefined {
  return f ? { Name: f.name, UID: f.uid, GID: f.gid, Mode: f.mode } : undefined
}
function fromWireFile(w: unknown): SecretReference['file'] {
  if (!isObj(w)) return undefined
  return { name: String(w.Name ?? ''), uid: String(w.UID ?? '0'), gid: String(w.GID ?? '0'), mode: typeof w.Mode === 'number' ? w.Mode : 0o444 }
}

function toWireContainerSpec(c: ContainerSpec): Wire {
  return clean({
    Image: c.image,
    Labels: c.labels,
    Command: c.command,
    Args: c.args,
    Hostname: c.hostname || undefined,
    Env: c.env,
    Dir: c.dir || undefined,
    User: c.user || undefined,
    TTY: c.tty || undefined,
    OpenStdin: c.openStdin || undefined,
    Mounts: c.mounts?.map(toWireMount),
    StopSignal: c.stopSignal || undefined,
    StopGracePeriod: c.stopGracePeriod,
    Healthcheck: c.healthCheck ? toWireHealth(c.healthCheck) : undefined,
    Secrets: c.secrets?.map((s) => clean({ File: toWireFile(s.file), SecretID: s.secretId, SecretName: s.secretName })),
    Configs: c.configs?.map((s) => clean({ File: toWireFile(s.file), ConfigID: s.configId, ConfigName: s.configName })),
    Init: c.init,
    ReadOnly: c.readOnly || undefined,
    Groups: c.groups,
    Hosts: c.hosts,
    DNSConfig: c.dnsConfig ? clean({ Nameservers: c.dnsConfig.nameservers, Search: c.dnsConfig.search, Options: c.dnsConfig.options }) : undefined,
    CapabilityAdd: c.capabilityAdd,
    CapabilityDrop: c.capabilityDrop,
    Sysctls: c.sysctls,
    Ulimits: c.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
    OomScoreAdj: c.oomScoreAdj || undefined,
    Isolation: 'default',
  })
}

function fromWireContainerSpec(w: Wire): ContainerSpec {
  return clean({
    image: String(w.Image ?? ''),
    labels: map(w.Labels),
    command: strs(w.Command),
    args: strs(w.Args),
    hostname: str(w.Hostname) || undefined,
    env: strs(w.Env),
    dir: str(w.Dir) || undefined,
    user: str(w.User) || undefined,
    tty: bool(w.TTY) || undefined,
    openStdin: bool(w.OpenStdin) || undefined,
    mounts: Array.isArray(w.Mounts) ? w.Mounts.filter(isObj).map(fromWireMount) : undefined,
    stopSignal: str(w.StopSignal) || undefined,
    stopGracePeriod: num(w.StopGracePeriod),
    healthCheck: isObj(w.Healthcheck) ? fromWireHealth(w.Healthcheck) : undefined,
    secrets: Array.isArray(w.Secrets) ? w.Secrets.filter(isObj).map((s): SecretReference => clean({ secretId: String(s.SecretID ?? ''), secretName: String(s.SecretName ?? ''), file: fromWireFile(s.File) })) : undefined,
    configs: Array.isArray(w.Configs) ? w.Configs.filter(isObj).map((s): ConfigReference => clean({ configId: String(s.ConfigID ?? ''), configName: String(s.ConfigName ?? ''), file: fromWireFile(s.File) })) : undefined,
    init: typeof w.Init === 'boolean' ? w.Init : undefined,
    readOnly: bool(w.ReadOnly) || undefined,
    groups: strs(w.Groups),
    hosts: strs(w.Hosts),
    dnsConfig: isObj(w.DNSConfig) ? clean({ nameservers: strs(w.DNSConfig.Nameservers), search: strs(w.DNSConfig.Search), options: strs(w.DNSConfig.Options) }) : undefined,
    capabilityAdd: strs(w.CapabilityAdd),
    capabilityDrop: strs(w.CapabilityDrop),
    sysctls: map(w.Sysctls),
    ulimits: Array.isArray(w.Ulimits) ? w.Ulimits.filter(isObj).map((u: Wire) => ({ name: String(u.Name ?? ''), soft: num(u.Soft) ?? 0, hard: num(u.Hard) ?? 0 })) : undefined,
    oomScoreAdj: num(w.OomScoreAdj) || undefined,
  })
}

const toWireRes = (r: ResourceSpec | undefined): Wire => (r ? clean({ NanoCPUs: r.nanoCPUs || undefined, MemoryBytes: r.memoryBytes || undefined, Pids: r.pids || undefined }) : {})
const fromWireRes = (w: unknown): ResourceSpec | undefined => (isObj(w) ? clean({ nanoCPUs: num(w.NanoCPUs) || undefined, memoryBytes: num(w.MemoryBytes) || undefined, pids: num(w.Pids) || undefined }) : undefined)

export function toWireTaskSpec(t: TaskSpec): Wire {
  const rp = t.restartPolicy
  return clean({
    ContainerSpec: toWireContainerSpec(t.containerSpec),
    Resources: t.resources ? { Limits: toWireRes(t.resources.limits), Reservations: toWireRes(t.resources.reservations) } : undefined,
    RestartPolicy: rp ? clean({ Condition: rp.condition, Delay: rp.delay, MaxAttempts: rp.maxAttempts, Window: rp.window }) : undefined,
    Placement: t.placement ? clean({
      Constraints: t.placement.constraints,
      Preferences: t.placement.preferences?.map((p) => ({ Spread: { SpreadDescriptor: p.spread.spreadDescriptor } })),
      MaxReplicas: t.placement.maxReplicas || undefined,
      Platforms: t.placement.platforms?.map((p) => clean({ Architecture: p.architecture, OS: p.os })),
    }) : undefined,
    Networks: t.networks?.map((n) => clean({ Target: n.target, Aliases: n.aliases, DriverOpts: n.driverOpts })),
    LogDriver: t.logDriver ? toWireDriver(t.logDriver) : undefined,
    ForceUpdate: t.forceUpdate ?? 0,
    Runtime: 'container',
  })
}

function fromWireTaskSpec(w: Wire, legacyNetworks: unknown): TaskSpec {
  const runtime = String(w.Runtime ?? '')
  if (runtime !== '' && runtime !== 'container') {
    throw runtime === 'plugin' || runtime === 'attachment' ? invalid('ERR_SWARM_BAD_SPEC', 'mismatched Runtime and *Spec fields') : badParam('unsupported runtime')
  }
  if (!isObj(w.ContainerSpec)) throw badParam('mismatched Runtime and *Spec fields')
  let restartPolicy: Partial<RestartPolicy> | undefined
  if (isObj(w.RestartPolicy)) {
    const c = String(w.RestartPolicy.Condition ?? '')
    if (c !== '' && c !== 'none' && c !== 'on-failure' && c !== 'any') throw badParam(`invalid RestartCondition: "${c}"`)
    restartPolicy = clean({ condition: (c || 'any') as RestartPolicy['condition'], delay: num(w.RestartPolicy.Delay), maxAttempts: num(w.RestartPolicy.MaxAttempts), window: num(w.RestartPolicy.Window) })
  }
  let placement: Placement | undefined
  if (isObj(w.Placement)) {
    const p = w.Placement
    placement = clean({
      constraints: nonEmpty(strs(p.Constraints)),
      preferences: Array.isArray(p.Preferences) ? p.Preferences.filter((x: unknown) => isObj(x) && isObj(x.Spread)).map((x: Wire) => ({ spread: { spreadDescriptor: String(x.Spread.SpreadDescriptor ?? '') } })) : undefined,
      maxReplicas: num(p.MaxReplicas) || undefined,
      platforms: Array.isArray(p.Platforms) ? p.Platforms.filter(isObj).map((x: Wire) => clean({ architecture: str(x.Architecture), os: str(x.OS) })) : undefined,
    })
  }
  const nets = Array.isArray(w.Networks) && w.Networks.length ? w.Networks : Array.isArray(legacyNetworks) ? legacyNetworks : undefined
  return clean({
    containerSpec: fromWireContainerSpec(w.ContainerSpec),
    resources: isObj(w.Resources) ? clean({ limits: fromWireRes(w.Resources.Limits), reservations: fromWireRes(w.Resources.Reservations) }) : undefined,
    restartPolicy,
    placement,
    networks: nets?.filter(isObj).map((n: Wire) => clean({ target: String(n.Target ?? ''), aliases: nonEmpty(strs(n.Aliases)), driverOpts: map(n.DriverOpts) })),
    forceUpdate: num(w.ForceUpdate) || undefined,
    logDriver: isObj(w.LogDriver) ? fromWireDriver(w.LogDriver) : undefined,
  })
}

function toWireMode(m: ServiceMode): Wire {
  if ('replicated' in m) return { Replicated: { Replicas: m.replicated.replicas } }
  if ('global' in m) return { Global: {} }
  if ('replicatedJob' in m) return { ReplicatedJob: { MaxConcurrent: m.replicatedJob.maxConcurrent, TotalCompletions: m.replicatedJob.totalCompletions } }
  return { GlobalJob: {} }
}

function fromWireMode(w: unknown): ServiceMode {
  const m = isObj(w) ? w : {}
  const given = ['Replicated', 'Global', 'ReplicatedJob', 'GlobalJob'].filter((k) => m[k] !== undefined && m[k] !== null)
  if (given.length > 1) throw badParam('must specify only one service mode')
  if (m.Global != null) return { global: {} }
  if (m.GlobalJob != null) return { globalJob: {} }
  if (m.ReplicatedJob != null) {
    const j = isObj(m.ReplicatedJob) ? m.ReplicatedJob : {}
    const total = num(j.TotalCompletions) ?? 1
    // moby: MaxConcurrent defaults to 1 and is capped at TotalCompletions.
    const max = num(j.MaxConcurrent) ?? 1
    return { replicatedJob: { maxConcurrent: Math.min(max, total), totalCompletions: total } }
  }
  const r = isObj(m.Replicated) ? m.Replicated : {}
  return { replicated: { replicas: typeof r.Replicas === 'number' ? r.Replicas : 1 } }
}

function toWireUpdateConfig(u: Partial<UpdateConfig>): Wire {
  return clean({ Parallelism: u.parallelism ?? 0, Delay: u.delay || undefined, FailureAction: u.failureAction, Monitor: u.monitor || undefined, MaxFailureRatio: u.maxFailureRatio ?? 0, Order: u.order })
}

function fromWireUpdateConfig(w: Wire): Partial<UpdateConfig> {
  const fa = String(w.FailureAction ?? '')
  if (!['', 'pause', 'continue', 'rollback'].includes(fa)) throw badParam(`unrecognized update failure action ${fa}`)
  const order = String(w.Order ?? '')
  if (!['', 'stop-first', 'start-first'].includes(order)) throw badParam(`unrecognized update order ${order}`)
  return clean({
    parallelism: num(w.Parallelism) ?? 0, delay: num(w.Delay) ?? 0, failureAction: (fa || 'pause') as UpdateConfig['failureAction'],
    monitor: num(w.Monitor), maxFailureRatio: num(w.MaxFailureRatio) ?? 0, order: (order || 'stop-first') as UpdateConfig['order'],
  })
}

const toWirePort = (p: EndpointPortConfig): Wire => clean({ Name: p.name || undefined, Protocol: p.protocol, TargetPort: p.targetPort, PublishedPort: p.publishedPort, PublishMode: p.publishMode })

function toWireEndpointSpec(e: EndpointSpec): Wire {
  return clean({ Mode: e.mode, Ports: e.ports?.length ? e.ports.map(toWirePort) : undefined })
}

function fromWireEndpointSpec(w: Wire): EndpointSpec {
  const mode = String(w.Mode ?? '')
  if (mode !== '' && mode !== 'vip' && mode !== 'dnsrr') throw badParam(`invalid resolution mode: "${mode}"`)
  const ports = Array.isArray(w.Ports) ? w.Ports.filter(isObj).map((p: Wire): EndpointPortConfig => {
    const proto = String(p.Protocol ?? '').toLowerCase()
    const pm = String(p.PublishMode ?? '').toLowerCase()
    return clean({
      name: str(p.Name) || undefined,
      protocol: (proto === 'udp' || proto === 'sctp' ? proto : 'tcp') as EndpointPortConfig['protocol'],
      targetPort: num(p.TargetPort) ?? 0,
      publishedPort: num(p.PublishedPort) || undefined,
      publishMode: pm === 'host' ? 'host' : 'ingress',
    })
  }) : undefined
  return clean({ mode: (mode || 'vip') as EndpointSpec['mode'], ports: nonEmpty(ports) })
}

export function toWireServiceSpec(s: ServiceSpec): Wire {
  return clean({
    Name: s.name,
    Labels: s.labels ?? {},
    TaskTemplate: toWireTaskSpec(s.taskTemplate),
    Mode: toWireMode(s.mode),
    UpdateConfig: s.updateConfig ? toWireUpdateConfig(s.updateConfig) : undefined,
    RollbackConfig: s.rollbackConfig ? toWireUpdateConfig(s.rollbackConfig) : undefined,
    EndpointSpec: s.endpointSpec ? toWireEndpointSpec(s.endpointSpec) : undefined,
  })
}

/** A ServiceSpec body (create, update) as moby's ServiceSpecToGRPC reads it; errors in its words (400). */
export function fromWireServiceSpec(w: Wire | undefined): ServiceSpec {
  const b = isObj(w) ? w : {}
  const mode = fromWireMode(b.Mode)
  const isJob = 'replicatedJob' in mode || 'globalJob' in mode
  return clean({
    name: String(b.Name ?? ''),
    labels: map(b.Labels) ?? {},
    taskTemplate: fromWireTaskSpec(isObj(b.TaskTemplate) ? b.TaskTemplate : {}, b.Networks),
    mode,
    updateConfig: !isJob && isObj(b.UpdateConfig) ? fromWireUpdateConfig(b.UpdateConfig) : undefined,
    rollbackConfig: !isJob && isObj(b.RollbackConfig) ? fromWireUpdateConfig(b.RollbackConfig) : undefined,
    endpointSpec: isObj(b.EndpointSpec) ? fromWireEndpointSpec(b.EndpointSpec) : undefined,
  })
}

/**
 * swarmkit's defaults.InterpolateService (`?insertDefaults=true`): every unset field of the spec
 * with the value the cluster applies.
 */
export function withServiceDefaults(s: ServiceSpec): ServiceSpec {
  const out = structuredClone(s)
  const t = out.taskTemplate
  t.containerSpec.stopGracePeriod ??= 10_000_000_000
  t.resources ??= {}
  t.resources.limits ??= {}
  t.resources.reservations ??= {}
  t.restartPolicy = { condition: 'any', delay: 5_000_000_000, maxAttempts: 0, ...t.restartPolicy }
  t.placement ??= {}
  const uc: UpdateConfig = { parallelism: 1, delay: 0, failureAction: 'pause', monitor: 5_000_000_000, maxFailureRatio: 0, order: 'stop-first' }
  if (!('replicatedJob' in out.mode) && !('globalJob' in out.mode)) {
    out.updateConfig = { ...uc, ...Object.fromEntries(Object.entries(out.updateConfig ?? {}).filter(([, v]) => v !== undefined)) }
    out.rollbackConfig = { ...uc, ...Object.fromEntries(Object.entries(out.rollbackConfig ?? {}).filter(([, v]) => v !== undefined)) }
  }
  out.endpointSpec ??= { mode: 'vip' }
  return out
}

export function toWireService(v: ServiceView, o: { insertDefaults?: boolean } = {}): Wire {
  const s = v.service
  const spec = o.insertDefaults ? withServiceDefaults(s.spec) : s.spec
  const ep = s.endpoint
  const epSpec = ep?.spec ?? s.spec.endpointSpec ?? { mode: 'vip' }
  return clean({
    ...meta(s),
    Spec: toWireServiceSpec(spec),
    PreviousSpec: s.previousSpec ? toWireServiceSpec(o.insertDefaults ? withServiceDefaults(s.previousSpec) : s.previousSpec) : undefined,
    Endpoint: clean({
      Spec: toWireEndpointSpec(epSpec),
      Ports: ep?.ports.length ? ep.ports.map(toWirePort) : undefined,
      VirtualIPs: ep?.virtualIPs.length ? ep.virtualIPs.map((x) => ({ NetworkID: x.networkId, Addr: x.addr })) : undefined,
    }),
    UpdateStatus: s.updateStatus ? clean({ State: s.updateStatus.state, StartedAt: s.updateStatus.startedAt, CompletedAt: s.updateStatus.completedAt, Message: s.updateStatus.message }) : undefined,
    ServiceStatus: v.serviceStatus ? { RunningTasks: v.serviceStatus.runningTasks, DesiredTasks: v.serviceStatus.desiredTasks, CompletedTasks: v.serviceStatus.completedTasks } : undefined,
  })
}

// ---- networks (as a task's attachment shows them) and tasks

export function toWireSwarmNetwork(n: SwarmNetwork): Wire {
  const s = n.spec
  return {
    ...meta(n),
    Spec: clean({
      Name: s.name, Labels: s.labels ?? {}, DriverConfiguration: { Name: s.driver },
      Scope: 'swarm', Attachable: s.attachable || undefined, Ingress: s.ingress || undefined, Internal: s.internal || undefined,
      IPAMOptions: { Driver: { Name: s.ipam.driver || 'default' }, Configs: s.ipam.config.map((c) => clean({ Subnet: c.subnet, Gateway: c.gateway || undefined })) },
    }),
    DriverState: { Name: s.driver, Options: { 'com.docker.network.driver.overlay.vxlanid_list': String(n.vni) } },
    IPAMOptions: { Driver: { Name: s.ipam.driver || 'default' }, Configs: s.ipam.config.map((c) => clean({ Subnet: c.subnet, Gateway: c.gateway || undefined })) },
  }
}

/** A task; `networks` resolves its attachments' network IDs (an unknown one shows only its ID). */
export function toWireTask(t: Task, networks: ReadonlyMap<string, SwarmNetwork> = new Map()): Wire {
  const cs = t.status.containerStatus
  return clean({
    ...meta(t),
    Name: t.name || undefined,
    Labels: t.labels ?? {},
    Spec: toWireTaskSpec(t.spec),
    ServiceID: t.serviceId,
    Slot: t.slot || undefined,
    NodeID: t.nodeId || undefined,
    Status: clean({
      Timestamp: t.status.timestamp,
      State: t.status.state,
      Message: t.status.message || undefined,
      Err: t.status.err || undefined,
      ContainerStatus: cs ? clean({ ContainerID: cs.containerId || undefined, PID: cs.pid || undefined, ExitCode: cs.exitCode || undefined }) : undefined,
      PortStatus: {},
    }),
    DesiredState: t.desiredState,
    NetworksAttachments: t.networksAttachments?.length
      ? t.networksAttachments.map((a) => {
        const n = networks.get(a.networkId)
        return { Network: n ? toWireSwarmNetwork(n) : { ID: a.networkId }, Addresses: a.addresses }
      })
      : undefined,
  })
}

// ---- secrets and configs

export function toWireSecret(s: Secret): Wire {
  return { ...meta(s), Spec: { Name: s.spec.name, Labels: s.spec.labels ?? {} } }
}

export function toWireConfig(c: Config): Wire {
  return { ...meta(c), Spec: { Name: c.spec.name, Labels: c.spec.labels ?? {}, Data: c.spec.data } }
}

/** A SecretSpec / ConfigSpec body; Data is base64 as sent. */
export function fromWireSecretSpec(w: Wire | undefined): SecretSpec {
  const b = isObj(w) ? w : {}
  return { name: String(b.Name ?? ''), labels: map(b.Labels) ?? {}, data: typeof b.Data === 'string' ? b.Data : '' }
}

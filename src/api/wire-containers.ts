import { invalid, notFound, notImplemented } from '../lib/errors.js'
import { fromWireNetwork, toWireNetworkSettings, toWireSummaryNetwork } from './wire-network.js'
import type { ContainerConfig, ContainerRecord, HostConfig, MountPoint } from '../engine/containers/types.js'
/** Go's zero time: a container that never ran. */
const ZERO_TIME = '0001-01-01T00:00:00Z'
import { compareVersions } from './http.js'
import { humanDuration } from '../lib/units.js'

type Wire = Record<string, unknown>

// The body was checked against the Engine API schema (validate.ts): only Go's null remains to
// read as Go does (a null list entry or map value is the zero value, a null entry of a pointer list is skipped).
const arr = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => (x === null ? '' : String(x))) : [])
/** strslice.StrSlice: a list of strings, or one string. */
const strOrArr = (v: unknown): string[] | null => (Array.isArray(v) ? arr(v) : typeof v === 'string' && v !== '' ? [v] : null)
/** A map[string]string: null values are Go's zero value. */
const strMap = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, typeof x === 'string' ? x : '']))
const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d)
const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const obj = <T = Wire>(v: unknown): T => (v && typeof v === 'object' && !Array.isArray(v) ? (v as T) : ({} as T))

/** Parse POST /containers/create's body into the engine's camelCase config. */
export function fromWireCreate(body: Wire): { config: ContainerConfig; hostConfig: HostConfig; endpointsConfig?: ContainerRecord['endpointsConfig'] } {
  const h = obj(body.HostConfig)
  const hc = obj(body.Healthcheck)
  // Docker's checks of a healthcheck (daemon/container.go validateHealthCheck).
  for (const [k, what] of [['Interval', 'Interval'], ['Timeout', 'Timeout'], ['StartPeriod', 'StartPeriod'], ['StartInterval', 'StartInterval']] as const) {
    const v = num(hc[k])
    if (v !== 0 && v < 1_000_000) throw invalid('ERR_HEALTHCHECK', `${what} in Healthcheck cannot be less than 1ms`)
  }
  if (num(hc.Retries) < 0) throw invalid('ERR_HEALTHCHECK', 'Retries in Healthcheck cannot be negative')
  const config: ContainerConfig = {
    hostname: str(body.Hostname),
    domainname: str(body.Domainname),
    user: str(body.User),
    attachStdin: !!body.AttachStdin,
    attachStdout: !!body.AttachStdout,
    attachStderr: !!body.AttachStderr,
    tty: !!body.Tty,
    openStdin: !!body.OpenStdin,
    stdinOnce: !!body.StdinOnce,
    env: arr(body.Env),
    cmd: strOrArr(body.Cmd),
    entrypoint: strOrArr(body.Entrypoint),
    image: str(body.Image),
    workingDir: str(body.WorkingDir),
    labels: strMap(body.Labels),
    ...(body.StopSignal ? { stopSignal: str(body.StopSignal) } : {}),
    ...(typeof body.StopTimeout === 'number' ? { stopTimeout: body.StopTimeout } : {}),
    exposedPorts: obj(body.ExposedPorts),
    volumes: obj(body.Volumes),
    onBuild: null,
    ...(body.Healthcheck ? { healthcheck: { test: arr(hc.Test), interval: num(hc.Interval), timeout: num(hc.Timeout), startPeriod: num(hc.StartPeriod), startInterval: num(hc.StartInterval), retries: num(hc.Retries) } } : {}),
  }
  if (!config.image) throw invalid('ERR_NO_IMAGE', 'No image was specified')
  for (const e of config.env) if (e.startsWith('=') || e === '') throw invalid('ERR_INVALID_ENV', `invalid environment variable: ${e}`)
  // Features of later milestones: refuse clearly instead of ignoring.
  const mounts = (Array.isArray(h.Mounts) ? h.Mounts : []).map((m) => obj(m))
  if (h.VolumeDriver && str(h.VolumeDriver) !== 'local') throw notFound('ERR_VOLUME_DRIVER', `error looking up volume plugin ${str(h.VolumeDriver)}: plugin "${str(h.VolumeDriver)}" not found`)
  const net = fromWireNetwork(body, h)
  const rp = obj(h.RestartPolicy)
  // Passed through as asked: the engine's validateRestartPolicy is the one check (with AutoRemove).
  const rpName = str(rp.Name) as HostConfig['restartPolicy']['name']
  const logCfg = obj(h.LogConfig)
  // An empty type takes the daemon's default driver; the engine checks the driver and its options.
  const logType = str(logCfg.Type)
  const hostConfig: HostConfig = {
    autoRemove: !!h.AutoRemove,
    binds: arr(h.Binds),
    mounts,
    tmpfs: strMap(h.Tmpfs),
    volumesFrom: arr(h.VolumesFrom),
    networkMode: net.networkMode,
    portBindings: net.portBindings,
    publishAllPorts: net.publishAllPorts,
    links: net.links,
    restartPolicy: { name: rpName, maximumRetryCount: num(rp.MaximumRetryCount) },
    privileged: !!h.Privileged,
    readonlyRootfs: !!h.ReadonlyRootfs,
    capAdd: strOrArr(h.CapAdd) ?? [],
    capDrop: strOrArr(h.CapDrop) ?? [],
    securityOpt: arr(h.SecurityOpt),
    init: !!h.Init,
    memory: num(h.Memory),
    memorySwap: num(h.MemorySwap),
    memoryReservation: num(h.MemoryReservation),
    nanoCpus: num(h.NanoCpus),
    cpuShares: num(h.CpuShares),
    cpuQuota: num(h.CpuQuota),
    cpuPeriod: num(h.CpuPeriod),
    cpusetCpus: str(h.CpusetCpus),
    cpusetMems: str(h.CpusetMems),
    pidsLimit: typeof h.PidsLimit === 'number' && h.PidsLimit !== 0 ? h.PidsLimit : null,
    oomKillDisable: !!h.OomKillDisable,
    shmSize: num(h.ShmSize),
    ulimits: (Array.isArray(h.Ulimits) ? h.Ulimits : []).filter((u) => u !== null).map((u: Wire) => ({ name: str(u.Name), soft: num(u.Soft), hard: num(u.Hard) })),
    sysctls: strMap(h.Sysctls),
    devices: (Array.isArray(h.Devices) ? h.Devices : []).filter((d) => d !== null).map((d: Wire) => ({ pathOnHost: str(d.PathOnHost), pathInContainer: str(d.PathInContainer) || str(d.PathOnHost), cgroupPermissions: str(d.CgroupPermissions) || 'rwm' })),
    logConfig: { type: logType, config: strMap(logCfg.Config) },
    extraHosts: arr(h.ExtraHosts),
    dns: arr(h.Dns),
    dnsSearch: arr(h.DnsSearch),
    dnsOptions: arr(h.DnsOptions),
    runtime: str(h.Runtime),
    oomScoreAdj: num(h.OomScoreAdj),
    // Namespace modes, isolation, extra cgroup settings and groups: kept and read back as given.
    ...(h.PidMode ? { pidMode: str(h.PidMode) } : {}),
    ...(h.UTSMode ? { utsMode: str(h.UTSMode) } : {}),
    ...(h.Isolation ? { isolation: str(h.Isolation) } : {}),
    ...(h.CgroupnsMode ? { cgroupnsMode: str(h.CgroupnsMode) } : {}),
    ...(Array.isArray(h.DeviceCgroupRules) && h.DeviceCgroupRules.length ? { deviceCgroupRules: arr(h.DeviceCgroupRules) } : {}),
    ...(typeof h.MemorySwappiness === 'number' && h.MemorySwappiness !== -1 ? { memorySwappiness: h.MemorySwappiness } : {}),
    ...(Array.isArray(h.GroupAdd) && h.GroupAdd.length ? { groupAdd: arr(h.GroupAdd) } : {}),
    ...(num(h.CpuRealtimePeriod) ? { cpuRealtimePeriod: num(h.CpuRealtimePeriod) } : {}),
    ...(num(h.CpuRealtimeRuntime) ? { cpuRealtimeRuntime: num(h.CpuRealtimeRuntime) } : {}),
  }
  if (hostConfig.nanoCpus && (hostConfig.cpuQuota || hostConfig.cpuPeriod)) throw invalid('ERR_CPUS', 'Conflicting options: Nano CPUs and CPU Period cannot both be set')
  if (hostConfig.shmSize < 0) throw invalid('ERR_SHM', 'SHM size can not be less than 0')
  return { config, hostConfig, ...(net.endpointsConfig ? { endpointsConfig: net.endpointsConfig } : {}) }
}

function toWireConfig(c: ContainerConfig): Wire {
  return {
    Hostname: c.hostname, Domainname: c.domainname, User: c.user,
    AttachStdin: c.attachStdin, AttachStdout: c.attachStdout, AttachStderr: c.attachStderr,
    ...(Object.keys(c.exposedPorts).length ? { ExposedPorts: c.exposedPorts } : {}),
    Tty: c.tty, OpenStdin: c.openStdin, StdinOnce: c.stdinOnce,
    Env: c.env, Cmd: c.cmd, ...(c.healthcheck ? { Healthcheck: { Test: c.healthcheck.test, Interval: c.healthcheck.interval, Timeout: c.healthcheck.timeout, StartPeriod: c.healthcheck.startPeriod, ...(c.healthcheck.startInterval ? { StartInterval: c.healthcheck.startInterval } : {}), Retries: c.healthcheck.retries } } : {}),
    Image: c.image, Volumes: Object.keys(c.volumes).length ? c.volumes : null, WorkingDir: c.workingDir,
    Entrypoint: c.entrypoint, OnBuild: c.onBuild, Labels: c.labels,
    ...(c.stopSignal ? { StopSignal: c.stopSignal } : {}),
    ...(c.stopTimeout !== undefined ? { StopTimeout: c.stopTimeout } : {}),
  }
}

/** A mount as inspect and ps show it. */
function toWireMountPoint(m: MountPoint): Wire {
  if (m.type === 'volume') return { Type: 'volume', Name: m.name, Source: m.source, Destination: m.destination, Driver: 'local', Mode: m.mode, RW: !m.readOnly, Propagation: '' }
  if (m.type === 'bind') return { Type: 'bind', Source: m.source, Destination: m.destination, Mode: m.mode, RW: !m.readOnly, Propagation: m.propagation }
  return { Type: 'tmpfs', Source: '', Destination: m.destination, Mode: m.mode, RW: !m.readOnly, Propagation: '' }
}

function toWireHostConfig(h: HostConfig): Wire {
  return {
    Binds: h.binds.length ? h.binds : null, ContainerIDFile: '', LogConfig: { Type: h.logConfig.type, Config: h.logConfig.config }, NetworkMode: h.networkMode,
    PortBindings: Object.fromEntries(Object.entries(h.portBindings ?? {}).map(([k, v]) => [k, v.map((b) => ({ HostIp: b.hostIp, HostPort: b.hostPort }))])), RestartPolicy: { Name: h.restartPolicy.name, MaximumRetryCount: h.restartPolicy.maximumRetryCount },
    AutoRemove: h.autoRemove, VolumeDriver: '', VolumesFrom: h.volumesFrom.length ? h.volumesFrom : null, ConsoleSize: [0, 0], CapAdd: h.capAdd.length ? h.capAdd : null, CapDrop: h.capDrop.length ? h.capDrop : null,
    CgroupnsMode: h.cgroupnsMode || 'host', Dns: h.dns, DnsOptions: h.dnsOptions, DnsSearch: h.dnsSearch, ExtraHosts: h.extraHosts.length ? h.extraHosts : null, GroupAdd: h.groupAdd?.length ? h.groupAdd : null,
    IpcMode: 'private', Cgroup: '', Links: h.links?.length ? h.links : null, OomScoreAdj: h.oomScoreAdj, PidMode: h.pidMode ?? '', Privileged: h.privileged, PublishAllPorts: !!h.publishAllPorts,
    ReadonlyRootfs: h.readonlyRootfs, SecurityOpt: h.securityOpt.length ? h.securityOpt : null, UTSMode: h.utsMode ?? '', UsernsMode: '', ShmSize: h.shmSize || 67108864,
    Runtime: h.runtime, Isolation: h.isolation ?? '', CpuShares: h.cpuShares, Memory: h.memory, NanoCpus: h.nanoCpus, CgroupParent: '', BlkioWeight: 0,
    CpuPeriod: h.cpuPeriod, CpuQuota: h.cpuQuota, CpusetCpus: h.cpusetCpus, CpusetMems: h.cpusetMems, Devices: h.devices.map((d) => ({ PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer, CgroupPermissions: d.cgroupPermissions })),
    MemoryReservation: h.memoryReservation, MemorySwap: h.memorySwap, MemorySwappiness: h.memorySwappiness ?? null,
    CpuRealtimePeriod: h.cpuRealtimePeriod ?? 0, CpuRealtimeRuntime: h.cpuRealtimeRuntime ?? 0, DeviceCgroupRules: h.deviceCgroupRules?.length ? h.deviceCgroupRules : null, OomKillDisable: h.oomKillDisable, PidsLimit: h.pidsLimit,
    Ulimits: h.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })), Init: h.init, Sysctls: Object.keys(h.sysctls).length ? h.sysctls : undefined,
    ...(h.mounts?.length ? { Mounts: h.mounts } : {}),
    ...(h.tmpfs && Object.keys(h.tmpfs).length ? { Tmpfs: h.tmpfs } : {}),
    MaskedPaths: [], ReadonlyPaths: [],
  }
}

export function toWireInspect(c: ContainerRecord, version: string, execIds: string[] = []): Wire {
  const s = c.state
  const out: Wire = {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: s.status, Running: s.status === 'running' || s.status === 'paused', Paused: s.status === 'paused', Restarting: s.status === 'restarting',
      OOMKilled: s.oomKilled, Dead: s.status === 'dead', Pid: s.pid, ExitCode: s.exitCode, Error: s.error, StartedAt: s.startedAt, FinishedAt: s.finishedAt,
      ...(s.health ? { Health: { Status: s.health.status, FailingStreak: s.health.failingStreak, Log: s.health.log.map((l) => ({ Start: l.start, End: l.end, ExitCode: l.exitCode, Output: l.output })) } } : {}),
    },
    Image: c.imageId,
    ResolvConfPath: `${c.logPath.replace(/container\.log$/, '')}resolv.conf`,
    HostnamePath: `${c.logPath.replace(/container\.log$/, '')}hostname`,
    HostsPath: `${c.logPath.replace(/container\.log$/, '')}hosts`,
    LogPath: c.logPath,
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIds.length ? execIds : null,
    // Links as Docker shows them: `/<target>:/<this container>/<alias>`.
    HostConfig: { ...toWireHostConfig(c.hostConfig), ...(c.hostConfig.links?.length ? { Links: c.hostConfig.links.map((l) => { const [n = '', a] = l.split(':'); return `/${n.replace(/^\//, '')}:/${c.name}/${(a ?? n).replace(/^.*\//, '')}` }) } : {}) },
    GraphDriver: { Name: 'overlay2', Data: { UpperDir: `${c.logPath.replace(/container\.log$/, '')}upper`, WorkDir: `${c.logPath.replace(/container\.log$/, '')}work`, MergedDir: `${c.logPath.replace(/container\.log$/, '')}merged` } },
    Mounts: (c.mountPoints ?? []).map(toWireMountPoint),
    Config: toWireConfig(c.config),
    NetworkSettings: toWireNetworkSettings(c),
  }
  if (compareVersions(version, '1.44') < 0) (out.NetworkSettings as Wire).SecondaryIPAddresses = null
  // API < 1.45: user-defined networks' Aliases also carry the short ID and the hostname (as moby's inspect does).
  if (compareVersions(version, '1.45') < 0) {
    const nets = (out.NetworkSettings as Wire).Networks as Record<string, Wire>
    for (const [name, ep] of Object.entries(nets)) {
      if (['bridge', 'host', 'none', 'default'].includes(name) || name.startsWith('container:')) continue
      ep.Aliases = [...new Set([...((ep.Aliases as string[] | null) ?? []), c.id.slice(0, 12), c.config.hostname].filter(Boolean))]
    }
  }
  return out
}

/** The `Status` column of ps: "Up 3 seconds", "Exited (0) 2 minutes ago", "Created". */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.state
  const since = (iso: string) => humanDuration(now - Date.parse(iso))
  switch (s.status) {
    case 'running': return `Up ${since(s.startedAt)}${healthSuffix(c)}`
    case 'paused': return `Up ${since(s.startedAt)} (Paused)`
    case 'restarting': return `Restarting (${s.exitCode}) ${since(s.finishedAt)} ago`
    case 'removing': return 'Removal In Progress'
    case 'dead': return 'Dead'
    case 'created': return 'Created'
    default: return s.finishedAt === ZERO_TIME ? 'Created' : `Exited (${s.exitCode}) ${since(s.finishedAt)} ago`
  }
}

/** A container whose config asks for a healthcheck (`NONE` turns the image's off). */
function hasHealthcheck(c: ContainerRecord): boolean {
  return !!c.config.healthcheck?.test?.length && c.config.healthcheck.test[0] !== 'NONE'
}

/** ps's health note: ` (health: starting)`, ` (healthy)`, ` (unhealthy)`. */
function healthSuffix(c: ContainerRecord): string {
  const h = c.state.health?.status
  if (!h || !hasHealthcheck(c)) return ''
  return h === 'starting' ? ' (health: starting)' : ` (${h})`
}

/** The health a ps filter sees: none without a healthcheck. */
export function healthOf(c: ContainerRecord): string {
  return hasHealthcheck(c) ? c.state.health?.status ?? 'starting' : 'none'
}

export function toWireSummary(c: ContainerRecord): Wire {
  const summaryNet = toWireSummaryNetwork(c)
  const cmd = [c.path, ...c.args].map((a) => (/\s/.test(a) ? JSON.stringify(a).slice(1, -1) : a)).join(' ')
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.imageRef,
    ImageID: c.imageId,
    Command: [c.path, ...c.args].join(' ') || cmd,
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: summaryNet.Ports,
    Labels: c.config.labels,
    State: c.state.status,
    Status: statusText(c),
    HostConfig: summaryNet.HostConfig,
    NetworkSettings: summaryNet.NetworkSettings,
    Mounts: (c.mountPoints ?? []).map(toWireMountPoint),
  }
}

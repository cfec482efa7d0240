import { createHash } from 'node:crypto'
import type { ContainerCreateRequest, EndpointSettings, HostConfig, Mount, NetworkCreateRequest, VolumeCreateRequest } from '../client/types.js'
import { invalid } from '../lib/errors.js'
import type { ProjectModel, ServiceConfig } from './model.js'

/** The compose version Berth's labels claim (compose v2's label schema). */
export const COMPOSE_VERSION = '2.29.0'

export const L = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  hash: 'com.docker.compose.config-hash',
  files: 'com.docker.compose.project.config_files',
  workdir: 'com.docker.compose.project.working_dir',
  dependsOn: 'com.docker.compose.depends_on',
  image: 'com.docker.compose.image',
  version: 'com.docker.compose.version',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  replace: 'com.docker.compose.replace',
} as const

/** compose v2's container name: `project-service-N` unless container_name is set. */
export function containerName(p: ProjectModel, s: ServiceConfig, n: number): string {
  return s.container_name ?? `${p.name}-${s.name}-${n}`
}

/** The image a service runs: its `image`, or `project-service` for a build without one. */
export function imageOf(p: ProjectModel, s: ServiceConfig): string {
  return s.image ?? `${p.name}-${s.name}`
}

/**
 * The service's config hash: what decides recreation. Attributes that do not reach the
 * container (build, pull_policy, scale, replicas, depends_on, profiles, attach, develop) are left
 * out, as compose v2 leaves them out.
 */
export function serviceHash(s: ServiceConfig): string {
  const { build: _b, pull_policy: _pp, scale: _sc, depends_on: _d, profiles: _p, attach: _a, develop: _dv, ...rest } = s
  const deploy = rest.deploy ? { ...rest.deploy, replicas: undefined } : undefined
  return createHash('sha256').update(stableJson({ ...rest, deploy })).digest('hex')
}

export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`
  if (v && typeof v === 'object') return `{${Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`
  return JSON.stringify(v ?? null)
}

/** Networks of a service in the order compose connects them (priority, then name). */
export function serviceNetworks(s: ServiceConfig): string[] {
  return Object.keys(s.networks ?? {}).sort((a, b) => (s.networks![b]?.priority ?? 0) - (s.networks![a]?.priority ?? 0) || a.localeCompare(b))
}

export function endpointFor(p: ProjectModel, s: ServiceConfig, key: string, ctrName: string, useAliases = true): EndpointSettings {
  const cfg = s.networks?.[key] ?? {}
  const aliases = useAliases ? [s.name, ...(cfg.aliases ?? [])] : [...(cfg.aliases ?? [])]
  void ctrName
  const ep: EndpointSettings = { Aliases: aliases }
  if (cfg.ipv4_address || cfg.ipv6_address || cfg.link_local_ips) {
    ep.IPAMConfig = { ...(cfg.ipv4_address ? { IPv4Address: cfg.ipv4_address } : {}), ...(cfg.ipv6_address ? { IPv6Address: cfg.ipv6_address } : {}), ...(cfg.link_local_ips ? { LinkLocalIPs: cfg.link_local_ips } : {}) }
  }
  if (cfg.mac_address) ep.MacAddress = cfg.mac_address
  if (cfg.priority !== undefined) ep.GwPriority = cfg.priority
  if (cfg.driver_opts) ep.DriverOpts = cfg.driver_opts
  return ep
}

export interface ConvertContext {
  /** Resolved container IDs for `network_mode: service:x` and links (`service` → first container name). */
  containerOf: (service: string) => string | undefined
  imageId?: string
  number: number
  oneoff?: boolean
  hash: string
}

/** A service → POST /containers/create, compose v2's way (labels, mounts, ports, limits). */
export function toCreateRequest(p: ProjectModel, s: ServiceConfig, c: ConvertContext): { body: ContainerCreateRequest; name: string; platform?: string } {
  const name = containerName(p, s, c.number)
  const labels: Record<string, string> = {
    ...s.labels,
    [L.project]: p.name,
    [L.service]: s.name,
    [L.number]: String(c.number),
    [L.oneoff]: c.oneoff ? 'True' : 'False',
    [L.hash]: c.hash,
    [L.files]: p.configFiles.join(','),
    [L.workdir]: p.workingDir,
    [L.version]: COMPOSE_VERSION,
    [L.dependsOn]: Object.entries(s.depends_on).map(([d, x]) => `${d}:${x.condition}:${x.restart}`).join(','),
  }
  if (c.imageId) labels[L.image] = c.imageId
  const env = Object.entries(s.environment).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`)
  const exposed: Record<string, object> = {}
  for (const port of s.ports) exposed[`${port.target}/${port.protocol}`] = {}
  for (const e of s.expose ?? []) {
    const [num, proto = 'tcp'] = e.split('/')
    const [a, b = a] = num!.split('-')
    for (let x = Number(a); x <= Number(b); x++) exposed[`${x}/${proto}`] = {}
  }
  const host: HostConfig = {}
  const portBindings: Record<string, Array<{ HostIp?: string; HostPort?: string }>> = {}
  for (const port of s.ports) {
    const key = `${port.target}/${port.protocol}`
    ;(portBindings[key] ??= []).push({ HostIp: port.host_ip ?? '', HostPort: port.published ?? '' })
  }
  if (Object.keys(portBindings).length) host.PortBindings = portBindings
  const binds: string[] = []
  const mounts: Mount[] = []
  for (const m of s.volumes) {
    if (m.type === 'bind') {
      if (m.bind?.create_host_path !== false && !m.bind?.propagation) binds.push(`${m.source}:${m.target}${m.read_only ? ':ro' : ':rw'}${m.bind?.selinux ? `,${m.bind.selinux}` : ''}`)
      else mounts.push({ Type: 'bind', Source: m.source!, Target: m.target, ReadOnly: !!m.read_only, ...(m.bind?.propagation ? { BindOptions: { Propagation: m.bind.propagation } } : {}) })
    } else if (m.type === 'volume') {
      const vol = m.source ? p.volumes[m.source] : undefined
      mounts.push({ Type: 'volume', ...(vol ? { Source: vol.name } : {}), Target: m.target, ReadOnly: !!m.read_only, ...(m.volume?.nocopy || m.volume?.subpath ? { VolumeOptions: { ...(m.volume.nocopy ? { NoCopy: true } : {}), ...(m.volume.subpath ? { Subpath: m.volume.subpath } : {}) } } : {}) })
    } else if (m.type === 'tmpfs') {
      mounts.push({ Type: 'tmpfs', Target: m.target, ReadOnly: !!m.read_only, ...(m.tmpfs ? { TmpfsOptions: { ...(m.tmpfs.size ? { SizeBytes: m.tmpfs.size } : {}), ...(m.tmpfs.mode ? { Mode: m.tmpfs.mode } : {}) } } : {}) })
    }
  }
  for (const ref of [...(s.secrets ?? []).map((r) => ['secrets', r] as const), ...(s.configs ?? []).map((r) => ['configs', r] as const)]) {
    const [kind, r] = ref
    const obj = p[kind][r.source]!
    if (obj.file) binds.push(`${obj.file}:${r.target}:ro`)
  }
  if (binds.length) host.Binds = binds
  if (mounts.length) host.Mounts = mounts
  if (s.tmpfs?.length) host.Tmpfs = Object.fromEntries(s.tmpfs.map((t) => { const i = t.indexOf(':'); return i < 0 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)] }))
  // Networks: the first (by priority) at create; the others are connected before start.
  let endpoints: Record<string, EndpointSettings> | undefined
  const nm = s.network_mode
  if (nm) {
    if (nm.startsWith('service:')) {
      const id = c.containerOf(nm.slice(8))
      if (!id) throw invalid('ERR_COMPOSE_NETWORK_MODE', `service ${s.name}: network_mode ${nm}: no container for service ${nm.slice(8)}`)
      host.NetworkMode = `container:${id}`
    } else host.NetworkMode = nm
  } else {
    const nets = serviceNetworks(s)
    const first = nets[0]
    if (first) {
      host.NetworkMode = p.networks[first]!.name
      endpoints = { [p.networks[first]!.name]: endpointFor(p, s, first, name, !c.oneoff) }
    } else host.NetworkMode = 'none'
  }
  const restart = restartPolicy(s)
  if (restart) host.RestartPolicy = restart
  const mem = s.mem_limit ?? s.deploy?.resources?.limits?.memory
  if (mem !== undefined) host.Memory = mem
  const res = s.mem_reservation ?? s.deploy?.resources?.reservations?.memory
  if (res !== undefined) host.MemoryReservation = res
  if (s.memswap_limit !== undefined) host.MemorySwap = s.memswap_limit
  const cpus = s.cpus ?? s.deploy?.resources?.limits?.cpus
  if (cpus !== undefined) host.NanoCpus = Math.round(cpus * 1e9)
  if (s.cpu_shares !== undefined) host.CpuShares = s.cpu_shares
  if (s.cpuset) host.CpusetCpus = s.cpuset
  const pids = s.pids_limit ?? s.deploy?.resources?.limits?.pids
  if (pids !== undefined) host.PidsLimit = pids
  if (s.init !== undefined) host.Init = s.init
  if (s.privileged) host.Privileged = true
  if (s.read_only) host.ReadonlyRootfs = true
  if (s.cap_add) host.CapAdd = s.cap_add
  if (s.cap_drop) host.CapDrop = s.cap_drop
  if (s.security_opt) host.SecurityOpt = s.security_opt
  if (s.ulimits) host.Ulimits = Object.entries(s.ulimits).map(([n, u]) => ({ Name: n, Soft: u.soft, Hard: u.hard }))
  if (s.sysctls) host.Sysctls = s.sysctls
  if (s.logging) host.LogConfig = { Type: s.logging.driver ?? '', Config: s.logging.options ?? {} }
  if (s.extra_hosts) host.ExtraHosts = s.extra_hosts
  if (s.dns) host.Dns = s.dns
  if (s.dns_search) host.DnsSearch = s.dns_search
  if (s.dns_opt) host.DnsOptions = s.dns_opt
  if (s.devices) host.Devices = s.devices.map((d) => { const [a, b = a, perm = 'rwm'] = d.split(':'); return { PathOnHost: a!, PathInContainer: b!, CgroupPermissions: perm } })
  if (s.shm_size !== undefined) host.ShmSize = s.shm_size
  if (s.oom_score_adj !== undefined) host.OomScoreAdj = s.oom_score_adj
  if (s.ipc) host.IpcMode = s.ipc.startsWith('service:') ? `container:${c.containerOf(s.ipc.slice(8)) ?? ''}` : s.ipc
  if (s.pid) host.PidMode = s.pid.startsWith('service:') ? `container:${c.containerOf(s.pid.slice(8)) ?? ''}` : s.pid
  if (s.uts) host.UTSMode = s.uts
  if (s.group_add) host.GroupAdd = s.group_add
  if (s.runtime) host.Runtime = s.runtime
  if (s.cgroup_parent) host.CgroupParent = s.cgroup_parent
  if (s.annotations) host.Annotations = s.annotations
  const links = [
    ...(s.links ?? []).map((l) => { const [svc, alias = svc] = l.split(':'); const ctr = c.containerOf(svc!); return ctr ? `${ctr}:${alias}` : undefined }).filter((x): x is string => !!x),
    ...(s.external_links ?? []).map((l) => (l.includes(':') ? l : `${l}:${l}`)),
  ]
  if (links.length) host.Links = links
  const body: ContainerCreateRequest = {
    Image: imageOf(p, s),
    Labels: labels,
    Env: env,
    AttachStdout: true,
    AttachStderr: true,
    ...(s.command !== undefined ? { Cmd: s.command } : {}),
    ...(s.entrypoint !== undefined ? { Entrypoint: s.entrypoint } : {}),
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    ...(s.hostname ? { Hostname: s.hostname } : {}),
    ...(s.domainname ? { Domainname: s.domainname } : {}),
    ...(s.user ? { User: s.user } : {}),
    ...(s.working_dir ? { WorkingDir: s.working_dir } : {}),
    ...(s.stop_signal ? { StopSignal: s.stop_signal } : {}),
    ...(s.stop_grace_period !== undefined ? { StopTimeout: Math.round(s.stop_grace_period / 1e9) } : {}),
    ...(s.tty ? { Tty: true } : {}),
    ...(s.stdin_open ? { OpenStdin: true } : {}),
    ...(s.mac_address ? { MacAddress: s.mac_address } : {}),
    ...(s.healthcheck ? { Healthcheck: healthcheckOf(s) } : {}),
    HostConfig: host,
    ...(endpoints ? { NetworkingConfig: { EndpointsConfig: endpoints } } : {}),
  }
  return { body, name, ...(s.platform ? { platform: s.platform } : {}) }
}

function healthcheckOf(s: ServiceConfig): ContainerCreateRequest['Healthcheck'] {
  const h = s.healthcheck!
  if (h.disable) return { Test: ['NONE'] }
  return {
    ...(h.test ? { Test: h.test } : {}),
    ...(h.interval !== undefined ? { Interval: h.interval } : {}),
    ...(h.timeout !== undefined ? { Timeout: h.timeout } : {}),
    ...(h.retries !== undefined ? { Retries: h.retries } : {}),
    ...(h.start_period !== undefined ? { StartPeriod: h.start_period } : {}),
    ...(h.start_interval !== undefined ? { StartInterval: h.start_interval } : {}),
  }
}

function restartPolicy(s: ServiceConfig): HostConfig['RestartPolicy'] | undefined {
  if (s.restart) {
    const [name, max] = s.restart.split(':')
    if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(name!)) throw invalid('ERR_COMPOSE_RESTART', `services.${s.name}.restart: invalid restart policy "${s.restart}"`)
    return { Name: name as 'always', ...(max ? { MaximumRetryCount: Number(max) } : {}) }
  }
  const rp = s.deploy?.restart_policy
  if (rp) {
    const name = rp.condition === 'none' ? 'no' : rp.condition === 'on-failure' ? 'on-failure' : 'always'
    return { Name: name, ...(rp.max_attempts !== undefined ? { MaximumRetryCount: rp.max_attempts } : {}) }
  }
  return undefined
}

export function networkCreateRequest(p: ProjectModel, key: string): NetworkCreateRequest {
  const n = p.networks[key]!
  const ipam = n.ipam
  return {
    Name: n.name,
    ...(n.driver ? { Driver: n.driver } : {}),
    ...(n.internal ? { Internal: true } : {}),
    ...(n.attachable ? { Attachable: true } : {}),
    ...(n.enable_ipv6 ? { EnableIPv6: true } : {}),
    ...(n.driver_opts ? { Options: n.driver_opts } : {}),
    ...(ipam ? { IPAM: { ...(ipam.driver ? { Driver: ipam.driver } : {}), Config: (ipam.config ?? []).map((c) => ({ ...(c.subnet ? { Subnet: c.subnet } : {}), ...(c.ip_range ? { IPRange: c.ip_range } : {}), ...(c.gateway ? { Gateway: c.gateway } : {}), ...(c.aux_addresses ? { AuxiliaryAddresses: c.aux_addresses } : {}) })), ...(ipam.options ? { Options: ipam.options } : {}) } } : {}),
    Labels: { ...n.labels, [L.project]: p.name, [L.network]: key, [L.version]: COMPOSE_VERSION },
    CheckDuplicate: true,
  }
}

export function volumeCreateRequest(p: ProjectModel, key: string): VolumeCreateRequest {
  const v = p.volumes[key]!
  return {
    Name: v.name,
    ...(v.driver ? { Driver: v.driver } : {}),
    ...(v.driver_opts ? { DriverOpts: v.driver_opts } : {}),
    Labels: { ...v.labels, [L.project]: p.name, [L.volume]: key, [L.version]: COMPOSE_VERSION },
  }
}

/** The model path of what differs between two service configs (`environment.FOO`), for plan causes. */
export function diffPaths(a: unknown, b: unknown, path = ''): string[] {
  if (stableJson(a) === stableJson(b)) return []
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    return [...keys].sort().flatMap((k) => diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k))
  }
  return [path || '(root)']
}

import type { DiskUsageType, EngineEvent, EventFilters, SwarmInfo, SystemBackend } from '../backend.js'
import { Filters } from '../../lib/filters.js'
import { defined } from '../filters.js'
import { invalid } from '../../lib/errors.js'
import { API_VERSION, MIN_API_VERSION, versionAtLeast, type Ctx } from '../http.js'
import type { Router } from '../router.js'
import { toWireVolume } from './volumes.js'
import { toWireSummary } from '../wire-containers.js'
import { eventJson, toWireImageSummary } from '../wire.js'
import { toWireClusterInfo } from '../wire-swarm.js'

const EVENT_FILTERS = ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'] as const
const DF_TYPES: readonly string[] = ['container', 'image', 'volume', 'build-cache']

/** /events filters: the keys Docker knows, values as given. */
export function parseEventFilters(raw: string | null): EventFilters {
  const f = Filters.parse(raw).validate(EVENT_FILTERS)
  return defined(Object.fromEntries(EVENT_FILTERS.map((k) => [k, f.opt(k)])) as EventFilters)
}

/** _ping, version, info, system df, events. */
export function systemRoutes(r: Router, b: SystemBackend): void {
  const ping = (ctx: Ctx) => {
    ctx.res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      'Builder-Version': '1',
      Swarm: b.swarmPingStatus?.() ?? 'inactive',
      'Content-Length': ctx.req.method === 'HEAD' ? '0' : '2',
    })
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : 'OK')
  }
  r.add(['GET', 'HEAD'], '/_ping', ping)

  r.add('GET', '/version', () => {
    const v = b.version()
    const engine = {
      ApiVersion: API_VERSION,
      Arch: v.arch,
      BuildTime: v.buildTime,
      Experimental: 'false',
      GitCommit: v.gitCommit,
      GoVersion: `node ${v.nodeVersion}`,
      KernelVersion: v.kernelVersion,
      MinAPIVersion: MIN_API_VERSION,
      Os: 'linux',
    }
    const components: Array<Record<string, unknown>> = [{ Name: 'Engine', Version: v.version, Details: engine }]
    for (const c of v.components) components.push({ Name: c.name, Version: c.version, Details: { GitCommit: '' } })
    return {
      Platform: { Name: 'Berth Engine' },
      Components: components,
      Version: v.version,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: v.gitCommit,
      GoVersion: `node ${v.nodeVersion}`,
      Os: 'linux',
      Arch: v.arch,
      KernelVersion: v.kernelVersion,
      BuildTime: v.buildTime,
    }
  })

  r.add('GET', '/info', async (ctx) => {
    const i = await b.info()
    const info: Record<string, unknown> = {
      ID: i.id,
      Containers: i.containers.total,
      ContainersRunning: i.containers.running,
      ContainersPaused: i.containers.paused,
      ContainersStopped: i.containers.stopped,
      Images: i.images,
      Driver: 'overlay2',
      DriverStatus: [
        ['Backing Filesystem', i.backingFs],
        ['Supports d_type', 'true'],
        ['Using metacopy', 'false'],
        ['Native Overlay Diff', 'true'],
        ['userxattr', 'false'],
      ],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file', 'local'] },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: i.ipv4Forwarding,
      Debug: i.debug,
      NFd: i.openFds,
      OomKillDisable: i.cgroupVersion === '1',
      NGoroutines: i.activeHandles,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: i.cgroupVersion,
      NEventsListener: i.eventListeners,
      KernelVersion: i.kernelVersion,
      OperatingSystem: i.operatingSystem,
      OSVersion: i.osVersion,
      OSType: 'linux',
      Architecture: i.architecture,
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: {
        InsecureRegistryCIDRs: ['::1/128', '127.0.0.0/8'],
        IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
        Mirrors: [],
      },
      NCPU: i.ncpu,
      MemTotal: i.memTotal,
      GenericResources: null,
      DockerRootDir: i.dataRoot,
      HttpProxy: i.proxies.http,
      HttpsProxy: i.proxies.https,
      NoProxy: i.proxies.no,
      Name: i.hostname,
      Labels: i.labels,
      ExperimentalBuild: false,
      ServerVersion: b.version().version,
      Runtimes: i.runtimes,
      DefaultRuntime: i.defaultRuntime,
      Swarm: toWireSwarmInfo(i.swarm),
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: 'catatonit',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      SecurityOptions: ['name=seccomp,profile=builtin'],
      Warnings: i.warnings,
    }
    if (versionAtLeast(ctx, '1.44')) info.CDISpecDirs = []
    return info
  })

  r.add('GET', '/system/df', async (ctx) => {
    const types = ctx.query.getAll('type')
    for (const t of types) if (!DF_TYPES.includes(t)) throw invalid('ERR_INVALID_TYPE', `unknown object type: ${t}`)
    const u = await b.diskUsage((types.length ? types : DF_TYPES) as DiskUsageType[])
    const out: Record<string, unknown> = {}
    if (u.images) {
      out.LayersSize = u.layersSize
      out.Images = u.images.map((s) => toWireImageSummary(s, ctx.version))
    }
    if (u.containers) out.Containers = u.containers.map((c) => ({ ...toWireSummary(c.record), SizeRw: c.size?.sizeRw, SizeRootFs: c.size?.sizeRootFs }))
    if (u.volumes) out.Volumes = u.volumes.map(toWireVolume)
    if (u.buildCache) out.BuildCache = u.buildCache
    return out
  })

  r.add('GET', '/events', async (ctx) => {
    const q = ctx.query
    const since = q.get('since')
    const until = q.get('until')
    const stream = await b.events({ ...(since ? { since } : {}), ...(until ? { until } : {}), filters: parseEventFilters(q.get('filters')) })
    const res = ctx.res
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.flushHeaders()
    const write = (e: EngineEvent) => res.write(`${eventJson(e)}\n`)
    for (const e of stream.past) write(e)
    if (stream.live) await stream.follow(write, ctx.signal)
    if (!res.writableEnded) res.end()
  })
}

const NO_SWARM: SwarmInfo = { nodeId: '', nodeAddr: '', localNodeState: 'inactive', controlAvailable: false, error: '', remoteManagers: [] }

/** `Swarm` of GET /info as dockerd shows it (Nodes, Managers and Cluster on managers only). */
export function toWireSwarmInfo(s: SwarmInfo = NO_SWARM): Record<string, unknown> {
  const out: Record<string, unknown> = {
    NodeID: s.nodeId,
    NodeAddr: s.nodeAddr,
    LocalNodeState: s.localNodeState,
    ControlAvailable: s.controlAvailable,
    Error: s.error,
    RemoteManagers: s.remoteManagers.length ? s.remoteManagers.map((m) => ({ NodeID: m.nodeId, Addr: m.addr })) : null,
  }
  if (s.nodes !== undefined) out.Nodes = s.nodes
  if (s.managers !== undefined) out.Managers = s.managers
  if (s.cluster) out.Cluster = toWireClusterInfo(s.cluster)
  return out
}


import { cpus } from 'node:os'
import type { Daemon } from '../../daemon/daemon.js'
import { Filters, parseTimestampNano } from '../../engine/filters.js'
import type { EngineEvent } from '../../engine/events/bus.js'
import { familiarString, parseNormalizedNamed } from '../../distribution/reference.js'
import { invalid } from '../../lib/errors.js'
import { API_VERSION, MIN_API_VERSION, versionAtLeast, type Ctx } from '../http.js'
import type { Router } from '../router.js'
import { toWireVolume } from './volumes.js'
import { toWireSummary } from '../wire-containers.js'
import { eventJson, toWireImageSummary } from '../wire.js'
import { BERTH_VERSION } from '../../engine/system/info.js'

export function systemRoutes(r: Router, d: Daemon): void {
  const ping = (ctx: Ctx) => {
    ctx.res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      'Builder-Version': '1',
      Swarm: 'inactive',
      'Content-Length': ctx.req.method === 'HEAD' ? '0' : '2',
    })
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : 'OK')
  }
  r.add(['GET', 'HEAD'], '/_ping', ping)

  r.add('GET', '/version', () => {
    const f = d.facts
    const engine = {
      ApiVersion: API_VERSION,
      Arch: d.platform.architecture,
      BuildTime: d.buildTime,
      Experimental: 'false',
      GitCommit: d.gitCommit,
      GoVersion: `node ${process.version}`,
      KernelVersion: f.kernelVersion,
      MinAPIVersion: MIN_API_VERSION,
      Os: 'linux',
    }
    const components: Array<Record<string, unknown>> = [{ Name: 'Engine', Version: BERTH_VERSION, Details: engine }]
    for (const [name, rt] of Object.entries(f.runtimes)) components.push({ Name: name, Version: rt.version, Details: { GitCommit: '' } })
    if (f.conmonVersion) components.push({ Name: 'conmon', Version: f.conmonVersion, Details: { GitCommit: '' } })
    return {
      Platform: { Name: 'Berth Engine' },
      Components: components,
      Version: BERTH_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: d.gitCommit,
      GoVersion: `node ${process.version}`,
      Os: 'linux',
      Arch: d.platform.architecture,
      KernelVersion: f.kernelVersion,
      BuildTime: d.buildTime,
    }
  })

  r.add('GET', '/info', (ctx) => {
    const f = d.facts
    const counts = d.containerCounts()
    const info: Record<string, unknown> = {
      ID: d.daemonId,
      Containers: counts.total,
      ContainersRunning: counts.running,
      ContainersPaused: counts.paused,
      ContainersStopped: counts.stopped,
      Images: d.engine.imageStore.count,
      Driver: 'overlay2',
      DriverStatus: [
        ['Backing Filesystem', f.backingFs],
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
      IPv4Forwarding: d.ipv4Forwarding(),
      Debug: d.config.debug,
      NFd: d.openFds(),
      OomKillDisable: f.cgroupVersion === '1',
      NGoroutines: d.activeHandles(),
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: f.cgroupVersion,
      NEventsListener: d.engine.events.subscriberCount,
      KernelVersion: f.kernelVersion,
      OperatingSystem: f.operatingSystem,
      OSVersion: f.osVersion,
      OSType: 'linux',
      Architecture: f.architecture,
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: {
        InsecureRegistryCIDRs: ['::1/128', '127.0.0.0/8'],
        IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
        Mirrors: [],
      },
      NCPU: cpus().length,
      MemTotal: f.memTotal,
      GenericResources: null,
      DockerRootDir: d.config.dataRoot,
      HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
      HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
      NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
      Name: f.hostname,
      Labels: d.config.labels,
      ExperimentalBuild: false,
      ServerVersion: BERTH_VERSION,
      Runtimes: Object.fromEntries(Object.entries(f.runtimes).map(([k, v]) => [k, { path: v.path }])),
      DefaultRuntime: d.defaultRuntime(),
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: 'catatonit',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      SecurityOptions: ['name=seccomp,profile=builtin'],
      Warnings: d.warnings(),
    }
    if (versionAtLeast(ctx, '1.44')) info.CDISpecDirs = []
    return info
  })

  r.add('GET', '/system/df', async (ctx) => {
    const types = ctx.query.getAll('type')
    for (const t of types) if (!['container', 'image', 'volume', 'build-cache'].includes(t)) throw invalid('ERR_INVALID_TYPE', `unknown object type: ${t}`)
    const want = (t: string) => types.length === 0 || types.includes(t)
    const usage = d.engine.images.diskUsage()
    const out: Record<string, unknown> = {}
    if (want('image')) {
      out.LayersSize = usage.layersSize
      out.Images = usage.images.map((s) => toWireImageSummary(s, ctx.version))
    }
    if (want('container')) {
      out.Containers = await Promise.all(d.engine.containers.store.all().map(async (c) => {
        const { sizeRw, sizeRootFs } = await d.engine.containers.sizes(c)
        return { ...toWireSummary(c), SizeRw: sizeRw, SizeRootFs: sizeRootFs }
      }))
    }
    if (want('volume')) {
      const vols = d.engine.volumes
      out.Volumes = await Promise.all(vols.list().map(async (v) => {
        return toWireVolume(d, v, { size: await vols.size(v.name).catch(() => -1), refCount: vols.usersOf(v.name).length })
      }))
    }
    if (want('build-cache')) out.BuildCache = []
    return out
  })

  r.add('GET', '/events', (ctx) => streamEvents(ctx, d))
}

const EVENT_FILTERS = ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume']

function streamEvents(ctx: Ctx, d: Daemon): Promise<void> {
  const q = ctx.query
  const filters = Filters.parse(q.get('filters'))
  filters.validate(EVENT_FILTERS)
  const now = Date.now()
  const toNano = (v: string): bigint => parseTimestampNano(v, now)
  const since = q.get('since') ? toNano(q.get('since')!) : undefined
  const until = q.get('until') ? toNano(q.get('until')!) : undefined
  if (since !== undefined && until !== undefined && until < since) throw invalid('ERR_INVALID_TIME', 'since time must be before until time')
  const match = eventMatcher(filters)
  const res = ctx.res
  res.writeHead(200, { 'Content-Type': 'application/json' })
  res.flushHeaders()
  const write = (e: EngineEvent) => res.write(`${eventJson(e)}\n`)
  for (const e of d.engine.events.history(since ?? BigInt(now) * 1_000_000n + 1n, until, match)) write(e)
  const nowNano = BigInt(Date.now()) * 1_000_000n
  if (until !== undefined && until <= nowNano) {
    res.end()
    return Promise.resolve()
  }
  return new Promise<void>((resolve) => {
    const unsubscribe = d.engine.events.subscribe(match, (e) => {
      if (until !== undefined && e.timeNano > until) return
      write(e)
    })
    const finish = () => {
      clearTimeout(timer)
      unsubscribe()
      if (!res.writableEnded) res.end()
      resolve()
    }
    const timer = until !== undefined ? setTimeout(finish, Number((until - nowNano) / 1_000_000n) + 1) : undefined
    ctx.signal.addEventListener('abort', finish, { once: true })
  })
}

/** Docker's event filter semantics: values of a key OR-ed, keys AND-ed. */
export function eventMatcher(f: Filters): (e: EngineEvent) => boolean {
  const imageNames = (v: string): string[] => {
    try {
      const ref = parseNormalizedNamed(v)
      const fam = familiarString(ref)
      return [v, fam, fam.replace(/:[^:/@]+$/, '')]
    } catch {
      return [v]
    }
  }
  return (e) => {
    if (f.has('type') && !f.get('type').includes(e.type)) return false
    if (f.has('event') && !f.get('event').some((v) => e.action === v || e.action.split(':')[0] === v)) return false
    if (f.has('scope') && !f.get('scope').includes(e.scope)) return false
    if (!f.matchLabels('label', e.actor.attributes)) return false
    if (f.has('image')) {
      if (e.type !== 'image' && e.type !== 'container') return false
      const candidates = [e.actor.id, e.actor.attributes.image ?? '', e.actor.attributes.name ?? ''].filter(Boolean)
      const ok = f.get('image').some((v) => {
        const names = imageNames(v)
        return candidates.some((c) => names.includes(c) || imageNames(c).some((n) => names.includes(n)) || (c.startsWith('sha256:') && (c === v || c.slice(7).startsWith(v.replace(/^sha256:/, '')))))
      })
      if (!ok) return false
    }
    if (f.has('container')) {
      if (e.type !== 'container') return false
      if (!f.get('container').some((v) => e.actor.id.startsWith(v) || e.actor.attributes.name === v)) return false
    }
    for (const [key, type] of [['network', 'network'], ['volume', 'volume'], ['daemon', 'daemon'], ['plugin', 'plugin']] as const) {
      if (f.has(key)) {
        if (e.type !== type) return false
        if (!f.get(key).some((v) => e.actor.id.startsWith(v) || e.actor.attributes.name === v)) return false
      }
    }
    return true
  }
}

import { cpus } from 'node:os'
import { invalid } from '../../lib/errors.js'
import type { ContainerService } from '../containers/service.js'
import type { EventBus } from '../events/bus.js'
import { eventMatcher, type EventFilterValues } from '../events/filter.js'
import type { EngineEvent } from '../events/types.js'
import { parseTimestampNano } from '../../lib/filters.js'
import type { ImageService } from '../images/service.js'
import { BERTH_VERSION, type HostFacts } from '../system/info.js'

/** What the daemon knows of itself: identity, configuration, host state it refreshes. */
export interface DaemonHost {
  facts(): HostFacts
  id(): string
  gitCommit(): string
  buildTime(): string
  architecture(): string
  config: { debug: boolean; dataRoot: string; labels: string[]; defaultRuntime: string }
  warnings(): string[]
  ipv4Forwarding(): boolean
  openFds(): number
  activeHandles(): number
}

export interface SystemDeps {
  containers: ContainerService
  images: ImageService
  events: EventBus
  /** Every volume with its usage (system df). */
  volumesWithUsage(): Promise<Array<object>>
  host: DaemonHost
}

type UsageType = 'container' | 'image' | 'volume' | 'build-cache'

/** The API's SystemBackend: version, info, disk usage and the event stream. */
export function systemBackend<V extends object>(d: Omit<SystemDeps, 'volumesWithUsage'> & { volumesWithUsage(): Promise<V[]> }) {
  const h = d.host
  return {
    version() {
      const f = h.facts()
      const components = Object.entries(f.runtimes).map(([name, rt]) => ({ name, version: rt.version }))
      if (f.conmonVersion) components.push({ name: 'conmon', version: f.conmonVersion })
      return { version: BERTH_VERSION, arch: h.architecture(), kernelVersion: f.kernelVersion, gitCommit: h.gitCommit(), buildTime: h.buildTime(), nodeVersion: process.version, components }
    },

    async info() {
      const f = h.facts()
      const all = d.containers.store.all()
      const running = all.filter((c) => c.state.status === 'running' || c.state.status === 'restarting').length
      const paused = all.filter((c) => c.state.status === 'paused').length
      return {
        id: h.id(),
        containers: { total: all.length, running, paused, stopped: all.length - running - paused },
        images: d.images.store.count,
        backingFs: f.backingFs,
        ipv4Forwarding: h.ipv4Forwarding(),
        debug: h.config.debug,
        openFds: h.openFds(),
        activeHandles: h.activeHandles(),
        cgroupVersion: f.cgroupVersion,
        eventListeners: d.events.subscriberCount,
        kernelVersion: f.kernelVersion,
        operatingSystem: f.operatingSystem,
        osVersion: f.osVersion,
        architecture: f.architecture,
        ncpu: cpus().length,
        memTotal: f.memTotal,
        dataRoot: h.config.dataRoot,
        hostname: f.hostname,
        labels: h.config.labels,
        runtimes: Object.fromEntries(Object.entries(f.runtimes).map(([k, v]) => [k, { path: v.path }])),
        defaultRuntime: h.config.defaultRuntime,
        proxies: {
          http: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
          https: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
          no: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
        },
        warnings: h.warnings(),
      }
    },

    async diskUsage(types: UsageType[]) {
      const want = (t: UsageType) => types.includes(t)
      const usage = want('image') ? d.images.diskUsage() : undefined
      const svc = d.containers
      return {
        ...(usage ? { layersSize: usage.layersSize, images: usage.images } : {}),
        ...(want('container') ? { containers: await Promise.all(svc.store.all().map(async (c) => ({ record: c, size: await svc.sizes(c) }))) } : {}),
        ...(want('volume') ? { volumes: await d.volumesWithUsage() } : {}),
        ...(want('build-cache') ? { buildCache: [] as never[] } : {}),
      }
    },

    /** Past events in [since, until] (since defaults to now), then live ones until `until`. */
    async events(opts: { since?: string; until?: string; filters: EventFilterValues }) {
      const now = Date.now()
      const toNano = (v: string): bigint => parseTimestampNano(v, now)
      const since = opts.since ? toNano(opts.since) : undefined
      const until = opts.until ? toNano(opts.until) : undefined
      if (since !== undefined && until !== undefined && until < since) throw invalid('ERR_INVALID_TIME', 'since time must be before until time')
      const match = eventMatcher(opts.filters)
      const past = d.events.history(since ?? BigInt(now) * 1_000_000n + 1n, until, match)
      const nowNano = BigInt(Date.now()) * 1_000_000n
      const live = until === undefined || until > nowNano
      return {
        past,
        live,
        follow: (push: (e: EngineEvent) => void, signal: AbortSignal) => new Promise<void>((resolve) => {
          const unsubscribe = d.events.subscribe(match, (e) => {
            if (until !== undefined && e.timeNano > until) return
            push(e)
          })
          const finish = () => {
            clearTimeout(timer)
            unsubscribe()
            resolve()
          }
          const timer = until !== undefined ? setTimeout(finish, Number((until - nowNano) / 1_000_000n) + 1) : undefined
          if (signal.aborted) finish()
          else signal.addEventListener('abort', finish, { once: true })
        }),
      }
    },
  }
}

import { mkdir } from 'node:fs/promises'
import { ContentStore } from '../core/content-store.js'
import { LayerStore } from '../core/layer-store.js'
import { EventBus } from './events/bus.js'
import { hostPlatform, ImageService } from './images/service.js'
import type { Digest } from '../lib/digest.js'
import { ImageStore } from './images/store.js'
import { ContainerService } from './containers/service.js'
import { ContainerStore } from './containers/store.js'
import { LogRotator, type LogDefaults } from './containers/log-rotate.js'
import { ExecService } from './exec/service.js'
import { VolumeService } from './volumes/service.js'
import { HealthMonitor } from './health/monitor.js'
import { NetworkService } from '../network/service.js'
import { join } from 'node:path'
import { existsSync } from 'node:fs'

export interface EngineOptions {
  dataRoot: string
  execRoot: string
  log: (msg: string) => void
  defaultRuntime?: string
  logDefaults?: LogDefaults
  /** daemon.json `bip` and `default-address-pools`. */
  network?: { bip: string; pools: Array<{ base: string; size: number }> }
}

/** The first existing path of a binary. */
function findBinary(name: string): string | undefined {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/bin', '/sbin']) {
    const p = join(dir, name)
    if (existsSync(p)) return p
  }
  return undefined
}

/** The domain services of one daemon, wired together. */
export class Engine {
  readonly content: ContentStore
  readonly layers: LayerStore
  readonly imageStore: ImageStore
  readonly images: ImageService
  readonly events = new EventBus()
  readonly startedAt = new Date()
  readonly containers: ContainerService
  readonly logRotator: LogRotator
  readonly exec: ExecService
  readonly volumes: VolumeService
  readonly health: HealthMonitor
  readonly networks: NetworkService

  constructor(readonly opts: EngineOptions) {
    this.content = new ContentStore(opts.dataRoot)
    this.layers = new LayerStore(opts.dataRoot, opts.log)
    this.imageStore = new ImageStore(opts.dataRoot, this.content, this.layers, opts.log)
    this.images = new ImageService({
      store: this.imageStore,
      content: this.content,
      layers: this.layers,
      events: this.events,
      log: opts.log,
      platform: hostPlatform(),
      users: {
        containersUsing: (id) => this.containers.usersOf(id),
        layersInUse: () => this.containers.store.all().map((c) => c.imageTopLayer).filter((l): l is Digest => l !== ''),
      },
    })
    const runtimes: Record<string, { name: string; path: string; root: string }> = {}
    for (const name of ['crun', 'runc']) {
      const path = findBinary(name)
      if (path) runtimes[name] = { name, path, root: join(opts.execRoot, 'runtime', name) }
    }
    const initPath = findBinary('catatonit') ?? findBinary('tini-static') ?? findBinary('tini')
    this.volumes = new VolumeService(opts.dataRoot, this.events, opts.log)
    this.networks = new NetworkService({ dataRoot: opts.dataRoot, log: opts.log, ...(opts.network ? { bip: opts.network.bip, pools: opts.network.pools } : {}), events: this.events, containers: () => ({ all: () => this.containers.store.all(), resolve: (r) => this.containers.resolve(r), get: (id) => this.containers.store.get(id), save: (r) => this.containers.store.save(r), dir: (id) => this.containers.store.dir(id) }) })
    this.containers = new ContainerService({
      network: this.networks,
      volumes: this.volumes,
      store: new ContainerStore(opts.dataRoot),
      images: this.images,
      layers: this.layers,
      events: this.events,
      log: opts.log,
      execRoot: opts.execRoot,
      runtimes,
      defaultRuntime: opts.defaultRuntime ?? 'crun',
      ...(initPath ? { initPath } : {}),
      ...(opts.logDefaults ? { logDefaults: opts.logDefaults } : {}),
    })
    this.logRotator = new LogRotator(opts.log, (rec) => this.containers.controlPath(rec.id))
    this.exec = new ExecService(this.containers, opts.execRoot, opts.log)
    this.health = new HealthMonitor(this.containers, this.exec, opts.log)
  }

  /** Open the stores and repair what a crash left behind. */
  async init(): Promise<void> {
    await mkdir(this.opts.dataRoot, { recursive: true, mode: 0o711 })
    await mkdir(this.opts.execRoot, { recursive: true, mode: 0o700 })
    await this.content.init()
    await this.layers.init()
    await this.imageStore.init()
    await this.exec.init()
    await this.volumes.init()
    this.volumes.setUsers((name) => this.containers.store.all().filter((c) => c.mountPoints?.some((m) => m.type === 'volume' && m.name === name)).map((c) => c.id))
    await this.networks.init()
    await this.containers.init()
    await this.networks.repair()
    this.containers.addListener(this.exec)
    this.containers.addListener(this.health)
    this.containers.addListener(this.logRotator)
    // Layers of containers' images are in use even when no image references them any more.
    const layers = await this.images.gcLayers()
    if (layers) this.opts.log(`removed ${layers} unreferenced layers left by an interrupted operation`)
    // Unreferenced blobs are collected in the background; start-up does not wait for it.
    void this.images.gcBlobs().then(
      (n) => n && this.opts.log(`removed ${n} unreferenced blobs`),
      (err) => this.opts.log(`blob gc: ${String(err)}`),
    )
  }
}

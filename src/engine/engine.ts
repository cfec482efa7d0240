import { mkdir } from 'node:fs/promises'
import { ContentStore } from '../core/content-store.js'
import { LayerStore } from '../core/layer-store.js'
import { EventBus } from './events/bus.js'
import { hostPlatform, ImageService, type ImageUsers } from './images/service.js'
import { ImageStore } from './images/store.js'

export interface EngineOptions {
  dataRoot: string
  execRoot: string
  log: (msg: string) => void
}

/** The domain services of one daemon, wired together. */
export class Engine {
  readonly content: ContentStore
  readonly layers: LayerStore
  readonly imageStore: ImageStore
  readonly images: ImageService
  readonly events = new EventBus()
  readonly startedAt = new Date()
  users: ImageUsers = { containersUsing: () => [] }

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
      users: { containersUsing: (id) => this.users.containersUsing(id) },
    })
  }

  /** Open the stores and repair what a crash left behind. */
  async init(): Promise<void> {
    await mkdir(this.opts.dataRoot, { recursive: true, mode: 0o711 })
    await mkdir(this.opts.execRoot, { recursive: true, mode: 0o700 })
    await this.content.init()
    await this.layers.init()
    await this.imageStore.init()
    const layers = await this.images.gcLayers()
    if (layers) this.opts.log(`removed ${layers} unreferenced layers left by an interrupted operation`)
    // Unreferenced blobs are collected in the background; start-up does not wait for it.
    void this.images.gcBlobs().then(
      (n) => n && this.opts.log(`removed ${n} unreferenced blobs`),
      (err) => this.opts.log(`blob gc: ${String(err)}`),
    )
  }
}

import type { ContentStore } from '../../core/content-store.js'
import type { LayerStore } from '../../core/layer-store.js'
import type { Digest } from '../../lib/digest.js'
import type { EventBus } from '../events/bus.js'
import type { ImageStore } from './store.js'

/** What the image service needs to know of containers (filled in by the container service). */
export interface ImageUsers {
  /** Containers created from this image. */
  containersUsing(imageId: Digest): Array<{ id: string; running: boolean }>
  /** Top layers (chain IDs) of the images containers were created from: in use even after `rmi -f`. */
  layersInUse(): Digest[]
}

/** Everything the image verbs work on; one instance is shared by ImageService and its verbs. */
export interface ImageDeps {
  store: ImageStore
  content: ContentStore
  layers: LayerStore
  events: EventBus
  log: (msg: string) => void
  platform: { os: string; architecture: string; variant?: string }
  users: ImageUsers
}

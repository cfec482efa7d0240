import type { Digest } from '../../lib/digest.js'

/** The parts of an OCI/Docker image config the engine reads. The raw JSON is kept as the blob. */
export interface ImageConfigFile {
  created?: string
  author?: string
  architecture?: string
  variant?: string
  os?: string
  'os.version'?: string
  docker_version?: string
  comment?: string
  parent?: string
  config?: ContainerConfigFields
  rootfs?: { type: string; diff_ids: string[] }
  history?: HistoryEntry[]
  [k: string]: unknown
}

/** The `config` object of an image config (PascalCase is its on-disk format, kept as is). */
export interface ContainerConfigFields {
  User?: string
  ExposedPorts?: Record<string, object>
  Env?: string[]
  Entrypoint?: string[] | null
  Cmd?: string[] | null
  Volumes?: Record<string, object>
  WorkingDir?: string
  Labels?: Record<string, string> | null
  StopSignal?: string
  OnBuild?: string[] | null
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number }
  Shell?: string[]
  ArgsEscaped?: boolean
  [k: string]: unknown
}

export interface HistoryEntry {
  created?: string
  created_by?: string
  author?: string
  comment?: string
  empty_layer?: boolean
}

/** A layer blob as it came (compressed or not); what save and push send. */
export interface LayerBlob {
  digest: Digest
  mediaType: string
  size: number
}

/** The engine's record of an image. The ID is the digest of its config blob. */
export interface ImageRecord {
  id: Digest
  /** Chain IDs of its layers, bottom first. */
  layers: Digest[]
  /** Blobs aligned with `layers`. */
  blobs: LayerBlob[]
  parent?: Digest
  /** Unpacked size of all its layers. */
  size: number
  /** When this engine first stored the image (ISO 8601). */
  loadedAt: string
  lastTagTime?: string
}

/** An image with its parsed config, as services use it. */
export interface Image {
  record: ImageRecord
  config: ImageConfigFile
  /** References, canonical form (`docker.io/library/busybox:latest`), sorted. */
  refs: string[]
}

export const MEDIA_TYPE_LAYER = 'application/vnd.oci.image.layer.v1.tar'
export const MEDIA_TYPE_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip'
export const MEDIA_TYPE_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd'
export const MEDIA_TYPE_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const MEDIA_TYPE_OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const MEDIA_TYPE_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
export const MEDIA_TYPE_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
export const MEDIA_TYPE_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
export const MEDIA_TYPE_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json'
export const MEDIA_TYPE_DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip'

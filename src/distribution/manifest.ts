import { EngineError, invalid } from '../lib/errors.js'
import type { Descriptor } from './registry-client.js'

export const MT_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
export const MT_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
export const MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const MT_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json'
export const MT_DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip'
export const MT_DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'

export interface Platform { os: string; architecture: string; variant?: string }

export interface ImageManifest { schemaVersion: number; mediaType?: string; config: Descriptor; layers: Descriptor[] }
export interface ImageIndex { schemaVersion: number; mediaType?: string; manifests: Descriptor[] }

export function isIndex(mediaType: string): boolean {
  return mediaType === MT_DOCKER_LIST || mediaType === MT_OCI_INDEX
}

function validDescriptor(d: unknown): d is Descriptor {
  const x = d as Descriptor
  return !!x && typeof x.digest === 'string' && /^sha256:[a-f0-9]{64}$/.test(x.digest) && typeof x.size === 'number' && x.size >= 0
}

/** Parse an image manifest (Docker schema2 or OCI); descriptors are checked before use. */
export function parseImageManifest(bytes: Buffer, what: string): ImageManifest {
  const m = JSON.parse(bytes.toString('utf8')) as ImageManifest
  if (!m || !validDescriptor(m.config) || !Array.isArray(m.layers) || !m.layers.every(validDescriptor)) {
    throw invalid('ERR_BAD_MANIFEST', `invalid manifest for ${what}`)
  }
  return m
}

export function parseIndex(bytes: Buffer, what: string): ImageIndex {
  const m = JSON.parse(bytes.toString('utf8')) as ImageIndex
  if (!m || !Array.isArray(m.manifests) || !m.manifests.every(validDescriptor)) throw invalid('ERR_BAD_MANIFEST', `invalid manifest list for ${what}`)
  return m
}

const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', arm: 'v7' }

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`
}

/** Whether an image's os/arch/variant satisfies the wanted platform (containerd's matcher, simplified). */
export function platformMatches(want: Platform, have: { os?: string; architecture?: string; variant?: string } | undefined): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false
  const wv = want.variant ?? DEFAULT_VARIANT[want.architecture]
  const hv = have.variant ?? DEFAULT_VARIANT[have.architecture ?? '']
  return !wv || !hv || wv === hv
}

/** Pick the manifest of a list for a platform: exact variant first. Docker's error when none fits. */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor {
  const candidates = index.manifests.filter((d) => platformMatches(want, d.platform) && !d.annotations?.['vnd.docker.reference.type'])
  const exact = candidates.find((d) => (d.platform?.variant ?? '') === (want.variant ?? ''))
  const pick = exact ?? candidates[0]
  if (!pick) throw new EngineError('NotFound', 'ERR_NO_MATCHING_MANIFEST', `no matching manifest for ${platformString({ ...want, variant: want.variant ?? DEFAULT_VARIANT[want.architecture] })} in the manifest list entries`)
  return pick
}

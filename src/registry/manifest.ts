import { regErr } from './errors.js'
import { isDigest } from './names.js'

export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const
const IMAGE_TYPES = new Set<string>([MT.dockerManifest, MT.ociManifest])
const INDEX_TYPES = new Set<string>([MT.dockerList, MT.ociIndex])
export const MANIFEST_TYPES = new Set<string>([...IMAGE_TYPES, ...INDEX_TYPES])
/** The largest manifest accepted (the spec asks registries to take at least 4 MB). */
export const MAX_MANIFEST = 4 * 1024 * 1024

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  urls?: string[]
  artifactType?: string
  annotations?: Record<string, string>
}

/** What the registry needs to know of a manifest: its type, what it references, its subject. */
export interface ParsedManifest {
  mediaType: string
  kind: 'image' | 'index'
  /** Blobs (config and layers) that must exist in the repository; foreign layers with urls excluded. */
  blobs: string[]
  /** Manifests an index points at, which must exist in the repository. */
  manifests: string[]
  subject?: Descriptor
  artifactType?: string
  annotations?: Record<string, string>
  configMediaType?: string
}

const invalid = (why: string) => regErr('MANIFEST_INVALID', `manifest invalid: ${why}`, { reason: why })

function descriptor(v: unknown, where: string): Descriptor {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid(`${where} is not a descriptor`)
  const d = v as Record<string, unknown>
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw invalid(`${where}.mediaType is missing`)
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) throw invalid(`${where}.digest is not a valid digest`)
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw invalid(`${where}.size is not a size`)
  if (d.urls !== undefined && (!Array.isArray(d.urls) || d.urls.some((u) => typeof u !== 'string'))) throw invalid(`${where}.urls is not a list of URLs`)
  if (d.annotations !== undefined && (typeof d.annotations !== 'object' || d.annotations === null || Array.isArray(d.annotations))) throw invalid(`${where}.annotations is not a map`)
  return d as unknown as Descriptor
}

/**
 * Parse and validate a manifest body. The media type comes from Content-Type (parameters
 * ignored), else the body's mediaType, else its shape; a body whose mediaType differs from
 * the Content-Type, a schema version other than 2 or a malformed descriptor is MANIFEST_INVALID.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: Record<string, unknown>
  try {
    doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>
  } catch {
    throw invalid('not valid JSON')
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw invalid('not a JSON object')
  const ct = contentType?.split(';')[0]!.trim().toLowerCase()
  const bodyType = typeof doc.mediaType === 'string' ? doc.mediaType : undefined
  let mediaType = ct && MANIFEST_TYPES.has(ct) ? ct : bodyType
  if (bodyType !== undefined && mediaType !== bodyType) throw invalid(`mediaType ${JSON.stringify(bodyType)} does not match Content-Type ${JSON.stringify(ct)}`)
  if (mediaType === undefined) mediaType = Array.isArray(doc.manifests) ? MT.ociIndex : MT.ociManifest
  if (!MANIFEST_TYPES.has(mediaType)) throw invalid(`unsupported manifest media type ${JSON.stringify(mediaType)}`)
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2')
  const out: ParsedManifest = { mediaType, kind: IMAGE_TYPES.has(mediaType) ? 'image' : 'index', blobs: [], manifests: [] }
  if (doc.subject !== undefined) out.subject = descriptor(doc.subject, 'subject')
  if (doc.artifactType !== undefined) {
    if (typeof doc.artifactType !== 'string') throw invalid('artifactType is not a string')
    out.artifactType = doc.artifactType
  }
  if (doc.annotations !== undefined) {
    if (typeof doc.annotations !== 'object' || doc.annotations === null || Array.isArray(doc.annotations)) throw invalid('annotations is not a map')
    out.annotations = doc.annotations as Record<string, string>
  }
  if (out.kind === 'image') {
    const config = descriptor(doc.config, 'config')
    out.configMediaType = config.mediaType
    out.blobs.push(config.digest)
    if (!Array.isArray(doc.layers)) throw invalid('layers is not a list')
    doc.layers.forEach((l, i) => {
      const d = descriptor(l, `layers[${i}]`)
      if (!d.urls?.length) out.blobs.push(d.digest)
    })
  } else {
    if (!Array.isArray(doc.manifests)) throw invalid('manifests is not a list')
    doc.manifests.forEach((m, i) => out.manifests.push(descriptor(m, `manifests[${i}]`).digest))
  }
  return out
}

/** The referrers-API descriptor of a manifest that has a subject. */
export function referrerDescriptor(m: ParsedManifest, digest: string, size: number): Descriptor {
  const artifactType = m.artifactType ?? (m.kind === 'image' ? m.configMediaType : undefined)
  return {
    mediaType: m.mediaType, digest, size,
    ...(artifactType ? { artifactType } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
  }
}

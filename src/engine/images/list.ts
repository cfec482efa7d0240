import type { Digest } from '../../lib/digest.js'
import { familiarName, familiarString, parseNormalizedNamed } from '../../distribution/reference.js'
import { Filters, parseTimestamp } from '../../lib/filters.js'
import type { ImageDeps } from './deps.js'
import { labelsOf } from './load.js'
import { familiar } from './store.js'
import type { Image } from './types.js'
import { createdMs } from './util.js'

/** An image as list and inspect present it (domain form, camelCase). */
export interface ImageSummary {
  id: Digest
  parentId: string
  repoTags: string[]
  repoDigests: string[]
  created: number
  size: number
  sharedSize: number
  labels: Record<string, string>
  containers: number
}

/** `docker images`: the images matching the filters, newest first; intermediate images only with `all`. */
export function listImages(deps: ImageDeps, opts: { all?: boolean; filters?: Filters; sharedSize?: boolean } = {}): ImageSummary[] {
  const f = opts.filters ?? new Filters()
  f.validate(['dangling', 'label', 'label!', 'reference', 'before', 'since', 'until'])
  const dangling = f.bool('dangling')
  const before = f.get('before').map((r) => deps.store.resolve(r))
  const since = f.get('since').map((r) => deps.store.resolve(r))
  const until = f.get('until').map((u) => parseTimestamp(u))
  const refPatterns = f.get('reference')
  const images = deps.store.all()
  const parents = new Set(images.map((i) => i.record.parent).filter(Boolean))
  const out: ImageSummary[] = []
  const layerUse = opts.sharedSize ? countLayerUse(images) : undefined
  for (const img of images) {
    const created = createdMs(img)
    if (before.some((b) => created >= createdMs(b))) continue
    if (since.some((s) => created <= createdMs(s))) continue
    if (until.some((u) => created > u)) continue
    const isDangling = img.refs.length === 0
    if (dangling !== undefined && dangling !== isDangling) continue
    // Untagged parents are intermediate images (the classic builder's steps), hidden unless
    // all=1, with or without the dangling filter, as Docker hides them.
    if (!opts.all && isDangling && parents.has(img.record.id)) continue
    const labels = labelsOf(img.config)
    if (!f.matchLabels('label', labels)) continue
    if (f.get('label!').some((w) => new Filters([['label', [w]]]).matchLabels('label', labels))) continue
    let tags = img.refs.filter((r) => !r.includes('@'))
    if (refPatterns.length) {
      tags = tags.filter((t) => refPatterns.some((p) => matchReference(p, t)))
      if (tags.length === 0 && !img.refs.some((r) => r.includes('@') && refPatterns.some((p) => matchReference(p, r)))) continue
    }
    out.push(summarizeImage(deps, img, tags, layerUse))
  }
  return out.sort((a, b) => b.created - a.created || (a.id < b.id ? -1 : 1))
}

/**
 * The summary of one image, showing `tags` (default: all its tags). With `layerUse` (see
 * countLayerUse) the shared size and container count are filled in, else they are -1.
 */
export function summarizeImage(deps: ImageDeps, img: Image, tags?: string[], layerUse?: Map<Digest, number>): ImageSummary {
  const shared = layerUse
    ? img.record.layers.reduce((n, l) => ((layerUse.get(l) ?? 0) > 1 ? n + (deps.layers.get(l)?.size ?? 0) : n), 0)
    : -1
  return {
    id: img.record.id,
    parentId: img.record.parent ?? '',
    repoTags: (tags ?? img.refs.filter((r) => !r.includes('@'))).map(familiar),
    repoDigests: img.refs.filter((r) => r.includes('@')).map(familiar),
    created: Math.floor(createdMs(img) / 1000),
    size: img.record.size,
    sharedSize: shared,
    labels: labelsOf(img.config),
    containers: layerUse ? deps.users.containersUsing(img.record.id).length : -1,
  }
}

/** How many of `images` use each layer (chain ID). */
export function countLayerUse(images: Image[]): Map<Digest, number> {
  const m = new Map<Digest, number>()
  for (const i of images) for (const l of i.record.layers) m.set(l, (m.get(l) ?? 0) + 1)
  return m
}

/**
 * Docker's reference filter (reference.FamiliarMatch): the pattern (path.Match) against the
 * familiar string (with tag or digest), then against the familiar name alone. A registry's port
 * is part of the name, not a tag.
 */
function matchReference(pattern: string, canonical: string): boolean {
  const ref = parseNormalizedNamed(canonical)
  const re = globToRegExp(pattern)
  // The canonical forms too (docker.io/library/busybox), which Berth always accepted.
  return re.test(familiarString(ref)) || re.test(familiarName(ref)) || re.test(canonical) || re.test(ref.name)
}

function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end === -1) re += '\\['
      else { re += `[${glob.slice(i + 1, end).replace(/^\^|^!/, '^').replace(/\\/g, '\\\\')}]`; i = end }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

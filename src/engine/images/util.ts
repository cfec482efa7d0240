import type { ImageDeps } from './deps.js'
import { labelsOf } from './load.js'
import type { Image } from './types.js'

/** The image's creation time in ms: its config's `created`, else when it was stored. */
export function createdMs(img: Image): number {
  const t = img.config.created ? Date.parse(img.config.created) : NaN
  return Number.isNaN(t) ? Date.parse(img.record.loadedAt) : t
}

/** True when `ref` names the image by (a prefix of) its ID rather than by a reference. */
export function isImageIdPrefix(id: string, ref: string): boolean {
  const hex = id.slice(7)
  if (ref.startsWith('sha256:')) return hex.startsWith(ref.slice(7))
  return /^[a-f0-9]+$/.test(ref) && hex.startsWith(ref)
}

/** Emit an image event named by the image's ID, with its labels as attributes. */
export function emitImageEvent(deps: ImageDeps, action: string, img: Image, extra: Record<string, string> = {}): void {
  deps.events.emit('image', action, img.record.id, { name: img.record.id, ...labelsOf(img.config), ...extra })
}

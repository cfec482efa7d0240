import type { ImageDeps } from './deps.js'
import { countLayerUse, summarizeImage, type ImageSummary } from './list.js'

/** Figures for /system/df: the size of all layers, and every image with its shared size, newest first. */
export function computeDiskUsage(deps: ImageDeps): { layersSize: number; images: ImageSummary[] } {
  const images = deps.store.all()
  const counts = countLayerUse(images)
  const layersSize = deps.layers.list().reduce((n, l) => n + l.size, 0)
  return { layersSize, images: images.map((i) => summarizeImage(deps, i, undefined, counts)).sort((a, b) => b.created - a.created) }
}

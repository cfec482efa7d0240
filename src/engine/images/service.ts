import type { Digest } from '../../lib/digest.js'
import { parseAnyReference, parseNormalizedNamed, referenceString, tagNameOnly } from '../../distribution/reference.js'
import { Filters } from '../../lib/filters.js'
import type { ImageDeps } from './deps.js'
import { computeDiskUsage } from './disk-usage.js'
import { removeUnusedBlobs, removeUnusedLayers } from './gc.js'
import { readHistory, type HistoryRow } from './history.js'
import { importImage, type ImportOptions } from './import.js'
import { countLayerUse, listImages, summarizeImage, type ImageSummary } from './list.js'
import { loadImages, type LoadResult } from './load.js'
import { pruneImages } from './prune.js'
import { removeImage, type DeleteItem } from './remove.js'
import { saveImages } from './save.js'
import type { ImageStore } from './store.js'
import { tagImage } from './tag.js'
import type { Image } from './types.js'
import { emitImageEvent, isImageIdPrefix } from './util.js'

export type { ImageDeps, ImageUsers } from './deps.js'
export type { ImportOptions } from './import.js'
export type { ImageSummary } from './list.js'
export type { DeleteItem } from './remove.js'
export { hostPlatform, parsePlatform } from './platform.js'

/** The image verbs over one set of deps: a facade whose methods delegate to one file per verb. */
export class ImageService {
  constructor(readonly deps: ImageDeps) {}

  get store(): ImageStore {
    return this.deps.store
  }

  resolve(ref: string): Image {
    return this.deps.store.resolve(ref)
  }

  list(opts: { all?: boolean; filters?: Filters; sharedSize?: boolean } = {}): ImageSummary[] {
    return listImages(this.deps, opts)
  }

  summaryOf(img: Image, withUsage = false): ImageSummary {
    return summarizeImage(this.deps, img, undefined, withUsage ? countLayerUse(this.deps.store.all()) : undefined)
  }

  history(ref: string): HistoryRow[] {
    return readHistory(this.deps, ref)
  }

  tag(source: string, repo: string, tag?: string): Promise<void> {
    return tagImage(this.deps, source, repo, tag)
  }

  remove(ref: string, opts: { force?: boolean; noPrune?: boolean } = {}): Promise<DeleteItem[]> {
    return removeImage(this.deps, ref, opts)
  }

  /** Delete the blobs of layers no image references any more, and other unreferenced blobs. */
  gcBlobs(): Promise<number> {
    return removeUnusedBlobs(this.deps)
  }

  /** Remove layers no image references (after a crash between record delete and layer delete). */
  gcLayers(): Promise<number> {
    return removeUnusedLayers(this.deps)
  }

  prune(filters: Filters = new Filters()): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }> {
    return pruneImages(this.deps, filters)
  }

  load(body: AsyncIterable<Buffer>, opts: { signal?: AbortSignal } = {}): Promise<LoadResult> {
    return loadImages(this.deps, body, opts)
  }

  async save(refs: string[], out: (chunk: Buffer) => Promise<void> | void, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const wanted = refs.map((r) => {
      const img = this.resolve(r)
      const parsed = parseAnyReference(r)
      // A name (not an ID) asks for that reference only, or all tags of a repository without a tag.
      let tags: string[]
      if (parsed.kind === 'id' || isImageIdPrefix(img.record.id, r)) tags = []
      else if (parsed.ref.tag === undefined && parsed.ref.digest === undefined && !this.deps.store.lookupRef(referenceString(tagNameOnly(parsed.ref)))) tags = []
      else tags = [referenceString(tagNameOnly(parsed.ref))]
      if (parsed.kind === 'named' && parsed.ref.tag === undefined && parsed.ref.digest === undefined) {
        // `docker save busybox` saves every tag of the repository.
        const all = this.deps.store.all().flatMap((i) => i.refs.filter((x) => !x.includes('@') && parseNormalizedNamed(x).name === parsed.ref.name).map((x) => ({ i, x })))
        if (all.length) return all.map(({ i, x }) => ({ img: i, tags: [x] }))
      }
      return [{ img, tags }]
    }).flat()
    await saveImages(this.deps, wanted, out, opts)
    for (const w of wanted) emitImageEvent(this.deps, 'save', w.img)
  }

  import(body: AsyncIterable<Buffer>, opts: ImportOptions = {}): Promise<Digest> {
    return importImage(this.deps, body, opts)
  }

  /** Figures for /system/df. */
  diskUsage(): { layersSize: number; images: ImageSummary[] } {
    return computeDiskUsage(this.deps)
  }
}

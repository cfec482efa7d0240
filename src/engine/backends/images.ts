import type { LayerStore } from '../../core/layer-store.js'
import { filtersOf } from '../../lib/filters.js'
import type { ImageService } from '../images/service.js'
import { familiar } from '../images/store.js'

export interface ImageFilterValues {
  before?: readonly string[]
  since?: readonly string[]
  dangling?: boolean
  label?: readonly string[]
  labelNot?: readonly string[]
  reference?: readonly string[]
  until?: readonly string[]
}

const RENAME = { labelNot: 'label!' }

/** The API's ImageBackend over the image service and the layer store (inspect's GraphDriver). */
export function imageBackend(d: { images: ImageService; layers: LayerStore }) {
  const images = d.images
  return {
    list: async (opts: { all: boolean; sharedSize: boolean; filters: ImageFilterValues }) =>
      images.list({ all: opts.all, sharedSize: opts.sharedSize, filters: filtersOf({ ...opts.filters }, RENAME) }),

    async inspect(ref: string) {
      const img = images.resolve(ref)
      const dirs = d.layers.lowerDirs(img.record.layers.at(-1) ?? '')
      const graphDriver: Record<string, string> = dirs.length > 1
        ? { LowerDir: dirs.slice(1).join(':'), MergedDir: '', UpperDir: dirs[0]!, WorkDir: '' }
        : dirs.length === 1 ? { MergedDir: '', UpperDir: dirs[0]!, WorkDir: '' } : {}
      return {
        image: img,
        repoTags: img.refs.filter((r) => !r.includes('@')).map(familiar),
        repoDigests: img.refs.filter((r) => r.includes('@')).map(familiar),
        graphDriver,
      }
    },

    history: async (ref: string) => images.history(ref),
    tag: (ref: string, repo: string, tag?: string) => images.tag(ref, repo, tag),
    remove: (ref: string, opts: { force: boolean; noPrune: boolean }) => images.remove(ref, opts),
    prune: (f: ImageFilterValues) => images.prune(filtersOf({ ...f }, RENAME)),

    async save(names: string[], open: () => (chunk: Buffer) => Promise<void> | void, signal: AbortSignal) {
      // Resolve everything before the first byte, so a bad name is a proper 404.
      for (const n of names) images.resolve(n)
      const write = open()
      await images.save(names, write, { signal })
    },

    load: (body: AsyncIterable<Buffer>, signal: AbortSignal) => images.load(body, { signal }),
    import: (body: AsyncIterable<Buffer>, req: { repo: string; tag: string; message: string; changes: string[]; platform: string; source: string; signal: AbortSignal }) => images.import(body, req),
  }
}

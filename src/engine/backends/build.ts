import { join } from 'node:path'
import { BuildCache, type CacheEntry, type CachePruneFilters } from '../../build/cache.js'
import { BuildStepError, runBuild, sweepBuildTemp, type BuildMessage, type BuildOptions } from '../../build/builder.js'
import { findEngineError } from '../../lib/errors.js'
import type { ContainerService } from '../containers/service.js'
import type { ImageService } from '../images/service.js'

/** The API's BuildBackend: the classic builder and its cache index under the data root. */
export function buildBackend(d: { containers: ContainerService; images: ImageService; dataRoot: string; log: (m: string) => void }) {
  // A build's temp directory that a killed berthd left is removed at start, not at the next build.
  void sweepBuildTemp(d.dataRoot, d.log)
  return {
    /**
     * A failed step, or any error once the stream has begun, ends the stream as an errorDetail
     * message; an error before the first message is thrown.
     */
    async build(context: AsyncIterable<Buffer>, opts: BuildOptions, emit: (m: BuildMessage) => void): Promise<void> {
      let started = false
      const send = (m: BuildMessage) => { started = true; emit(m) }
      try {
        await runBuild({ containers: d.containers, images: d.images, dataRoot: d.dataRoot, log: d.log }, context, opts, send)
      } catch (err) {
        if (!started && !(err instanceof BuildStepError)) throw err
        const message = err instanceof BuildStepError ? err.message : findEngineError(err)?.message ?? (err instanceof Error ? err.message : String(err))
        const code = err instanceof BuildStepError ? err.code : undefined
        send({ errorDetail: { message, ...(code !== undefined ? { code } : {}) }, error: message })
      }
    },

    /**
     * With all, every cache entry; otherwise those whose image is gone; narrowed by the filters.
     * What crashed builds left in the temp directory goes too.
     */
    async prune(opts: { all: boolean; filters?: CachePruneFilters }) {
      await sweepBuildTemp(d.dataRoot, d.log)
      const cache = BuildCache.for(join(d.dataRoot, 'build-cache'))
      const f = opts.filters ?? {}
      const dropped = await cache.prune(opts.all, (id) => !!d.images.store.get(id), (id, e) => matchCacheEntry(f, id, e))
      return { deleted: dropped.map((id) => id.replace(/^sha256:/, '')), spaceReclaimed: 0 }
    },
  }
}

/**
 * The classic cache's entries as BuildKit records for the prune filters: type "regular", never
 * in use between builds, never shared (so private), described by their instruction.
 */
function matchCacheEntry(f: CachePruneFilters, id: string, e: CacheEntry): boolean {
  if (f.until !== undefined && (e.at ?? 0) >= f.until) return false
  if (f.id !== undefined && !matchPattern(f.id, id)) return false
  if (f.parent !== undefined && e.parent.replace(/^sha256:/, '') !== f.parent.replace(/^sha256:/, '')) return false
  if (f.type !== undefined && f.type !== '' && f.type !== 'regular') return false
  if (f.description !== undefined && f.description !== e.key) return false
  const flag = (v: string | undefined, actual: boolean) => v === undefined || (v === '' ? actual : (v === 'true' || v === '1') === actual)
  return flag(f.inuse, false) && flag(f.shared, false) && flag(f.private, true)
}

/** BuildKit's `~=`: a regular expression (a plain substring when it is not one). */
function matchPattern(pattern: string, s: string): boolean {
  try { return new RegExp(pattern).test(s) } catch { return s.includes(pattern) }
}

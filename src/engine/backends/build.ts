import { join } from 'node:path'
import { BuildCache } from '../../build/cache.js'
import { BuildStepError, runBuild, type BuildMessage, type BuildOptions } from '../../build/builder.js'
import { findEngineError } from '../../lib/errors.js'
import type { ContainerService } from '../containers/service.js'
import type { ImageService } from '../images/service.js'

/** The API's BuildBackend: the classic builder and its cache index under the data root. */
export function buildBackend(d: { containers: ContainerService; images: ImageService; dataRoot: string; log: (m: string) => void }) {
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

    /** With all, every cache entry; otherwise those whose image is gone. */
    async prune(opts: { all: boolean }) {
      const cache = BuildCache.for(join(d.dataRoot, 'build-cache'))
      const dropped = await cache.prune(opts.all, (id) => !!d.images.store.get(id))
      return { deleted: dropped.map((id) => id.replace(/^sha256:/, '')), spaceReclaimed: 0 }
    },
  }
}

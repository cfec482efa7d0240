import { sha256 } from '../../lib/digest.js'
import type { RuntimeRef } from '../../runtime/monitor.js'
import type { OciSpec } from '../../runtime/spec.js'
import type { Ctx } from './deps.js'
import type { ContainerRecord } from './types.js'

/**
 * Seccomp filters crun compiled (base64 BPF), by runtime and profile. crun compiles the profile
 * at every create (its own cache needs libgcrypt, which Debian's build lacks): a later container
 * with the same profile is given the filter compiled for an earlier one.
 */
export class SeccompCache {
  readonly #bpf = new Map<string, string>()

  /** The cache key of a spec's profile for a runtime (crun only), and a filter already compiled for it. */
  lookup(rt: RuntimeRef, spec: OciSpec): { key?: string; bpf?: string } {
    if (rt.name !== 'crun' || !spec.linux.seccomp) return {}
    const key = `${rt.path}:${sha256(JSON.stringify(spec.linux.seccomp))}`
    const bpf = this.#bpf.get(key)
    return bpf ? { key, bpf } : { key }
  }

  /** Keep the filter the runtime compiled for this container's profile, for the next containers. */
  async learn(ctx: Ctx, rt: RuntimeRef, id: string, key: string): Promise<void> {
    try {
      const data = await ctx.runtime.compiledSeccomp(rt, id)
      // A classic BPF program is a whole number of 8-byte instructions.
      if (data && data.length > 0 && data.length % 8 === 0) this.#bpf.set(key, data.toString('base64'))
    } catch (err) {
      ctx.deps.log(`seccomp filter of ${id}: ${String(err)}`)
    }
  }
}

/**
 * The container's own layer size (SizeRw) and that plus its image's (SizeRootFs), as ps -s,
 * inspect -s and system df show them. The upper dir is walked at most once a minute per
 * container (later asks get the last figure while a new walk runs), so these stay fast.
 */
export class SizeCache {
  readonly #sizes = new Map<string, { size: number; at: number }>()

  async sizes(ctx: Ctx, rec: ContainerRecord): Promise<{ sizeRw: number; sizeRootFs: number }> {
    const cached = this.#sizes.get(rec.id)
    const now = ctx.clock.now()
    const walk = () => ctx.mounts.diskUsage(ctx.layout.upper(rec.id)).then((size) => { this.#sizes.set(rec.id, { size, at: ctx.clock.now() }); return size })
    let sizeRw: number
    if (cached && now - cached.at < 60_000) sizeRw = cached.size
    else if (cached) { sizeRw = cached.size; void walk().catch(() => {}) } else sizeRw = await walk().catch(() => 0)
    let imageSize = 0
    try { imageSize = ctx.deps.images.resolve(rec.imageId).record.size } catch { /* the image was removed */ }
    return { sizeRw, sizeRootFs: sizeRw + imageSize }
  }
}

/**
 * `BERTH_TRACE=1`: every call berthd makes to the runtime, the mounts, the container store and
 * the network during a container verb is written to stderr with its start (ms since the
 * process began) and duration, so where a stop or an rm spends its time can be read off one
 * run: `[trace] 1234.5 +12.3 runtime.kill 3f2a…`. Off, nothing is wrapped.
 */
export const tracing = !!process.env.BERTH_TRACE

export function traceMark(what: string): void {
  if (tracing) process.stderr.write(`[trace] ${performance.now().toFixed(1)} mark ${what}\n`)
}

/** `obj` with each of its methods timed under `name.method`. */
export function traced<T extends object>(name: string, obj: T): T {
  if (!tracing) return obj
  return new Proxy(obj, {
    get(target, prop) {
      // Getters and methods run on the target itself (classes with private fields).
      const v = Reflect.get(target, prop) as unknown
      if (typeof v !== 'function') return v
      return (...args: unknown[]) => {
        const t0 = performance.now()
        const arg = args.map((a) => (typeof a === 'string' ? a.replace(/^.*\//, '').slice(0, 12) : typeof a === 'object' && a && 'id' in a ? String((a as { id: unknown }).id).slice(0, 12) : typeof a === 'number' || typeof a === 'boolean' ? String(a) : '')).filter(Boolean).join(' ')
        const done = () => process.stderr.write(`[trace] ${t0.toFixed(1)} +${(performance.now() - t0).toFixed(1)} ${name}.${String(prop)} ${arg}\n`)
        const r = (v as (...a: unknown[]) => unknown).apply(target, args)
        if (r instanceof Promise) return r.finally(done)
        done()
        return r
      }
    },
  })
}

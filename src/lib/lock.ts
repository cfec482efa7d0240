/**
 * Per-key async mutexes. Lock one object (an image ID, a reference) at a time; there is no
 * global lock. `acquire` resolves to a releaser that is also an async disposable, so
 * `await using _ = await locks.acquire(key)` works.
 */
export interface Held extends AsyncDisposable {
  release(): void
}

export class KeyedLock {
  #tails = new Map<string, Promise<void>>()

  async acquire(key: string, signal?: AbortSignal): Promise<Held> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const current = new Promise<void>((resolve) => (release = resolve))
    const tail = previous.then(() => current)
    this.#tails.set(key, tail)
    try {
      await (signal ? raceAbort(previous, signal) : previous)
    } catch (err) {
      // Our turn never came: pass the baton on when it would have, and give up.
      previous.then(release)
      void tail.then(() => { if (this.#tails.get(key) === tail) this.#tails.delete(key) })
      throw err
    }
    let released = false
    const done = () => {
      if (released) return
      released = true
      release()
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    }
    return { release: done, [Symbol.asyncDispose]: async () => done() }
  }

  /** Acquire several keys in a stable order (avoids deadlocks between two multi-key holders). */
  async acquireAll(keys: string[], signal?: AbortSignal): Promise<Held> {
    const sorted = [...new Set(keys)].sort()
    const held: Held[] = []
    try {
      for (const key of sorted) held.push(await this.acquire(key, signal))
    } catch (err) {
      for (const h of held.reverse()) h.release()
      throw err
    }
    const done = () => { for (const h of held.reverse()) h.release() }
    return { release: done, [Symbol.asyncDispose]: async () => done() }
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v) },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e) },
    )
  })
}

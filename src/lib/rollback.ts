/**
 * Undo steps of a multi-step operation. Each done step defers its undo; on close, unless
 * commit() was called, the undos run in reverse order. Failures of undo steps are collected
 * and reported to `onError` but never mask the original error.
 */
export class Rollback {
  #steps: Array<() => unknown> = []
  #committed = false

  constructor(private readonly onError: (err: unknown) => void = () => {}) {}

  defer(undo: () => unknown): void {
    this.#steps.push(undo)
  }

  commit(): void {
    this.#committed = true
  }

  async close(): Promise<void> {
    if (this.#committed) return
    const steps = this.#steps.splice(0).reverse()
    for (const step of steps) {
      try {
        await step()
      } catch (err) {
        this.onError(err)
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

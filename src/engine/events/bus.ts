import type { EngineEvent } from './types.js'

export type { EngineEvent }

export type EventFilter = (e: EngineEvent) => boolean

interface Subscriber {
  filter: EventFilter
  push: (e: EngineEvent) => void
}

/**
 * The engine's event stream: a bounded ring of recent events (so `since` can replay them, as
 * Docker keeps its last events in memory) and live subscribers.
 */
export class EventBus {
  #ring: EngineEvent[] = []
  #subs = new Set<Subscriber>()
  #lastNano = 0n

  constructor(private readonly capacity = 1024) {}

  emit(type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    let now = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)
    if (now <= this.#lastNano) now = this.#lastNano + 1n
    this.#lastNano = now
    const e: EngineEvent = { type, action, actor: { id, attributes }, scope: 'local', timeNano: now }
    this.#ring.push(e)
    if (this.#ring.length > this.capacity) this.#ring.splice(0, this.#ring.length - this.capacity)
    for (const s of this.#subs) if (s.filter(e)) s.push(e)
    return e
  }

  /** Past events with sinceNano <= time <= untilNano. */
  history(sinceNano: bigint, untilNano: bigint | undefined, filter: EventFilter): EngineEvent[] {
    return this.#ring.filter((e) => e.timeNano >= sinceNano && (untilNano === undefined || e.timeNano <= untilNano) && filter(e))
  }

  /** Live events; call the returned function to unsubscribe. */
  subscribe(filter: EventFilter, push: (e: EngineEvent) => void): () => void {
    const s: Subscriber = { filter, push }
    this.#subs.add(s)
    return () => this.#subs.delete(s)
  }

  get subscriberCount(): number {
    return this.#subs.size
  }
}

import { invalid } from '../lib/errors.js'
import type { PruneFilters } from './backend.js'

/**
 * Docker's `filters` query parameter: `{"key": ["v1", "v2"]}`, or the legacy
 * `{"key": {"v1": true}}`. The API parses and checks it; backends get typed values.
 */
export class FilterArgs {
  readonly #m: Map<string, string[]>

  constructor(entries: Iterable<[string, string[]]> = []) {
    this.#m = new Map(entries)
  }

  static parse(raw: string | undefined | null): FilterArgs {
    if (!raw) return new FilterArgs()
    let obj: unknown
    try {
      obj = JSON.parse(raw)
    } catch {
      throw invalid('ERR_INVALID_FILTER', 'invalid filter')
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw invalid('ERR_INVALID_FILTER', 'invalid filter')
    const out = new FilterArgs()
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (Array.isArray(v)) out.#m.set(k, v.map(String))
      else if (v && typeof v === 'object') out.#m.set(k, Object.entries(v).filter(([, b]) => b === true).map(([s]) => s))
      else throw invalid('ERR_INVALID_FILTER', 'invalid filter')
    }
    return out
  }

  has(key: string): boolean {
    return this.#m.has(key)
  }

  get(key: string): string[] {
    return this.#m.get(key) ?? []
  }

  /** The values of a key, or undefined when the key is absent (so it does not filter). */
  opt(key: string): string[] | undefined {
    const v = this.#m.get(key)
    return v ? [...v] : undefined
  }

  /** Fail with Docker's message when a key is not one of `allowed`. */
  validate(allowed: readonly string[]): this {
    for (const k of this.#m.keys()) if (!allowed.includes(k)) throw invalid('ERR_INVALID_FILTER', `invalid filter '${k}'`)
    return this
  }

  /**
   * A boolean value, as Docker's GetBoolOrDefault reads it: exactly `1`/`true` or `0`/`false`;
   * anything else, or both, is its error (`invalid filter 'k=[v]'`).
   */
  bool(key: string): boolean | undefined {
    if (!this.#m.has(key)) return undefined
    const v = this.get(key)
    if (v.length === 0) throw invalid('ERR_INVALID_FILTER', `invalid filter '${key}'`)
    const isTrue = v.includes('1') || v.includes('true')
    const isFalse = v.includes('0') || v.includes('false')
    if (isTrue === isFalse) throw invalid('ERR_INVALID_FILTER', `invalid filter '${key}=[${v.join(' ')}]'`)
    return isTrue
  }

  toJSON(): Record<string, string[]> {
    return Object.fromEntries(this.#m)
  }
}

/** An object without its undefined fields (optional filter keys stay absent). */
export function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}

/** A prune's `filters` (`label`, `label!`, `until`). */
export function parsePruneFilters(raw: string | null): PruneFilters {
  const f = FilterArgs.parse(raw).validate(['label', 'label!', 'until'])
  return defined({ label: f.opt('label'), labelNot: f.opt('label!'), until: f.opt('until') })
}


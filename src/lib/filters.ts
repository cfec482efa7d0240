import { invalid } from '../lib/errors.js'

/**
 * Docker's filter arguments: `{"key": ["v1", "v2"]}`, or the legacy `{"key": {"v1": true}}`.
 * Values of one key are OR-ed, keys are AND-ed.
 */
export class Filters {
  readonly #m: Map<string, string[]>

  constructor(entries: Iterable<[string, string[]]> = []) {
    this.#m = new Map(entries)
  }

  static parse(raw: string | undefined | null): Filters {
    if (!raw) return new Filters()
    let obj: unknown
    try {
      obj = JSON.parse(raw)
    } catch {
      throw invalid('ERR_INVALID_FILTER', 'invalid filter')
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw invalid('ERR_INVALID_FILTER', 'invalid filter')
    const out = new Filters()
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (Array.isArray(v)) out.#m.set(k, v.map(String))
      else if (v && typeof v === 'object') out.#m.set(k, Object.entries(v).filter(([, b]) => b === true).map(([s]) => s))
      else throw invalid('ERR_INVALID_FILTER', 'invalid filter')
    }
    return out
  }

  keys(): string[] {
    return [...this.#m.keys()]
  }

  has(key: string): boolean {
    return this.#m.has(key)
  }

  get(key: string): string[] {
    return this.#m.get(key) ?? []
  }

  get size(): number {
    return this.#m.size
  }

  /** Fail with Docker's message when a key is not one of `allowed`. */
  validate(allowed: readonly string[]): this {
    for (const k of this.#m.keys()) if (!allowed.includes(k)) throw invalid('ERR_INVALID_FILTER', `invalid filter '${k}'`)
    return this
  }

  /** The values of a key, or undefined when the key is absent (so it does not filter). */
  opt(key: string): string[] | undefined {
    const v = this.#m.get(key)
    return v ? [...v] : undefined
  }

  /** `label=k` / `label=k=v` against a label map (all must match). */
  matchLabels(key: string, labels: Record<string, string> | undefined | null): boolean {
    return matchLabels(this.get(key), labels)
  }

  /**
   * A boolean filter value, e.g. dangling=true, as Docker's GetBoolOrDefault reads it: exactly
   * `1`/`true` or `0`/`false`; anything else, or both, is its error (`invalid filter 'k=[v]'`).
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

/** `k` / `k=v` label filters against a label map: every one must match (none given: true). */
export function matchLabels(want: readonly string[], labels: Record<string, string> | undefined | null): boolean {
  if (want.length === 0) return true
  const l = labels ?? {}
  return want.every((w) => {
    const eq = w.indexOf('=')
    if (eq === -1) return Object.hasOwn(l, w)
    const k = w.slice(0, eq)
    return Object.hasOwn(l, k) && l[k] === w.slice(eq + 1)
  })
}

/** A Filters over typed filter values: undefined keys left out, booleans as `true`/`false`, numbers as text. */
export function filtersOf(values: Readonly<Record<string, readonly (string | number)[] | boolean | undefined>>, rename: Record<string, string> = {}): Filters {
  const entries: Array<[string, string[]]> = []
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue
    entries.push([rename[k] ?? k, typeof v === 'boolean' ? [String(v)] : v.map(String)])
  }
  return new Filters(entries)
}

/** Docker's `since`/`until` timestamps: RFC 3339, Unix seconds (with fraction), or durations like `10m` relative to now. Returns ms. */
export function parseTimestamp(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(parseFloat(value) * 1000)
  const dur = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(value)
  if (dur) {
    const n = parseFloat(dur[1]!)
    const mult = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[dur[2]!]!
    return now - n * mult
  }
  const compound = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms))+$/.test(value)
  if (compound) {
    let total = 0
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += parseFloat(m[1]!) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2]!]!
    return now - total
  }
  const t = Date.parse(value)
  if (Number.isNaN(t)) throw invalid('ERR_INVALID_TIMESTAMP', `failed to parse value as time or duration: "${value}"`)
  return t
}

/**
 * A `since`/`until` value as nanoseconds since the epoch: Docker's `seconds.nanoseconds`
 * strings keep their precision; other forms go through parseTimestamp.
 */
export function parseTimestampNano(value: string, now = Date.now()): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value)
  if (m) return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))
  return BigInt(Math.round(parseTimestamp(value, now))) * 1_000_000n
}

/**
 * The value model the template engine uses to give plain JavaScript values Go's shapes.
 *
 * Go's text/template works on typed values; here the template receives whatever JavaScript hands
 * it, and these rules say which Go kind each JavaScript value plays:
 *
 * - `undefined` is the invalid reflect.Value (a missing map key, "no value"); `null` is a nil
 *   pointer or interface. Both are false; they print as `<no value>` and `<nil>` respectively.
 * - strings, booleans and bigints are what they look like; a number is an `int` when it is an
 *   integer and a `float64` otherwise (JavaScript cannot tell `2.0` from `2`).
 * - arrays are slices, `Uint8Array`s are `[]byte`, `Date`s are `time.Time`.
 * - plain objects (prototype `Object.prototype` or `null`) and `Map`s are maps: a missing key is
 *   "no value", keys iterate and print in sorted order.
 * - anything else, and any object carrying the {@link GO_TYPE} symbol, is a struct: a missing
 *   field is an execution error, like Go's "can't evaluate field X in type T".
 * - a property that is a function is a method: field access calls it (with the action's
 *   arguments, `this` bound to the object).
 */

/** Marks an object as struct-like; the value is the Go type name used in error messages. */
export const GO_TYPE: unique symbol = Symbol.for('berth.gotemplate.type') as never

/** A Go complex128 value (the only way to get one is a complex literal like `1+2i`). */
export class GoComplex {
  constructor(
    readonly re: number,
    readonly im: number,
  ) {}
}

/**
 * Marks `obj` as a struct named `typeName` (for example `*formatter.ContainerContext`), so a
 * template that asks for a field it does not have fails the way Go fails instead of printing
 * `<no value>`. Returns `obj`.
 */
export function goStruct<T extends object>(obj: T, typeName: string): T {
  Object.defineProperty(obj, GO_TYPE, { value: typeName, enumerable: false, configurable: true, writable: true })
  return obj
}

export type Kind =
  | 'invalid'
  | 'nil'
  | 'bool'
  | 'int'
  | 'float'
  | 'complex'
  | 'string'
  | 'slice'
  | 'bytes'
  | 'map'
  | 'struct'
  | 'func'

export function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/** True when `v` behaves as a Go map (plain object or Map), not as a struct. */
export function isMapLike(v: unknown): v is Record<string, unknown> | Map<unknown, unknown> {
  if (typeof v !== 'object' || v === null) return false
  if (v instanceof Map) return true
  return isPlainObject(v) && !Object.prototype.hasOwnProperty.call(v, GO_TYPE)
}

export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'undefined':
      return 'invalid'
    case 'string':
      return 'string'
    case 'boolean':
      return 'bool'
    case 'number':
      return Number.isInteger(v) && Math.abs(v) < 9223372036854775808 ? 'int' : 'float'
    case 'bigint':
      return 'int'
    case 'function':
      return 'func'
    case 'symbol':
      return 'struct'
    default:
      break
  }
  if (v === null) return 'nil'
  const o = v as object
  if (Array.isArray(o)) return 'slice'
  if (o instanceof Uint8Array) return 'bytes'
  if (o instanceof GoComplex) return 'complex'
  if (isMapLike(o)) return 'map'
  return 'struct'
}

/** The Go type name for `v`, as fmt's %T and the engine's error messages spell it. */
export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return '<nil>'
    case 'string':
      return 'string'
    case 'bool':
      return 'bool'
    case 'int':
      return 'int'
    case 'float':
      return 'float64'
    case 'complex':
      return 'complex128'
    case 'func':
      return 'func()'
    case 'bytes':
      return '[]uint8'
    case 'slice': {
      const a = v as unknown[]
      return a.length > 0 && a.every((e) => typeof e === 'string') ? '[]string' : '[]interface {}'
    }
    case 'map': {
      if (v instanceof Map) {
        let keyType = 'string'
        for (const k of v.keys()) {
          keyType = typeof k === 'string' ? 'string' : typeName(k)
          break
        }
        return `map[${keyType}]interface {}`
      }
      return 'map[string]interface {}'
    }
    case 'struct': {
      const o = v as Record<PropertyKey, unknown>
      const tagged = o[GO_TYPE]
      if (typeof tagged === 'string') return tagged
      if (v instanceof Date) return 'time.Time'
      if (v instanceof Error) return '*errors.errorString'
      const ctor = (Object.getPrototypeOf(o) as { constructor?: { name?: string } } | null)?.constructor
      return ctor?.name ? `*${ctor.name}` : 'struct {}'
    }
  }
}

/** Go's truth: not the zero value of its type. `ok` is false for values with no truth (none here). */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return false
    case 'bool':
      return v as boolean
    case 'int':
    case 'float':
      return typeof v === 'bigint' ? v !== 0n : v !== 0
    case 'string':
      return (v as string).length > 0
    case 'slice':
    case 'bytes':
      return (v as ArrayLike<unknown>).length > 0
    case 'map':
      return mapLen(v as object) > 0
    case 'complex':
      return (v as GoComplex).re !== 0 || (v as GoComplex).im !== 0
    case 'struct':
    case 'func':
      return true
  }
}

export function mapLen(m: object): number {
  if (m instanceof Map) return m.size
  let n = 0
  for (const k in m) if (Object.prototype.hasOwnProperty.call(m, k)) n++
  return n
}

/** Compares strings by code point, which is Go's byte-wise order for UTF-8. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i)
    const cb = b.charCodeAt(i)
    if (ca !== cb) {
      // Surrogates (U+D800-U+DFFF) encode code points above U+FFFF: they sort after U+E000-U+FFFF.
      const sa = ca >= 0xd800 && ca <= 0xdfff
      const sb = cb >= 0xd800 && cb <= 0xdfff
      if (sa !== sb) return sa ? 1 : -1
      return ca < cb ? -1 : 1
    }
  }
  return a.length - b.length
}

function compareKeys(a: unknown, b: unknown): number {
  const ta = typeof a
  const tb = typeof b
  if ((ta === 'number' || ta === 'bigint') && (tb === 'number' || tb === 'bigint')) {
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
  }
  if (ta === 'string' && tb === 'string') return compareStrings(a as string, b as string)
  if (ta === 'boolean' && tb === 'boolean') return a === b ? 0 : a ? 1 : -1
  if (ta !== tb) return ta < tb ? -1 : 1
  return 0
}

/** The entries of a map-like value in Go's (fmtsort) key order. */
export function sortedEntries(m: object): Array<[unknown, unknown]> {
  const out: Array<[unknown, unknown]> = []
  if (m instanceof Map) {
    for (const [k, v] of m) out.push([k, v])
    out.sort((x, y) => compareKeys(x[0], y[0]))
  } else {
    const rec = m as Record<string, unknown>
    const keys = Object.keys(rec).sort(compareStrings)
    for (const k of keys) out.push([k, rec[k]])
  }
  return out
}

/** Looks a key up in a map-like value; `found` tells a missing key from a stored undefined. */
export function mapLookup(m: object, key: string): { found: boolean; value: unknown } {
  if (m instanceof Map) {
    if (m.has(key)) return { found: true, value: m.get(key) }
    return { found: false, value: undefined }
  }
  if (Object.prototype.hasOwnProperty.call(m, key)) return { found: true, value: (m as Record<string, unknown>)[key] }
  return { found: false, value: undefined }
}

/**
 * Looks a field or method up on a struct-like object: own properties and anything on its
 * prototype chain short of `Object.prototype` (so getters and class methods count, `toString`
 * and `constructor` do not).
 */
export function structLookup(o: object, name: string): { found: boolean; value: unknown } {
  if (name === 'constructor') return { found: false, value: undefined }
  for (let p: object | null = o; p && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.prototype.hasOwnProperty.call(p, name)) {
      return { found: true, value: (o as Record<string, unknown>)[name] }
    }
  }
  return { found: false, value: undefined }
}

/** The (name, value) pairs fmt prints for a struct-like object: its own enumerable data. */
export function structFields(o: object): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = []
  for (const k of Object.keys(o)) {
    const v = (o as Record<string, unknown>)[k]
    if (typeof v === 'function') continue
    out.push([k, v])
  }
  return out
}

/** A zero-argument `String()` (Go's fmt.Stringer) or `Error()` method of `o`, if it has one. */
export function stringerOf(o: object): (() => string) | undefined {
  if (o instanceof Error) return () => o.message
  if (o instanceof Date) return () => goTimeString(o)
  const rec = o as Record<string, unknown>
  for (const name of ['Error', 'String']) {
    const { found, value } = structLookup(o, name)
    if (found && typeof value === 'function' && value.length === 0) {
      return () => String((value as (this: unknown) => unknown).call(rec))
    }
  }
  return undefined
}

function pad2(n: number, w = 2): string {
  return String(n).padStart(w, '0')
}

/** Go's time.Time.String() for a Date, in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
export function goTimeString(d: Date): string {
  if (Number.isNaN(d.getTime())) return '0001-01-01 00:00:00 +0000 UTC'
  const ms = d.getUTCMilliseconds()
  const frac = ms ? '.' + pad2(ms, 3).replace(/0+$/, '') : ''
  return (
    `${pad2(d.getUTCFullYear(), 4)}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${frac} +0000 UTC`
  )
}

/** Go's RFC 3339 (nano) rendering of a Date, as encoding/json writes time.Time, in UTC. */
export function goTimeRFC3339(d: Date): string {
  if (Number.isNaN(d.getTime())) return '0001-01-01T00:00:00Z'
  const ms = d.getUTCMilliseconds()
  const frac = ms ? '.' + pad2(ms, 3).replace(/0+$/, '') : ''
  return (
    `${pad2(d.getUTCFullYear(), 4)}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${frac}Z`
  )
}

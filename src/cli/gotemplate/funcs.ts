/**
 * Template functions: Go's builtins (and, or, not, len, index, slice, print, printf, println,
 * html, js, urlquery, call, eq, ne, lt, le, gt, ge) and the docker CLI's additions
 * (templates.basicFunctions: json, split, join, title, lower, upper, pad, truncate), plus the
 * header variants docker swaps in to render table headings (templates.HeaderFunctions).
 *
 * A function declares Go-like parameter types so that calls are checked the way Go checks them
 * ("wrong number of args for lower: want 1 got 2", "wrong type for value; expected string; got
 * int"). A function that throws makes the action fail with "error calling NAME: MESSAGE".
 */
import { Buffer } from 'node:buffer'
import { formatValue, sprint, sprintf, sprintln, isPrint } from '../../lib/gofmt/fmt.js'
import {
  GoComplex,
  compareStrings,
  goTimeRFC3339,
  isTrue,
  kindOf,
  mapLen,
  mapLookup,
  sortedEntries,
  typeName,
} from '../../lib/gofmt/values.js'

/**
 * Go parameter types as the engine checks them: `any` (interface{}), `value` (reflect.Value:
 * like any, but a missing value stays missing), `string`, `int`, `float` (float64), `bool`,
 * `strings` ([]string).
 */
export type ArgType = 'any' | 'value' | 'string' | 'int' | 'float' | 'bool' | 'strings'

/** A template function with a declared Go signature. */
export interface GoFunc {
  readonly params: readonly ArgType[]
  /** Type of the trailing variadic parameter (`...T`), when there is one. */
  readonly variadic?: ArgType
  readonly fn: (...args: any[]) => unknown
}

/**
 * What a FuncMap may hold: a GoFunc, or a plain function, which is treated as variadic over
 * `any` (no argument checking).
 */
export type TemplateFunc = GoFunc | ((...args: any[]) => unknown)
export type FuncMap = Readonly<Record<string, TemplateFunc>>

/** Declares a template function with a Go signature: `goFunc(['string', 'int'], fn)`. */
export function goFunc(params: readonly ArgType[], fn: (...args: any[]) => unknown, variadic?: ArgType): GoFunc {
  return variadic === undefined ? { params, fn } : { params, variadic, fn }
}

export function toGoFunc(f: TemplateFunc): GoFunc {
  return typeof f === 'function' ? { params: [], variadic: 'any', fn: f } : f
}

/** The Go spelling of a parameter type, for error messages. */
export function argTypeName(t: ArgType): string {
  switch (t) {
    case 'any':
      return 'interface {}'
    case 'value':
      return 'reflect.Value'
    case 'string':
      return 'string'
    case 'int':
      return 'int'
    case 'float':
      return 'float64'
    case 'bool':
      return 'bool'
    case 'strings':
      return '[]string'
  }
}

function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8')
}

function byteLength(s: string): number {
  // Fast path: pure ASCII.
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8')
  return s.length
}

// ---------------------------------------------------------------------------------------------
// Indexing, slicing, length

function indexArg(index: unknown, cap: number): number {
  let x: number
  if (typeof index === 'bigint') x = Number(index)
  else if (typeof index === 'number' && Number.isInteger(index)) x = index
  else if (index === undefined || index === null) throw new Error('cannot index slice/array with nil')
  else throw new Error(`cannot index slice/array with type ${typeName(index)}`)
  if (x < 0 || x > cap) throw new Error(`index out of range: ${x}`)
  return x
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined) throw new Error('index of untyped nil')
  for (const idx of indexes) {
    if (item === undefined || item === null) throw new Error('index of nil pointer')
    switch (kindOf(item)) {
      case 'string': {
        const b = utf8(item as string)
        const x = indexArg(idx, b.length)
        if (x === b.length) throw new Error('reflect: string index out of range')
        item = b[x]
        break
      }
      case 'slice':
      case 'bytes': {
        const a = item as ArrayLike<unknown>
        const x = indexArg(idx, a.length)
        if (x === a.length) throw new Error('reflect: slice index out of range')
        item = a[x]
        break
      }
      case 'map': {
        const m = item as object
        if (m instanceof Map) {
          item = m.has(idx) ? m.get(idx) : typeof idx === 'number' && m.has(String(idx)) ? m.get(String(idx)) : undefined
          break
        }
        if (idx === undefined || idx === null) throw new Error('value is nil; should be of type string')
        if (typeof idx !== 'string') throw new Error(`value has type ${typeName(idx)}; should be string`)
        item = mapLookup(m, idx).value
        break
      }
      default:
        throw new Error(`can't index item of type ${typeName(item)}`)
    }
  }
  return item
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined) throw new Error('slice of untyped nil')
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`)
  const kind = kindOf(item)
  let len: number
  let bytes: Buffer | undefined
  if (kind === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string')
    bytes = utf8(item as string)
    len = bytes.length
  } else if (kind === 'slice' || kind === 'bytes') {
    len = (item as ArrayLike<unknown>).length
  } else {
    throw new Error(`can't slice item of type ${typeName(item)}`)
  }
  const idx = [0, len, len]
  indexes.forEach((x, i) => {
    idx[i] = indexArg(x, len)
  })
  if (idx[0]! > idx[1]!) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`)
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`)
  if (bytes) return bytes.subarray(idx[0], idx[1]).toString('utf8')
  if (item instanceof Uint8Array) return item.slice(idx[0], idx[1])
  return (item as unknown[]).slice(idx[0], idx[1])
}

function length(item: unknown): number {
  if (item === null) throw new Error('len of nil pointer')
  if (item === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value')
  switch (kindOf(item)) {
    case 'string':
      return byteLength(item as string)
    case 'slice':
    case 'bytes':
      return (item as ArrayLike<unknown>).length
    case 'map':
      return mapLen(item as object)
  }
  throw new Error(`len of type ${typeName(item)}`)
}

function call(name: string, fn: unknown, ...args: unknown[]): unknown {
  if (fn === undefined || fn === null) throw new Error('call of nil')
  if (typeof fn !== 'function') throw new Error(`non-function ${name} of type ${typeName(fn)}`)
  return (fn as (...a: unknown[]) => unknown)(...args)
}

// ---------------------------------------------------------------------------------------------
// Comparison

type BasicKind = 'invalid' | 'bool' | 'complex' | 'number' | 'string'

function basicKind(v: unknown): BasicKind {
  switch (kindOf(v)) {
    case 'bool':
      return 'bool'
    case 'int':
    case 'float':
      return 'number'
    case 'complex':
      return 'complex'
    case 'string':
      return 'string'
  }
  return 'invalid'
}

const isNilish = (v: unknown): boolean => v === undefined || v === null

function comparable(v: unknown): boolean {
  const k = kindOf(v)
  return k !== 'slice' && k !== 'map' && k !== 'bytes' && k !== 'func'
}

function eq(arg1: unknown, ...arg2: unknown[]): boolean {
  if (arg2.length === 0) throw new Error('missing argument for comparison')
  const k1 = basicKind(arg1)
  for (const arg of arg2) {
    const k2 = basicKind(arg)
    let truth = false
    if (k1 !== k2) {
      if (!isNilish(arg1) && !isNilish(arg)) {
        throw new Error(`incompatible types for comparison: ${typeName(arg1)} and ${typeName(arg)}`)
      }
    } else {
      switch (k1) {
        case 'bool':
        case 'string':
          truth = arg1 === arg
          break
        case 'number':
          truth = Number(arg1) === Number(arg) || (typeof arg1 === 'bigint' && typeof arg === 'bigint' && arg1 === arg)
          break
        case 'complex':
          truth = (arg1 as GoComplex).re === (arg as GoComplex).re && (arg1 as GoComplex).im === (arg as GoComplex).im
          break
        default: {
          const ka = isNilish(arg1) ? 'invalid' : kindOf(arg1)
          const kb = isNilish(arg) ? 'invalid' : kindOf(arg)
          if (ka !== kb && ka !== 'invalid' && kb !== 'invalid') {
            throw new Error(
              `non-comparable types ${formatValue(arg1)}: ${typeName(arg1)}, ${typeName(arg)}: ${formatValue(arg)}`,
            )
          }
          if (isNilish(arg1) || isNilish(arg)) {
            truth = isNilish(arg1) === isNilish(arg)
          } else {
            if (!comparable(arg)) throw new Error(`non-comparable type ${formatValue(arg)}: ${typeName(arg)}`)
            truth = arg1 === arg
          }
        }
      }
    }
    if (truth) return true
  }
  return false
}

function lt(arg1: unknown, arg2: unknown): boolean {
  const k1 = basicKind(arg1)
  if (k1 === 'invalid') throw new Error('invalid type for comparison')
  const k2 = basicKind(arg2)
  if (k2 === 'invalid') throw new Error('invalid type for comparison')
  if (k1 !== k2) throw new Error(`incompatible types for comparison: ${typeName(arg1)} and ${typeName(arg2)}`)
  switch (k1) {
    case 'bool':
    case 'complex':
      throw new Error('invalid type for comparison')
    case 'string':
      return compareStrings(arg1 as string, arg2 as string) < 0
    default:
      return (arg1 as number) < (arg2 as number)
  }
}

function le(a: unknown, b: unknown): boolean {
  return lt(a, b) || eq(a, b)
}

// ---------------------------------------------------------------------------------------------
// Escapers

/** evalArgs: a lone string as is, else fmt.Sprint with missing values shown as <no value>. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0]
  return sprint(...args.map((a) => (a === undefined ? '<no value>' : a)))
}

/** template.HTMLEscapeString. */
export function htmlEscape(s: string): string {
  if (!/['"&<>\0]/.test(s)) return s
  return s.replace(/['"&<>\0]/g, (c) =>
    c === '\0' ? '\uFFFD' : c === '"' ? '&#34;' : c === "'" ? '&#39;' : c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;',
  )
}

/** template.JSEscapeString. */
export function jsEscape(s: string): string {
  let out = ''
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    switch (ch) {
      case '\\':
        out += '\\\\'
        continue
      case "'":
        out += "\\'"
        continue
      case '"':
        out += '\\"'
        continue
      case '<':
        out += '\\u003C'
        continue
      case '>':
        out += '\\u003E'
        continue
      case '&':
        out += '\\u0026'
        continue
      case '=':
        out += '\\u003D'
        continue
    }
    if (cp < 0x20) out += '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0')
    else if (cp < 0x80 || isPrint(cp)) out += ch
    else out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0')
  }
  return out
}

/** url.QueryEscape. */
export function urlQueryEscape(s: string): string {
  let out = ''
  for (const b of utf8(s)) {
    if (
      (b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      b === 0x2d ||
      b === 0x5f ||
      b === 0x2e ||
      b === 0x7e
    ) {
      out += String.fromCharCode(b)
    } else if (b === 0x20) {
      out += '+'
    } else {
      out += '%' + b.toString(16).toUpperCase().padStart(2, '0')
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// JSON (encoding/json with SetEscapeHTML(false))

function jsonString(s: string): string {
  let out = JSON.stringify(s)
  // Go escapes U+2028/U+2029 and replaces invalid UTF-16 (lone surrogates) with U+FFFD.
  if (/[\u2028\u2029]/.test(out)) out = out.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
  if (out.includes('\\ud') || out.includes('\\uD')) {
    out = out.replace(/(\\+)u(d[89a-f][0-9a-f]{2})/gi, (m, bs: string) => (bs.length % 2 === 1 ? bs.slice(1) + '\\ufffd' : m))
  }
  return out
}

class JSONError extends Error {}

function encodeJSON(v: unknown, depth: number): string | undefined {
  if (depth > 1000) throw new JSONError('json: unsupported value: encountered a cycle')
  switch (typeof v) {
    case 'undefined':
      return 'null'
    case 'string':
      return jsonString(v)
    case 'boolean':
      return v ? 'true' : 'false'
    case 'bigint':
      return v.toString()
    case 'number':
      if (!Number.isFinite(v)) throw new JSONError(`json: unsupported value: ${formatValue(v)}`)
      return Object.is(v, -0) ? '-0' : Number.isInteger(v) && Math.abs(v) < 1e21 ? BigInt(v).toString() : String(v)
    case 'function':
      throw new JSONError('json: unsupported type: func()')
    case 'symbol':
      return 'null'
  }
  if (v === null) return 'null'
  const o = v as object
  if (o instanceof Date) return jsonString(goTimeRFC3339(o))
  if (o instanceof Uint8Array) return jsonString(Buffer.from(o).toString('base64'))
  if (o instanceof GoComplex) throw new JSONError('json: unsupported type: complex128')
  const toJSON = (o as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') return encodeJSON((toJSON as () => unknown).call(o), depth + 1)
  if (Array.isArray(o)) {
    return '[' + o.map((e) => (typeof e === 'function' ? 'null' : encodeJSON(e, depth + 1))).join(',') + ']'
  }
  if (o instanceof Map) {
    const parts: string[] = []
    for (const [k, val] of sortedEntries(o)) {
      if (typeof val === 'function') continue
      parts.push(jsonString(String(k)) + ':' + encodeJSON(val, depth + 1))
    }
    return '{' + parts.join(',') + '}'
  }
  const parts: string[] = []
  for (const k of Object.keys(o)) {
    const val = (o as Record<string, unknown>)[k]
    if (val === undefined || typeof val === 'function' || typeof val === 'symbol') continue
    parts.push(jsonString(k) + ':' + encodeJSON(val, depth + 1))
  }
  return '{' + parts.join(',') + '}'
}

/**
 * Go's encoding/json (compact, no HTML escaping) for the value model. Maps (`Map`) are written
 * with sorted keys; plain objects keep their property order (they stand for the engine's API
 * structs, whose field order JSON preserves); function-valued properties are skipped; an object
 * with `toJSON` is encoded through it; Dates are RFC 3339 strings. Throws on NaN/Infinity.
 */
export function marshalJSON(v: unknown): string {
  return encodeJSON(v, 0) ?? 'null'
}

/** docker's `json` template function: the JSON, or "" when the value cannot be encoded. */
export function dockerJSON(v: unknown): string {
  try {
    return marshalJSON(v)
  } catch (err) {
    if (err instanceof JSONError) return ''
    throw err
  }
}

// ---------------------------------------------------------------------------------------------
// strings

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false
  return true
}

/** Maps each code point through a simple (one-to-one) case mapping, as Go's unicode does. */
function mapRunes(s: string, f: (ch: string) => string): string {
  let out = ''
  for (const ch of s) {
    const m = f(ch)
    out += [...m].length === 1 ? m : ch
  }
  return out
}

/** strings.ToLower. */
export function goLower(s: string): string {
  return isAscii(s) ? s.toLowerCase() : mapRunes(s, (c) => c.toLowerCase())
}

/** strings.ToUpper. */
export function goUpper(s: string): string {
  return isAscii(s) ? s.toUpperCase() : mapRunes(s, (c) => c.toUpperCase())
}

const letterOrDigit = /^[\p{L}\p{Nd}]$/u
const spaceRe = /^\s$/u

function isSeparator(ch: string): boolean {
  const cp = ch.codePointAt(0)!
  if (cp <= 0x7f) return !/[0-9A-Za-z_]/.test(ch)
  if (letterOrDigit.test(ch)) return false
  return spaceRe.test(ch)
}

/** strings.Title: upper-cases the first letter of every word. */
export function goTitle(s: string): string {
  let prev = ' '
  let out = ''
  for (const ch of s) {
    if (isSeparator(prev)) {
      const u = ch.toUpperCase()
      out += [...u].length === 1 ? u : ch
    } else {
      out += ch
    }
    prev = ch
  }
  return out
}

/** strings.Split. */
export function goSplit(s: string, sep: string): string[] {
  if (sep === '') return Array.from(s)
  return s.split(sep)
}

/** docker's padWithSpace (the `pad` template function): pads a non-empty string with spaces. */
export function padWithSpace(source: string, prefix: number, suffix: number): string {
  if (source === '') return source
  if (prefix < 0 || suffix < 0) throw new Error('strings: negative Repeat count')
  return ' '.repeat(prefix) + source + ' '.repeat(suffix)
}

/** docker's truncateWithLength (the `truncate` template function): keeps the first length bytes. */
export function truncateWithLength(source: string, length: number): string {
  const b = utf8(source)
  if (b.length < length) return source
  if (length < 0) throw new Error(`runtime error: slice bounds out of range [:${length}]`)
  return b.subarray(0, length).toString('utf8')
}

// ---------------------------------------------------------------------------------------------
// The function maps

const num = (v: number | bigint): number => Number(v)

/** Go's builtin template functions. `and`, `or` and `call` are special-cased by the executor. */
export const builtins: Readonly<Record<string, GoFunc>> = {
  and: goFunc(['value'], () => undefined, 'value'),
  or: goFunc(['value'], () => undefined, 'value'),
  call: goFunc(['value'], call, 'value'),
  html: goFunc([], (...args: unknown[]) => htmlEscape(evalArgs(args)), 'any'),
  index: goFunc(['value'], index, 'value'),
  slice: goFunc(['value'], slice, 'value'),
  js: goFunc([], (...args: unknown[]) => jsEscape(evalArgs(args)), 'any'),
  len: goFunc(['value'], length),
  not: goFunc(['value'], (v: unknown) => !isTrue(v)),
  print: goFunc([], sprint, 'any'),
  printf: goFunc(['string'], sprintf, 'any'),
  println: goFunc([], sprintln, 'any'),
  urlquery: goFunc([], (...args: unknown[]) => urlQueryEscape(evalArgs(args)), 'any'),
  eq: goFunc(['value'], eq, 'value'),
  ge: goFunc(['value', 'value'], (a: unknown, b: unknown) => !lt(a, b)),
  gt: goFunc(['value', 'value'], (a: unknown, b: unknown) => !le(a, b)),
  le: goFunc(['value', 'value'], le),
  lt: goFunc(['value', 'value'], lt),
  ne: goFunc(['value', 'value'], (a: unknown, b: unknown) => !eq(a, b)),
}

/** docker/cli templates.basicFunctions: the functions every docker --format template gets. */
export const dockerFuncs: Readonly<Record<string, GoFunc>> = {
  json: goFunc(['any'], dockerJSON),
  split: goFunc(['string', 'string'], goSplit),
  join: goFunc(['strings', 'string'], (a: string[], sep: string) => a.join(sep)),
  title: goFunc(['string'], goTitle),
  lower: goFunc(['string'], goLower),
  upper: goFunc(['string'], goUpper),
  pad: goFunc(['string', 'int', 'int'], (s: string, p: number | bigint, q: number | bigint) => padWithSpace(s, num(p), num(q))),
  truncate: goFunc(['string', 'int'], (s: string, n: number | bigint) => truncateWithLength(s, num(n))),
}

const identity = (v: string): string => v

/**
 * docker/cli templates.HeaderFunctions: replace the basic functions while a table's header row
 * is rendered, so the headings come out intact (`pad` is deliberately not replaced, to keep the
 * columns aligned).
 */
export const headerFuncs: Readonly<Record<string, GoFunc>> = {
  json: goFunc(['string'], identity),
  split: goFunc(['string', 'string'], identity),
  join: goFunc(['string', 'string'], identity),
  title: goFunc(['string'], identity),
  lower: goFunc(['string'], identity),
  upper: goFunc(['string'], identity),
  truncate: goFunc(['string', 'int'], identity),
}

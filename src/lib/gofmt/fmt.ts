/**
 * The parts of Go's fmt and strconv packages that templates reach: Sprint, Sprintln, Sprintf
 * (flags, width, precision, argument indexes, every verb that applies to the value model in
 * values.ts, and Go's `%!verb(type=value)` complaints), plus strconv's Quote/Unquote and float
 * formatting (correctly rounded, ties to even, as Go does). lib/units formats sizes with it; the
 * CLI's template engine (cli/gotemplate) is built on it.
 */
import { Buffer } from 'node:buffer'
import {
  GoComplex,
  kindOf,
  sortedEntries,
  stringerOf,
  structFields,
  typeName,
} from './values.js'

// ---------------------------------------------------------------------------------------------
// Unicode and quoting (strconv)

const printRe = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f
  if (cp >= 0xd800 && cp <= 0xdfff) return false
  if (cp > 0x10ffff) return false
  return printRe.test(String.fromCodePoint(cp))
}

/** utf8.RuneCountInString, counting a lone surrogate as one (replacement) rune. */
export function runeCount(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    n++
  }
  return n
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0')
}

function escapeRune(cp: number, q: string, asciiOnly: boolean): string {
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd
  const ch = String.fromCodePoint(cp)
  if (ch === q || ch === '\\') return '\\' + ch
  if (asciiOnly) {
    if (cp < 0x80 && isPrint(cp)) return ch
  } else if (isPrint(cp)) {
    return ch
  }
  switch (cp) {
    case 7:
      return '\\a'
    case 8:
      return '\\b'
    case 12:
      return '\\f'
    case 10:
      return '\\n'
    case 13:
      return '\\r'
    case 9:
      return '\\t'
    case 11:
      return '\\v'
  }
  if (cp < 0x20 || cp === 0x7f) return '\\x' + hex(cp, 2)
  if (cp < 0x10000) return '\\u' + hex(cp, 4)
  return '\\U' + hex(cp, 8)
}

/** strconv.Quote (or QuoteToASCII when asciiOnly). */
export function quote(s: string, asciiOnly = false): string {
  let out = '"'
  for (const ch of s) out += escapeRune(ch.codePointAt(0)!, '"', asciiOnly)
  return out + '"'
}

/** strconv.QuoteRune (or QuoteRuneToASCII). */
export function quoteRune(cp: number, asciiOnly = false): string {
  if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd
  return "'" + escapeRune(cp, "'", asciiOnly) + "'"
}

/** strconv.CanBackquote. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    if (cp === 0xfeff || (cp >= 0xd800 && cp <= 0xdfff)) return false
    if ((cp < 0x20 && cp !== 9) || cp === 0x60 || cp === 0x7f) return false
  }
  return true
}

export class QuoteSyntaxError extends Error {
  constructor() {
    super('invalid syntax')
    this.name = 'QuoteSyntaxError'
  }
}

function pushUtf8(out: number[], cp: number): void {
  if (cp < 0x80) out.push(cp)
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f))
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
}

const simpleEscapes: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 0x5c }

/**
 * Decodes one (possibly escaped) character of a quoted literal starting at s[i]. Returns the
 * bytes it stands for and the index after it. Byte escapes (\x, octal) yield raw bytes.
 */
function unquoteChar(s: string, i: number, q: string, out: number[]): number {
  const c = s[i]!
  if (c === q && (q === "'" || q === '"')) throw new QuoteSyntaxError()
  if (c !== '\\') {
    const cp = s.codePointAt(i)!
    pushUtf8(out, cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp)
    return i + (cp > 0xffff ? 2 : 1)
  }
  if (i + 1 >= s.length) throw new QuoteSyntaxError()
  const e = s[i + 1]!
  i += 2
  const simple = simpleEscapes[e]
  if (simple !== undefined) {
    out.push(simple)
    return i
  }
  switch (e) {
    case 'x':
    case 'u':
    case 'U': {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8
      const digits = s.slice(i, i + n)
      if (digits.length < n || !/^[0-9a-fA-F]+$/.test(digits)) throw new QuoteSyntaxError()
      const v = parseInt(digits, 16)
      if (e === 'x') {
        out.push(v)
      } else {
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new QuoteSyntaxError()
        pushUtf8(out, v)
      }
      return i + n
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      const digits = s.slice(i - 1, i + 2)
      if (digits.length < 3 || !/^[0-7]{3}$/.test(digits)) throw new QuoteSyntaxError()
      const v = parseInt(digits, 8)
      if (v > 255) throw new QuoteSyntaxError()
      out.push(v)
      return i + 2
    }
    case "'":
    case '"':
      if (e !== q) throw new QuoteSyntaxError()
      out.push(e.charCodeAt(0))
      return i
  }
  throw new QuoteSyntaxError()
}

/** strconv.Unquote for "...", `...` and '.' literals. Throws SyntaxError ("invalid syntax"). */
export function unquote(s: string): string {
  const n = s.length
  if (n < 2) throw new QuoteSyntaxError()
  const q = s[0]!
  if (q !== s[n - 1]) throw new QuoteSyntaxError()
  const body = s.slice(1, n - 1)
  if (q === '`') {
    if (body.includes('`')) throw new QuoteSyntaxError()
    return body.includes('\r') ? body.replaceAll('\r', '') : body
  }
  if (q !== '"' && q !== "'") throw new QuoteSyntaxError()
  if (body.includes('\n')) throw new QuoteSyntaxError()
  if (!body.includes('\\') && !body.includes(q)) {
    if (q === '"') return body
    if (runeCount(body) === 1) return body
  }
  const bytes: number[] = []
  let i = 0
  let count = 0
  while (i < body.length) {
    i = unquoteChar(body, i, q, bytes)
    count++
    if (q === "'" && count > 1) throw new QuoteSyntaxError()
  }
  if (q === "'" && count !== 1) throw new QuoteSyntaxError()
  return Buffer.from(bytes).toString('utf8')
}

/**
 * strconv.UnquoteChar: decodes the (possibly escaped) character at s[i] inside a literal quoted
 * with q. Returns its value (a byte for \x and octal escapes, else a code point) and the index
 * after it. Throws QuoteSyntaxError.
 */
export function unquoteCharAt(s: string, i: number, q: string): { value: number; next: number } {
  if (i >= s.length) throw new QuoteSyntaxError()
  const bytes: number[] = []
  const next = unquoteChar(s, i, q, bytes)
  if (bytes.length === 1) return { value: bytes[0]!, next }
  return { value: Buffer.from(bytes).toString('utf8').codePointAt(0)!, next }
}

// ---------------------------------------------------------------------------------------------
// Float formatting (strconv.FormatFloat)

interface Decimal {
  d: string // significant digits, no leading or trailing zeros ("" for zero)
  dp: number // decimal point position: value = 0.d * 10^dp
}

const f64 = new DataView(new ArrayBuffer(8))

function floatBits(x: number): { mant: bigint; exp: number; denormal: boolean } {
  f64.setFloat64(0, x)
  const bits = f64.getBigUint64(0)
  const mant = bits & 0xfffffffffffffn
  const be = Number((bits >> 52n) & 0x7ffn)
  if (be === 0) return { mant, exp: -1074, denormal: true }
  return { mant: mant | (1n << 52n), exp: be - 1075, denormal: false }
}

function trimZeros(d: string, dp: number): Decimal {
  let end = d.length
  while (end > 0 && d.charCodeAt(end - 1) === 48) end--
  if (end === 0) return { d: '', dp: 0 }
  return { d: d.slice(0, end), dp }
}

/** The exact decimal expansion of a positive finite double. */
function exactDecimal(x: number): Decimal {
  const { mant, exp } = floatBits(x)
  if (exp >= 0) {
    const d = (mant << BigInt(exp)).toString()
    return trimZeros(d, d.length)
  }
  const k = -exp
  const d = (mant * 5n ** BigInt(k)).toString()
  return trimZeros(d, d.length - k)
}

/** The shortest decimal that round-trips (JavaScript and Go agree on these digits). */
function shortestDecimal(x: number): Decimal {
  const s = x.toExponential()
  const e = s.indexOf('e')
  const digits = s.slice(0, e).replace('.', '')
  return trimZeros(digits, Number(s.slice(e + 1)) + 1)
}

function roundDecimal(a: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= a.d.length) return a
  const c = a.d.charCodeAt(nd)
  let up: boolean
  if (c === 53 /* '5' */ && nd + 1 === a.d.length) {
    up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1 // exactly halfway: round to even
  } else {
    up = c >= 53
  }
  if (!up) return trimZeros(a.d.slice(0, nd), a.dp)
  let i = nd - 1
  while (i >= 0 && a.d[i] === '9') i--
  if (i < 0) return { d: '1', dp: a.dp + 1 }
  return { d: a.d.slice(0, i) + String.fromCharCode(a.d.charCodeAt(i) + 1), dp: a.dp }
}

function fmtE(neg: boolean, d: Decimal, prec: number, e: string): string {
  let out = neg ? '-' : ''
  const nd = d.d.length
  out += nd ? d.d[0] : '0'
  if (prec > 0) {
    out += '.'
    let i = 1
    const m = Math.min(nd, prec + 1)
    if (i < m) {
      out += d.d.slice(i, m)
      i = m
    }
    for (; i <= prec; i++) out += '0'
  }
  out += e
  let exp = nd === 0 ? 0 : d.dp - 1
  if (exp < 0) {
    out += '-'
    exp = -exp
  } else {
    out += '+'
  }
  return out + (exp < 10 ? '0' + exp : String(exp))
}

function fmtF(neg: boolean, d: Decimal, prec: number): string {
  let out = neg ? '-' : ''
  const nd = d.d.length
  if (d.dp > 0) {
    const m = Math.min(nd, d.dp)
    out += d.d.slice(0, m)
    for (let i = m; i < d.dp; i++) out += '0'
  } else {
    out += '0'
  }
  if (prec > 0) {
    out += '.'
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1
      out += j >= 0 && j < nd ? d.d[j] : '0'
    }
  }
  return out
}

function fmtX(neg: boolean, x: number, upper: boolean): string {
  let mant: bigint
  let exp: number
  if (x === 0) {
    mant = 0n
    exp = 0
  } else {
    const b = floatBits(x)
    mant = b.mant
    exp = b.exp + 52
    if (b.denormal) exp = -1022
  }
  const mask = (1n << 64n) - 1n
  mant = (mant << 8n) & mask
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant = (mant << 1n) & mask
    exp--
  }
  const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef'
  let out = (neg ? '-' : '') + '0' + (upper ? 'X' : 'x') + String((mant >> 60n) & 1n)
  mant = (mant << 4n) & mask
  if (mant !== 0n) {
    out += '.'
    while (mant !== 0n) {
      out += digits[Number((mant >> 60n) & 15n)]
      mant = (mant << 4n) & mask
    }
  }
  out += upper ? 'P' : 'p'
  if (exp < 0) {
    out += '-'
    exp = -exp
  } else {
    out += '+'
  }
  return out + (exp < 10 ? '0' + exp : String(exp))
}

function fmtB(neg: boolean, x: number): string {
  if (x === 0) return (neg ? '-' : '') + '0p-1074'
  const { mant, exp } = floatBits(x)
  return (neg ? '-' : '') + mant.toString() + 'p' + (exp >= 0 ? '+' : '-') + Math.abs(exp)
}

/**
 * strconv.FormatFloat(x, fmt, prec, 64) for fmt in e E f F g G x X b; prec < 0 asks for the
 * shortest representation that round-trips.
 */
export function formatFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return '+Inf'
  if (x === -Infinity) return '-Inf'
  const neg = x < 0 || Object.is(x, -0)
  const a = Math.abs(x)
  if (fmt === 'x' || fmt === 'X') return fmtX(neg, a, fmt === 'X')
  if (fmt === 'b') return fmtB(neg, a)
  if (fmt === 'F') fmt = 'f'
  const shortest = prec < 0
  let d: Decimal = a === 0 ? { d: '', dp: 0 } : shortest ? shortestDecimal(a) : exactDecimal(a)
  if (shortest) {
    if (fmt === 'e' || fmt === 'E') prec = Math.max(d.d.length - 1, 0)
    else if (fmt === 'f') prec = Math.max(d.d.length - d.dp, 0)
    else prec = d.d.length
  } else if (fmt === 'e' || fmt === 'E') {
    d = roundDecimal(d, prec + 1)
  } else if (fmt === 'f') {
    d = roundDecimal(d, d.dp + prec)
  } else {
    if (prec === 0) prec = 1
    d = roundDecimal(d, prec)
  }
  if (fmt === 'e' || fmt === 'E') return fmtE(neg, d, prec, fmt)
  if (fmt === 'f') return fmtF(neg, d, prec)
  // %g, %G
  const nd = d.d.length
  let eprec = prec
  if (eprec > nd && nd >= d.dp) eprec = nd
  if (shortest) eprec = 6
  const exp = d.dp - 1
  if (exp < -4 || exp >= eprec) {
    if (prec > nd) prec = nd
    return fmtE(neg, d, prec - 1, fmt === 'g' ? 'e' : 'E')
  }
  if (prec > d.dp) prec = nd
  return fmtF(neg, d, Math.max(prec - d.dp, 0))
}

// ---------------------------------------------------------------------------------------------
// The printer (fmt.pp)

const INT_LIMIT = 9223372036854775808 // 2^63: integers beyond int64 are printed as floats

function isGoInt(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < INT_LIMIT)
}

class Printer {
  buf = ''
  plus = false
  minus = false
  sharp = false
  space = false
  zero = false
  plusV = false
  sharpV = false
  wid = 0
  widPresent = false
  prec = 0
  precPresent = false
  erroring = false

  clearFlags(): void {
    this.plus = this.minus = this.sharp = this.space = this.zero = false
    this.plusV = this.sharpV = false
    this.wid = this.prec = 0
    this.widPresent = this.precPresent = false
  }

  writePadding(n: number): void {
    if (n <= 0) return
    this.buf += (this.zero && !this.minus ? '0' : ' ').repeat(n)
  }

  pad(s: string): void {
    if (!this.widPresent || this.wid === 0) {
      this.buf += s
      return
    }
    const width = this.wid - runeCount(s)
    if (!this.minus) {
      this.writePadding(width)
      this.buf += s
    } else {
      this.buf += s
      this.writePadding(width)
    }
  }

  padNoZero(s: string): void {
    const oldZero = this.zero
    this.zero = false
    this.pad(s)
    this.zero = oldZero
  }

  truncate(s: string): string {
    if (this.precPresent) {
      let n = this.prec
      let i = 0
      for (const ch of s) {
        n--
        if (n < 0) return s.slice(0, i)
        i += ch.length
      }
    }
    return s
  }

  fmtS(s: string): void {
    this.pad(this.truncate(s))
  }

  fmtSbx(bytes: Uint8Array, upper: boolean): void {
    const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef'
    let length = bytes.length
    if (this.precPresent && this.prec < length) length = this.prec
    let width = 2 * length
    if (width > 0) {
      if (this.space) {
        if (this.sharp) width *= 2
        width += length - 1
      } else if (this.sharp) {
        width += 2
      }
    } else {
      if (this.widPresent) this.writePadding(this.wid)
      return
    }
    if (this.widPresent && this.wid > width && !this.minus) this.writePadding(this.wid - width)
    const x = upper ? 'X' : 'x'
    let out = this.sharp ? '0' + x : ''
    for (let i = 0; i < length; i++) {
      if (this.space && i > 0) {
        out += ' '
        if (this.sharp) out += '0' + x
      }
      const c = bytes[i]!
      out += digits[c >> 4]! + digits[c & 15]!
    }
    this.buf += out
    if (this.widPresent && this.wid > width && this.minus) this.writePadding(this.wid - width)
  }

  fmtQ(s: string): void {
    s = this.truncate(s)
    if (this.sharp && canBackquote(s)) {
      this.pad('`' + s + '`')
      return
    }
    this.pad(quote(s, this.plus))
  }

  fmtString(s: string, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.sharpV) this.fmtQ(s)
        else this.fmtS(s)
        return
      case 's':
        this.fmtS(s)
        return
      case 'x':
      case 'X':
        this.fmtSbx(Buffer.from(s, 'utf8'), verb === 'X')
        return
      case 'q':
        this.fmtQ(s)
        return
    }
    this.badVerb(verb, s)
  }

  fmtBool(v: boolean, verb: string): void {
    if (verb === 't' || verb === 'v') this.pad(v ? 'true' : 'false')
    else this.badVerb(verb, v)
  }

  fmtInteger(v: number | bigint, base: number, verb: string, upper: boolean): void {
    const negative = v < 0
    const big = typeof v === 'bigint' || !Number.isSafeInteger(v)
    const u: number | bigint = big ? (negative ? -BigInt(v) : BigInt(v)) : Math.abs(v as number)
    let digits = u.toString(base)
    if (upper) digits = digits.toUpperCase()
    let prec = 0
    if (this.precPresent) {
      prec = this.prec
      if (prec === 0 && (u === 0 || u === 0n)) {
        const oldZero = this.zero
        this.zero = false
        this.writePadding(this.wid)
        this.zero = oldZero
        return
      }
    } else if (this.zero && !this.minus && this.widPresent) {
      prec = this.wid
      if (negative || this.plus || this.space) prec--
    }
    if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits
    if (this.sharp) {
      if (base === 2) digits = '0b' + digits
      else if (base === 8 && digits[0] !== '0') digits = '0' + digits
      else if (base === 16) digits = (upper ? '0X' : '0x') + digits
    }
    if (verb === 'O') digits = '0o' + digits
    if (negative) digits = '-' + digits
    else if (this.plus) digits = '+' + digits
    else if (this.space) digits = ' ' + digits
    this.padNoZero(digits)
  }

  fmtUnicode(v: number | bigint): void {
    const u = typeof v === 'bigint' ? BigInt.asUintN(64, v) : BigInt.asUintN(64, BigInt(v))
    let prec = 4
    if (this.precPresent && this.prec > 4) prec = this.prec
    let s = 'U+' + u.toString(16).toUpperCase().padStart(prec, '0')
    if (this.sharp && u <= 0x10ffffn && isPrint(Number(u))) s += " '" + String.fromCodePoint(Number(u)) + "'"
    this.padNoZero(s)
  }

  runeOf(v: number | bigint): number {
    const n = typeof v === 'bigint' ? (v >= 0n && v <= 0x10ffffn ? Number(v) : -1) : v
    if (n < 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return 0xfffd
    return n
  }

  fmtIntVerb(v: number | bigint, verb: string): void {
    switch (verb) {
      case 'v':
      case 'd':
        this.fmtInteger(v, 10, verb, false)
        return
      case 'b':
        this.fmtInteger(v, 2, verb, false)
        return
      case 'o':
      case 'O':
        this.fmtInteger(v, 8, verb, false)
        return
      case 'x':
        this.fmtInteger(v, 16, verb, false)
        return
      case 'X':
        this.fmtInteger(v, 16, verb, true)
        return
      case 'c':
        this.pad(String.fromCodePoint(this.runeOf(v)))
        return
      case 'q':
        this.pad(quoteRune(this.runeOf(v), this.plus))
        return
      case 'U':
        this.fmtUnicode(v)
        return
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        this.fmtFloat(Number(v), verb)
        return
    }
    this.badVerb(verb, v)
  }

  fmtFloat(v: number, verb: string): void {
    switch (verb) {
      case 'v':
        this.fmtFloatCore(v, 'g', -1)
        return
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        this.fmtFloatCore(v, verb, -1)
        return
      case 'f':
      case 'e':
      case 'E':
      case 'F':
        this.fmtFloatCore(v, verb, 6)
        return
    }
    this.badVerb(verb, v)
  }

  fmtFloatCore(v: number, verb: string, prec: number): void {
    if (this.precPresent) prec = this.prec
    let num = formatFloat(v, verb, verb === 'b' ? -1 : prec)
    if (num[0] !== '-' && num[0] !== '+') num = '+' + num
    if (this.space && num[0] === '+' && !this.plus) num = ' ' + num.slice(1)
    if (num[1] === 'I' || num[1] === 'N') {
      if (num[1] === 'N' && !this.space && !this.plus) num = num.slice(1)
      this.padNoZero(num)
      return
    }
    if (this.sharp && verb !== 'b') {
      let digits = 0
      if (verb === 'v' || verb === 'g' || verb === 'G' || verb === 'x') digits = prec === -1 ? 6 : prec
      let tail = ''
      let hasDecimalPoint = false
      let sawNonzero = false
      let body = num
      for (let i = 1; i < body.length; i++) {
        const c = body[i]!
        if (c === '.') {
          hasDecimalPoint = true
        } else if (c === 'p' || c === 'P' || ((c === 'e' || c === 'E') && verb !== 'x' && verb !== 'X')) {
          tail = body.slice(i)
          body = body.slice(0, i)
          break
        } else {
          if (c !== '0') sawNonzero = true
          if (sawNonzero) digits--
        }
      }
      if (!hasDecimalPoint) {
        if (body.length === 2 && body[1] === '0') digits--
        body += '.'
      }
      while (digits > 0) {
        body += '0'
        digits--
      }
      num = body + tail
    }
    if (this.plus || num[0] !== '+') {
      if (this.zero && !this.minus && this.widPresent && this.wid > num.length) {
        this.buf += num[0]
        this.writePadding(this.wid - num.length)
        this.buf += num.slice(1)
        return
      }
      this.pad(num)
      return
    }
    this.pad(num.slice(1))
  }

  fmtComplex(v: GoComplex, verb: string): void {
    switch (verb) {
      case 'v':
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
      case 'f':
      case 'F':
      case 'e':
      case 'E': {
        const oldPlus = this.plus
        this.buf += '('
        this.fmtFloat(v.re, verb)
        this.plus = true
        this.fmtFloat(v.im, verb)
        this.buf += 'i)'
        this.plus = oldPlus
        return
      }
    }
    this.badVerb(verb, v)
  }

  fmtBytes(v: Uint8Array, verb: string, depth: number): void {
    if (verb === 'v' || verb === 'd') {
      this.buf += this.sharpV ? '[]byte{' : '['
      for (let i = 0; i < v.length; i++) {
        if (i > 0) this.buf += this.sharpV ? ', ' : ' '
        if (this.sharpV) this.buf += '0x' + v[i]!.toString(16)
        else this.printArg(v[i], 'v', depth + 1)
      }
      this.buf += this.sharpV ? '}' : ']'
      return
    }
    switch (verb) {
      case 's':
        this.fmtS(Buffer.from(v).toString('utf8'))
        return
      case 'x':
      case 'X':
        this.fmtSbx(v, verb === 'X')
        return
      case 'q':
        this.fmtQ(Buffer.from(v).toString('utf8'))
        return
    }
    this.badVerb(verb, v)
  }

  badVerb(verb: string, arg: unknown): void {
    this.erroring = true
    this.buf += '%!' + verb + '('
    if (arg !== undefined && arg !== null) {
      this.buf += typeName(arg) + '='
      this.printArg(arg, 'v', 0)
    } else {
      this.buf += '<nil>'
    }
    this.buf += ')'
    this.erroring = false
  }

  handleMethods(arg: object, verb: string, depth: number): boolean {
    if (this.erroring || this.sharpV) return false
    if (verb !== 'v' && verb !== 's' && verb !== 'x' && verb !== 'X' && verb !== 'q') return false
    const str = stringerOf(arg)
    if (!str) return false
    let s: string
    try {
      s = str()
    } catch (err) {
      this.clearFlags()
      this.buf += `%!${verb}(PANIC=${arg instanceof Error ? 'Error' : 'String'} method: ${(err as Error)?.message ?? String(err)})`
      return true
    }
    this.printArg(s, verb, depth)
    return true
  }

  /** printArg (depth 0) and printValue (nested): nested nils print as <nil> whatever the verb. */
  printArg(arg: unknown, verb: string, depth: number): void {
    if (arg === undefined || arg === null) {
      if (depth > 0) this.buf += this.sharpV ? 'interface {}(nil)' : '<nil>'
      else if (verb === 'T' || verb === 'v') this.pad('<nil>')
      else this.badVerb(verb, arg)
      return
    }
    if (verb === 'T') {
      this.fmtS(typeName(arg))
      return
    }
    if (verb === 'p' && typeof arg !== 'function') {
      this.badVerb(verb, arg)
      return
    }
    switch (typeof arg) {
      case 'boolean':
        this.fmtBool(arg, verb)
        return
      case 'number':
        if (isGoInt(arg)) this.fmtIntVerb(arg, verb)
        else this.fmtFloat(arg, verb)
        return
      case 'bigint':
        this.fmtIntVerb(arg, verb)
        return
      case 'string':
        this.fmtString(arg, verb)
        return
      case 'function':
        // Go prints a func value as its address; there is none to show here.
        if (verb === 'v' || verb === 'p') this.pad('0x0')
        else this.badVerb(verb, arg)
        return
      case 'symbol':
        this.fmtString(String(arg), verb)
        return
    }
    const o = arg as object
    if (o instanceof GoComplex) {
      this.fmtComplex(o, verb)
      return
    }
    if (o instanceof Uint8Array) {
      this.fmtBytes(o, verb, depth)
      return
    }
    if (this.handleMethods(o, verb, depth)) return
    switch (kindOf(o)) {
      case 'slice': {
        const a = o as unknown[]
        this.buf += this.sharpV ? typeName(a) + '{' : '['
        for (let i = 0; i < a.length; i++) {
          if (i > 0) this.buf += this.sharpV ? ', ' : ' '
          this.printArg(a[i], verb, depth + 1)
        }
        this.buf += this.sharpV ? '}' : ']'
        return
      }
      case 'map': {
        this.buf += this.sharpV ? typeName(o) + '{' : 'map['
        let first = true
        for (const [k, v] of sortedEntries(o)) {
          if (!first) this.buf += this.sharpV ? ', ' : ' '
          first = false
          this.printArg(k, verb, depth + 1)
          this.buf += ':'
          this.printArg(v, verb, depth + 1)
        }
        this.buf += this.sharpV ? '}' : ']'
        return
      }
      default: {
        const tn = typeName(o)
        if (this.sharpV) this.buf += tn.startsWith('*') ? '&' + tn.slice(1) : tn
        else if (depth === 0 && tn.startsWith('*')) this.buf += '&'
        this.buf += '{'
        let first = true
        for (const [name, v] of structFields(o)) {
          if (!first) this.buf += this.sharpV ? ', ' : ' '
          first = false
          if (this.plusV || this.sharpV) this.buf += name + ':'
          this.printArg(v, verb, depth + 1)
        }
        this.buf += '}'
      }
    }
  }

  doPrint(args: readonly unknown[], addSpace: boolean, addNewline: boolean): void {
    let prevString = false
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]
      const isString = typeof arg === 'string'
      if (i > 0 && (addSpace || (!isString && !prevString))) this.buf += ' '
      this.clearFlags()
      this.printArg(arg, 'v', 0)
      prevString = isString
    }
    if (addNewline) this.buf += '\n'
  }

  doPrintf(format: string, a: readonly unknown[]): void {
    const end = format.length
    let argNum = 0
    let afterIndex = false
    let reordered = false
    let goodArgNum = true

    const parsenum = (start: number): [number, boolean, number] => {
      let num = 0
      let isnum = false
      let i = start
      while (i < end) {
        const c = format.charCodeAt(i)
        if (c < 48 || c > 57) break
        if (num > 1e6) return [0, false, end]
        num = num * 10 + (c - 48)
        isnum = true
        i++
      }
      return [num, isnum, i]
    }
    const argNumber = (i: number): number => {
      if (i >= end || format[i] !== '[') {
        afterIndex = false
        return i
      }
      reordered = true
      for (let j = 1; i + j < end; j++) {
        if (format[i + j] === ']') {
          const [width, ok, newi] = parsenum(i + 1)
          if (!ok || newi !== i + j) {
            goodArgNum = false
            afterIndex = true
            return i + j + 1
          }
          const index = width - 1
          if (index >= 0 && index < a.length) {
            argNum = index
          } else {
            goodArgNum = false
          }
          afterIndex = true
          return i + j + 1
        }
      }
      goodArgNum = false
      afterIndex = true
      return i + 1
    }
    const intFromArg = (): [number, boolean] => {
      if (argNum < a.length) {
        const v = a[argNum]
        argNum++
        if (isGoInt(v)) {
          const n = Number(v)
          if (Math.abs(n) <= 1e6) return [n, true]
        }
        return [0, false]
      }
      return [0, false]
    }

    let i = 0
    while (i < end) {
      goodArgNum = true
      const lasti = i
      while (i < end && format[i] !== '%') i++
      if (i > lasti) this.buf += format.slice(lasti, i)
      if (i >= end) break
      i++ // skip %
      this.clearFlags()
      flags: for (; i < end; i++) {
        switch (format[i]) {
          case '#':
            this.sharp = true
            break
          case '0':
            this.zero = !this.minus
            break
          case '+':
            this.plus = true
            break
          case '-':
            this.minus = true
            this.zero = false
            break
          case ' ':
            this.space = true
            break
          default:
            break flags
        }
      }
      afterIndex = false
      i = argNumber(i)
      if (i < end && format[i] === '*') {
        i++
        const [w, ok] = intFromArg()
        this.wid = w
        this.widPresent = ok
        if (!ok) this.buf += '%!(BADWIDTH)'
        if (this.wid < 0) {
          this.wid = -this.wid
          this.minus = true
          this.zero = false
        }
        afterIndex = false
      } else {
        const [w, ok, ni] = parsenum(i)
        this.wid = w
        this.widPresent = ok
        i = ni
        if (afterIndex && this.widPresent) goodArgNum = false
      }
      if (i + 1 < end && format[i] === '.') {
        i++
        if (afterIndex) goodArgNum = false
        afterIndex = false
        i = argNumber(i)
        if (i < end && format[i] === '*') {
          i++
          const [p, ok] = intFromArg()
          this.prec = p
          this.precPresent = ok
          if (this.prec < 0) {
            this.prec = 0
            this.precPresent = false
          }
          if (!ok) this.buf += '%!(BADPREC)'
          afterIndex = false
        } else {
          const [p, ok, ni] = parsenum(i)
          this.prec = p
          this.precPresent = ok
          i = ni
          if (!this.precPresent) {
            this.prec = 0
            this.precPresent = true
          }
        }
      }
      if (!afterIndex) i = argNumber(i)
      if (i >= end) {
        this.buf += '%!(NOVERB)'
        break
      }
      const cp = format.codePointAt(i)!
      const verb = String.fromCodePoint(cp)
      i += verb.length
      if (verb === '%') {
        this.buf += '%'
        continue
      }
      if (!goodArgNum) {
        this.buf += '%!' + verb + '(BADINDEX)'
        continue
      }
      if (argNum >= a.length) {
        this.buf += '%!' + verb + '(MISSING)'
        continue
      }
      if (verb === 'v') {
        this.sharpV = this.sharp
        this.sharp = false
        this.plusV = this.plus
        this.plus = false
      }
      this.printArg(a[argNum], verb, 0)
      argNum++
    }
    if (!reordered && argNum < a.length) {
      this.clearFlags()
      this.buf += '%!(EXTRA '
      for (; argNum < a.length; argNum++) {
        const arg = a[argNum]
        if (arg === undefined || arg === null) {
          this.buf += '<nil>'
        } else {
          this.buf += typeName(arg) + '='
          this.printArg(arg, 'v', 0)
        }
        if (argNum + 1 < a.length) this.buf += ', '
      }
      this.buf += ')'
    }
  }
}

/** fmt.Sprint: spaces between operands when neither is a string. */
export function sprint(...args: unknown[]): string {
  const p = new Printer()
  p.doPrint(args, false, false)
  return p.buf
}

/** fmt.Sprintln: spaces between all operands and a trailing newline. */
export function sprintln(...args: unknown[]): string {
  const p = new Printer()
  p.doPrint(args, true, true)
  return p.buf
}

/** fmt.Sprintf. */
export function sprintf(format: string, ...args: unknown[]): string {
  const p = new Printer()
  p.doPrintf(format, args)
  return p.buf
}

/** The %v rendering of one value (what a template action prints for it). */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return v
  const p = new Printer()
  p.printArg(v, 'v', 0)
  return p.buf
}

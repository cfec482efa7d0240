/**
 * Docker's word processing for Dockerfile instructions (moby/buildkit shell lexer): quotes are
 * removed, the escape character escapes, `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`,
 * `${VAR:+word}`, `${VAR+word}`, `${VAR:?msg}` and `${VAR?msg}` are expanded from `env`.
 * Single quotes are literal; inside double quotes only `$` and the escape of `"`, `$` and the
 * escape character itself are special.
 */
import { invalid } from '../lib/errors.js'

export type Env = ReadonlyMap<string, string>

/** Parse `KEY=value` strings into a map, later entries winning. */
export function envMap(list: readonly string[]): Map<string, string> {
  const m = new Map<string, string>()
  for (const e of list) {
    const i = e.indexOf('=')
    if (i < 0) m.set(e, '')
    else m.set(e.slice(0, i), e.slice(i + 1))
  }
  return m
}

class Lexer {
  i = 0
  constructor(readonly s: string, readonly env: Env, readonly esc: string, readonly split: boolean) {}

  peek(): string | undefined { return this.s[this.i] }
  next(): string | undefined { return this.s[this.i++] }

  /** Words (split on unquoted whitespace when `split`), or one word. */
  words(): string[] {
    const out: string[] = []
    let cur = ''
    let inWord = false
    while (this.i < this.s.length) {
      const ch = this.peek()!
      if (this.split && /\s/.test(ch)) {
        this.i++
        if (inWord) { out.push(cur); cur = ''; inWord = false }
        continue
      }
      inWord = true
      if (ch === this.esc) {
        this.i++
        const n = this.next()
        if (n === undefined) { cur += this.esc; break }
        cur += n
      } else if (ch === "'") {
        this.i++
        cur += this.single()
      } else if (ch === '"') {
        this.i++
        cur += this.double()
      } else if (ch === '$') {
        const v = this.dollar()
        if (this.split) {
          // An unquoted expansion is split into words like the shell does.
          const parts = v.split(/\s+/)
          cur += parts[0]
          for (const p of parts.slice(1)) { out.push(cur); cur = p }
          if (parts.length > 1 && cur === '' ) inWord = false
        } else cur += v
      } else {
        this.i++
        cur += ch
      }
    }
    if (inWord || (!this.split && out.length === 0)) out.push(cur)
    return out
  }

  single(): string {
    let r = ''
    for (;;) {
      const c = this.next()
      if (c === undefined) throw invalid('ERR_DOCKERFILE_QUOTE', 'unexpected end of statement while looking for matching single-quote')
      if (c === "'") return r
      r += c
    }
  }

  double(): string {
    let r = ''
    for (;;) {
      const c = this.peek()
      if (c === undefined) throw invalid('ERR_DOCKERFILE_QUOTE', 'unexpected end of statement while looking for matching double-quote')
      if (c === '"') { this.i++; return r }
      if (c === '$') { r += this.dollar(); continue }
      this.i++
      if (c === this.esc) {
        const n = this.peek()
        if (n === '"' || n === '$' || n === this.esc) { this.i++; r += n; continue }
      }
      r += c
    }
  }

  /** At `$`: an expansion, or a literal `$`. */
  dollar(): string {
    this.i++ // $
    const c = this.peek()
    if (c === '{') {
      this.i++
      const name = this.name()
      if (!name) throw invalid('ERR_DOCKERFILE_SUBST', `missing ':' in substitution`)
      let c2 = this.peek()
      if (c2 === '}') { this.i++; return this.env.get(name) ?? '' }
      let colon = false
      if (c2 === ':') { colon = true; this.i++; c2 = this.peek() }
      if (c2 === '-' || c2 === '+' || c2 === '?') {
        this.i++
        const word = this.untilBrace()
        const has = this.env.has(name) && (!colon || this.env.get(name) !== '')
        const val = this.env.get(name) ?? ''
        if (c2 === '-') return has ? val : word
        if (c2 === '+') return has ? word : ''
        if (!has) throw invalid('ERR_DOCKERFILE_SUBST', `${name}: ${word || 'is not allowed to be unset'}`)
        return val
      }
      throw invalid('ERR_DOCKERFILE_SUBST', `unsupported modifier (${c2 ?? ''}) in substitution`)
    }
    const name = this.name()
    if (!name) return '$'
    return this.env.get(name) ?? ''
  }

  name(): string {
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9])/.exec(this.s.slice(this.i))
    if (!m) return ''
    this.i += m[0].length
    return m[0]
  }

  /** The word of a `${VAR:-word}` up to its closing brace, itself processed. */
  untilBrace(): string {
    let r = ''
    for (;;) {
      const c = this.peek()
      if (c === undefined) throw invalid('ERR_DOCKERFILE_SUBST', 'syntax error: missing \'}\'')
      if (c === '}') { this.i++; return r }
      if (c === '$') { r += this.dollar(); continue }
      if (c === "'") { this.i++; r += this.single(); continue }
      if (c === '"') { this.i++; r += this.double(); continue }
      this.i++
      if (c === this.esc) {
        const n = this.next()
        if (n !== undefined) r += n
        continue
      }
      r += c
    }
  }
}

/** One word with quotes removed and variables expanded. */
export function processWord(word: string, env: Env, escape = '\\'): string {
  return new Lexer(word, env, escape, false).words()[0] ?? ''
}

/** Words split on unquoted whitespace, quotes removed, variables expanded. */
export function processWords(s: string, env: Env, escape = '\\'): string[] {
  return new Lexer(s, env, escape, true).words()
}

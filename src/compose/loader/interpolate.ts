import { invalid } from '../../lib/errors.js'
import { Override, Reset, modelPath } from './yaml.js'

export type Lookup = (name: string) => string | undefined

/**
 * Substitute `${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR?err}`,
 * `${VAR:+alt}`, `${VAR+alt}` and `$$` in one string, as compose does (defaults may nest).
 * `where` names the model path for errors.
 */
export function interpolateString(s: string, lookup: Lookup, where: string): string {
  if (!s.includes('$')) return s
  let out = ''
  let i = 0
  while (i < s.length) {
    const c = s[i]!
    if (c !== '$') { out += c; i++; continue }
    const next = s[i + 1]
    if (next === '$') { out += '$'; i += 2; continue }
    if (next === '{') {
      const end = matchBrace(s, i + 1)
      if (end < 0) throw invalid('ERR_COMPOSE_INTERPOLATION', `Invalid template: "${s}" at ${where}`)
      out += substitute(s.slice(i + 2, end), lookup, where, s)
      i = end + 1
      continue
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1))
    if (m) { out += lookup(m[0]) ?? ''; i += 1 + m[0].length; continue }
    out += '$'
    i++
  }
  return out
}

function matchBrace(s: string, open: number): number {
  let depth = 0
  for (let j = open; j < s.length; j++) {
    if (s[j] === '{') depth++
    else if (s[j] === '}') { depth--; if (depth === 0) return j }
  }
  return -1
}

function substitute(expr: string, lookup: Lookup, where: string, whole: string): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(expr)
  if (!m) throw invalid('ERR_COMPOSE_INTERPOLATION', `Invalid template: "${whole}" at ${where}`)
  const [, name, op, rest = ''] = m
  const v = lookup(name!)
  const colon = op?.startsWith(':') ?? false
  const unsetOrEmpty = v === undefined || (colon && v === '')
  switch (op?.replace(':', '')) {
    case undefined: return v ?? ''
    case '-': return unsetOrEmpty ? interpolateString(rest, lookup, where) : v!
    case '+': return unsetOrEmpty ? '' : interpolateString(rest, lookup, where)
    case '?': {
      if (!unsetOrEmpty) return v!
      const msg = interpolateString(rest, lookup, where)
      throw invalid('ERR_COMPOSE_REQUIRED_VARIABLE', `required variable ${name} is missing a value${msg ? `: ${msg}` : ''} (at ${where})`)
    }
    default: throw invalid('ERR_COMPOSE_INTERPOLATION', `Invalid template: "${whole}" at ${where}`)
  }
}

/** Interpolate every string (values, not keys) of a parsed file; keys of `x-` extensions are left alone. */
export function interpolateTree(v: unknown, lookup: Lookup, path: Array<string | number> = []): unknown {
  if (typeof v === 'string') return interpolateString(v, lookup, modelPath(path) || '(root)')
  if (v instanceof Override) return new Override(interpolateTree(v.value, lookup, path))
  if (v instanceof Reset) return v
  if (Array.isArray(v)) return v.map((x, i) => interpolateTree(x, lookup, [...path, i]))
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[k] = interpolateTree(x, lookup, [...path, k])
    return out
  }
  return v
}

/**
 * A `.env` / `env_file` file as compose reads it: `KEY=value`, `export KEY=value`, comments,
 * single quotes literal, double quotes with escapes, `${VAR}` interpolated from what came before
 * and from `lookup`; a bare `KEY` takes the value from `lookup` (or is left out).
 */
export function parseDotenv(text: string, file: string, lookup: Lookup = () => undefined): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.replace(/\r\n/g, '\n').split('\n')
  const look: Lookup = (n) => out[n] ?? lookup(n)
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!.trim()
    if (!line || line.startsWith('#')) continue
    if (line.startsWith('export ')) line = line.slice(7).trim()
    const eq = line.indexOf('=')
    const key = (eq < 0 ? line : line.slice(0, eq)).trim()
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw invalid('ERR_COMPOSE_ENV_FILE', `${file}:${n + 1}: unexpected character in variable name "${key}"`)
    if (eq < 0) { const v = lookup(key); if (v !== undefined) out[key] = v; continue }
    let raw = line.slice(eq + 1).trim()
    if (raw.startsWith("'")) {
      let end = raw.indexOf("'", 1)
      while (end < 0 && n + 1 < lines.length) { raw += '\n' + lines[++n]!; end = raw.indexOf("'", 1) }
      out[key] = raw.slice(1, end < 0 ? undefined : end)
    } else if (raw.startsWith('"')) {
      let end = closingQuote(raw)
      while (end < 0 && n + 1 < lines.length) { raw += '\n' + lines[++n]!; end = closingQuote(raw) }
      const body = raw.slice(1, end < 0 ? undefined : end).replace(/\\([nrt"\\$])/g, (_m, ch: string) => ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[ch] ?? (ch === '$' ? '$$' : ch))
      out[key] = interpolateString(body, look, `${file}:${n + 1}`)
    } else {
      const hash = raw.search(/\s#/)
      if (hash >= 0) raw = raw.slice(0, hash).trim()
      out[key] = interpolateString(raw, look, `${file}:${n + 1}`)
    }
  }
  return out
}

function closingQuote(s: string): number {
  for (let j = 1; j < s.length; j++) {
    if (s[j] === '\\') { j++; continue }
    if (s[j] === '"') return j
  }
  return -1
}

/**
 * `.dockerignore` as Docker reads and matches it (moby/patternmatcher): one pattern a line,
 * `#` comments, `!` exceptions, patterns cleaned and made relative, `*` and `?` within one path
 * element, `**` across elements, `\` escapes; the last matching pattern decides, and a pattern
 * that matches a parent directory matches everything under it.
 */
import { posix } from 'node:path'

export interface IgnorePattern {
  exclusion: boolean
  re: RegExp
  text: string
}

export function parseDockerignore(text: string): IgnorePattern[] {
  const out: IgnorePattern[] = []
  for (let line of text.split(/\r?\n/)) {
    line = line.trim()
    if (!line || line.startsWith('#')) continue
    let exclusion = false
    if (line.startsWith('!')) { exclusion = true; line = line.slice(1).trim() }
    if (!line) continue
    let p = posix.normalize(line)
    if (p.length > 1 && p.startsWith('/')) p = p.slice(1)
    if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1)
    out.push({ exclusion, re: patternRegExp(p), text: p })
  }
  return out
}

function patternRegExp(p: string): RegExp {
  let re = '^'
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!
    if (c === '*') {
      if (p[i + 1] === '*') {
        i++
        if (p[i + 1] === '/') i++
        re += i + 1 >= p.length ? '.*' : '(.*/)?'
      } else re += '[^/]*'
    } else if (c === '?') re += '[^/]'
    else if (c === '\\' && i + 1 < p.length) re += escapeRe(p[++i]!)
    else if (c === '[') {
      const end = p.indexOf(']', i + 1)
      if (end < 0) re += '\\['
      else { re += '[' + p.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']'; i = end }
    } else re += escapeRe(c)
  }
  return new RegExp(re + '$')
}

function escapeRe(c: string): string {
  return /[.+^${}()|[\]\\*?]/.test(c) ? `\\${c}` : c
}

/** Whether a context path (relative, `/`-separated) is excluded. */
export function isIgnored(patterns: readonly IgnorePattern[], file: string): boolean {
  if (patterns.length === 0) return false
  // Only a leading `./` goes: `.dockerignore` keeps its dot.
  const f = posix.normalize(file).replace(/^\.\//, '')
  const parents = f.split('/').slice(0, -1)
  let matched = false
  for (const p of patterns) {
    let m = p.re.test(f)
    if (!m) {
      for (let i = 1; i <= parents.length && !m; i++) m = p.re.test(parents.slice(0, i).join('/'))
    }
    if (m) matched = !p.exclusion
  }
  return matched
}

/** Whether a directory could hold a file that an exception re-includes (so it must be walked). */
export function hasExceptions(patterns: readonly IgnorePattern[]): boolean {
  return patterns.some((p) => p.exclusion)
}

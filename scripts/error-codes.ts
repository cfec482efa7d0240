/**
 * Finds the error codes src/ uses and checks them against the catalogue (src/lib/error-codes.ts).
 * A use is a construction (`new EngineError('Kind', 'ERR_X', ...)`, `invalid('ERR_X', ...)`,
 * helpers and local aliases of them) or any other 'ERR_X' literal in non-test source (a
 * comparison). Run `node dist/scripts/error-codes.js [repo root]` to print the catalogue lines of
 * codes used but not catalogued, ready to paste.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const KINDS = ['NotFound', 'Conflict', 'InvalidArgument', 'Unauthorized', 'Forbidden', 'Unavailable', 'NotImplemented', 'NotModified', 'Internal', 'Canceled'] as const
export type Kind = (typeof KINDS)[number]

/** The helpers of src/lib/errors.ts and the kind each gives. */
export const HELPERS: Record<string, Kind> = { notFound: 'NotFound', conflict: 'Conflict', invalid: 'InvalidArgument', notImplemented: 'NotImplemented', internal: 'Internal' }

/** Node's and undici's own codes that engine code compares against: not ours to catalogue. */
export const FOREIGN_CODES = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_SOCKET_CLOSED', 'ERR_HTTP_HEADERS_SENT', 'ERR_STREAM_WRITE_AFTER_END', 'ERR_USE_AFTER_CLOSE'])

export interface CodeUse {
  code: string
  /** Kinds the construction can give (several for `cond ? 'A' : 'B'`); empty for a mere reference. */
  kinds: Kind[]
  file: string
  line: number
  /** The message argument's source text (first line), when constructed. */
  message?: string
}

const CODE_RE = /'(ERR_[A-Z0-9_]+)'/g
const KIND_RE = new RegExp(`'(${KINDS.join('|')})'`, 'g')

/** The source text of each argument of the call whose `(` is at `open`, split at top-level commas. */
function callArgs(src: string, open: number): { args: string[]; end: number } {
  const args: string[] = []
  let depth = 0
  let start = open + 1
  let quote: string | undefined
  for (let i = open; i < src.length; i++) {
    const c = src[i]!
    if (quote) {
      if (c === '\\') { i++; continue }
      if (c === quote) quote = undefined
      else if (quote === '`' && c === '$' && src[i + 1] === '{') { /* template expressions: braces counted below are fine */ }
      continue
    }
    if (c === "'" || c === '"' || c === '`') { quote = c; continue }
    if (c === '(' || c === '[' || c === '{') depth++
    else if (c === ')' || c === ']' || c === '}') {
      depth--
      if (depth === 0) { args.push(src.slice(start, i)); return { args, end: i } }
    } else if (c === ',' && depth === 1) { args.push(src.slice(start, i)); start = i + 1 }
  }
  return { args, end: src.length }
}

const lineOf = (src: string, index: number) => src.slice(0, index).split('\n').length

function literals(text: string, re: RegExp): string[] {
  return [...text.matchAll(re)].map((m) => m[1]!)
}

/** Every use of a code in one file's text. */
export function scanSource(file: string, src: string): CodeUse[] {
  const uses: CodeUse[] = []
  const constructed = new Set<number>() // offsets of code literals already counted as constructions
  const helpers: Record<string, Kind> = { ...HELPERS }
  // Local aliases: const bad = (code: string, message: string) => invalid(code, message)
  for (const m of src.matchAll(/(?:const|function)\s+(\w+)\s*=?\s*\(\s*code\s*:\s*string[^)]*\)\s*(?::\s*\w+\s*)?(?:=>|\{\s*return)\s*(\w+)\(\s*code\b/g)) {
    const kind = HELPERS[m[2]!]
    if (kind) helpers[m[1]!] = kind
  }
  const names = Object.keys(helpers).join('|')
  const callRe = new RegExp(`(?<![\\w.])(?:new\\s+EngineError|${names})\\s*\\(`, 'g')
  for (const m of src.matchAll(callRe)) {
    const open = m.index + m[0].length - 1
    const { args } = callArgs(src, open)
    const isEngineError = m[0].startsWith('new')
    const codeArg = isEngineError ? args[1] : args[0]
    if (codeArg === undefined) continue
    const codes = literals(codeArg, CODE_RE)
    if (codes.length === 0) continue // a code passed through a variable: checked where it is written
    const kinds = isEngineError ? [...new Set(literals(args[0] ?? '', KIND_RE))] as Kind[] : [helpers[m[0].replace(/\s*\($/, '')]!]
    const codeOffset = open + 1 + (isEngineError ? (args[0]?.length ?? 0) + 1 : 0)
    for (const cm of codeArg.matchAll(CODE_RE)) constructed.add(codeOffset + cm.index)
    const message = (isEngineError ? args[2] : args[1])?.trim().split('\n')[0]
    for (const code of codes) uses.push({ code, kinds, file, line: lineOf(src, m.index), ...(message ? { message } : {}) })
  }
  for (const m of src.matchAll(CODE_RE)) {
    if (constructed.has(m.index)) continue
    if (FOREIGN_CODES.has(m[1]!)) continue
    uses.push({ code: m[1]!, kinds: [], file, line: lineOf(src, m.index) })
  }
  return uses
}

/** Non-test .ts files under src/, except the catalogue itself. */
export function sourceFiles(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const n of readdirSync(dir).sort()) {
      const p = join(dir, n)
      if (statSync(p).isDirectory()) walk(p)
      else if (n.endsWith('.ts') && !n.endsWith('.test.ts') && !n.endsWith('.d.ts') && !/testsuite\.ts$/.test(n) && p !== join(root, 'src/lib/error-codes.ts')) out.push(p)
    }
  }
  walk(join(root, 'src'))
  return out
}

export function scanTree(root: string): CodeUse[] {
  return sourceFiles(root).flatMap((f) => scanSource(relative(root, f), readFileSync(f, 'utf8')))
}

/** Keys of the catalogue as written in its source, with how often each appears. */
export function catalogueKeys(catalogueSource: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const m of catalogueSource.matchAll(/^\s*(ERR_[A-Z0-9_]+)\s*:/gm)) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1)
  return counts
}

export interface Entry { kind: Kind; alsoKinds?: readonly Kind[]; description: string }

export interface Report {
  /** Used, not catalogued: with the kinds seen and where. */
  missing: Map<string, CodeUse[]>
  /** Catalogued more than once. */
  duplicated: string[]
  /** Constructed with a kind the catalogue does not give it. */
  wrongKind: CodeUse[]
  /** Constructed with two different kinds across src/ (whatever the catalogue says). */
  twoKinds: Map<string, CodeUse[]>
  /** Catalogued, never used. */
  unused: string[]
}

export function check(uses: CodeUse[], catalogue: Record<string, Entry>, catalogueSource: string): Report {
  const missing = new Map<string, CodeUse[]>()
  const wrongKind: CodeUse[] = []
  const byCode = new Map<string, CodeUse[]>()
  for (const u of uses) {
    byCode.set(u.code, [...(byCode.get(u.code) ?? []), u])
    const e = catalogue[u.code]
    if (!e) { missing.set(u.code, [...(missing.get(u.code) ?? []), u]); continue }
    const allowed = new Set([e.kind, ...(e.alsoKinds ?? [])])
    if (u.kinds.some((k) => !allowed.has(k))) wrongKind.push(u)
  }
  const twoKinds = new Map<string, CodeUse[]>()
  for (const [code, list] of byCode) {
    const kinds = new Set(list.filter((u) => u.kinds.length === 1).map((u) => u.kinds[0]))
    if (kinds.size > 1) twoKinds.set(code, list.filter((u) => u.kinds.length))
  }
  const duplicated = [...catalogueKeys(catalogueSource)].filter(([, n]) => n > 1).map(([k]) => k)
  const unused = Object.keys(catalogue).filter((k) => !byCode.has(k))
  return { missing, duplicated, wrongKind, twoKinds, unused }
}

/** A catalogue line for a missing code, from its first construction. */
export function entryLine(code: string, list: CodeUse[]): string {
  const built = list.find((u) => u.kinds.length > 0)
  const kinds = [...new Set(list.flatMap((u) => u.kinds))]
  const kind = kinds[0] ?? 'Internal'
  const also = kinds.slice(1)
  const msg = (built?.message ?? '').replace(/^[`'"]|[`'"]$/g, '').replace(/\$\{[^}]*\}/g, '<…>').replace(/'/g, "\\'")
  return `  ${code}: { kind: '${kind}'${also.length ? `, alsoKinds: [${also.map((k) => `'${k}'`).join(', ')}]` : ''}, description: '${msg || 'TODO: describe'}' }, // ${list[0]!.file}:${list[0]!.line}`
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = process.argv[2] ?? fileURLToPath(new URL('../../', import.meta.url))
  const { ERROR_CODES } = (await import(join(root, 'dist/src/lib/error-codes.js'))) as { ERROR_CODES: Record<string, Entry> }
  const report = check(scanTree(root), ERROR_CODES, readFileSync(join(root, 'src/lib/error-codes.ts'), 'utf8'))
  for (const [code, list] of [...report.missing].sort()) console.log(entryLine(code, list))
}

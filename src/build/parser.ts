/**
 * The Dockerfile parser: parser directives (`escape`; `syntax` and `check` are read and
 * ignored), line continuations, comments, heredocs, instruction flags, JSON (exec) and shell
 * forms. The result is a list of instructions with their line numbers; variable substitution
 * happens at dispatch time (see shell-lex.ts), as Docker does, because it depends on the
 * stage's ENV and ARG state.
 */
import { invalid, EngineError } from '../lib/errors.js'

export const INSTRUCTIONS = ['from', 'run', 'cmd', 'entrypoint', 'label', 'maintainer', 'expose', 'env', 'add', 'copy', 'volume', 'user', 'workdir', 'arg', 'onbuild', 'stopsignal', 'healthcheck', 'shell'] as const
export type InstructionName = (typeof INSTRUCTIONS)[number]

export interface Heredoc {
  name: string
  content: string
  /** Unquoted delimiter: variables in the content are expanded (by the shell for RUN). */
  expand: boolean
}

export interface Instruction {
  cmd: InstructionName
  /** First and last line (1-based) in the Dockerfile. */
  line: number
  endLine: number
  /** The instruction as Docker prints it in `Step N/M : ...` (continuations joined). */
  original: string
  /** `--name=value` flags before the arguments, in order. */
  flags: Array<{ name: string; value: string | undefined }>
  /** The arguments after the flags, continuations joined, not yet substituted. */
  args: string
  /** Set when the arguments are a JSON array of strings (exec form). */
  json?: string[]
  heredocs: Heredoc[]
}

export interface Dockerfile {
  escape: string
  instructions: Instruction[]
}

export function parseError(line: number, msg: string): EngineError {
  return invalid('ERR_DOCKERFILE_PARSE', `Dockerfile parse error line ${line}: ${msg}`)
}

const FLAGGED = new Set<InstructionName>(['from', 'run', 'copy', 'add', 'healthcheck'])
const JSON_FORMS = new Set<InstructionName>(['run', 'cmd', 'entrypoint', 'shell', 'volume', 'copy', 'add', 'healthcheck'])
const HEREDOC_FORMS = new Set<InstructionName>(['run', 'copy', 'add'])
const HEREDOC_RE = /<<(-?)\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g

/** Parse Dockerfile text. Errors name the line as Docker does. */
export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  let escape = '\\'
  let i = 0
  // Directives: `# key=value` lines at the very top.
  const seen = new Set<string>()
  for (; i < lines.length; i++) {
    const m = /^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$/.exec(lines[i]!)
    if (!m) break
    const key = m[1]!.toLowerCase()
    if (seen.has(key)) throw parseError(i + 1, `only one ${key} parser directive can be used`)
    seen.add(key)
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw parseError(i + 1, `invalid escape token '${m[2]}' does not match ${'`'} or \\`)
      escape = m[2]
    } else if (key !== 'syntax' && key !== 'check') break
  }
  i = 0
  const out: Instruction[] = []
  const isComment = (l: string) => /^\s*#/.test(l)
  const endsWithEscape = (l: string) => { const t = l.replace(/\s+$/, ''); return t.endsWith(escape) ? t.slice(0, -1) : undefined }
  while (i < lines.length) {
    const raw = lines[i]!
    const start = i + 1
    i++
    if (raw.trim() === '' || isComment(raw)) continue
    let text = raw.replace(/^\s+/, '')
    let cont = endsWithEscape(text)
    while (cont !== undefined) {
      text = cont
      // Comments and empty lines inside a continuation are skipped.
      while (i < lines.length && (isComment(lines[i]!) || lines[i]!.trim() === '')) i++
      if (i >= lines.length) { cont = undefined; break }
      const next = lines[i]!
      i++
      cont = endsWithEscape(next)
      text += cont ?? next
    }
    const m = /^(\S+)\s*([\s\S]*)$/.exec(text)!
    const word = m[1]!
    const name = word.toLowerCase() as InstructionName
    if (!(INSTRUCTIONS as readonly string[]).includes(name)) throw parseError(start, `unknown instruction: ${word.toUpperCase()}`)
    let rest = m[2]!.replace(/\s+$/, '')
    const flags: Instruction['flags'] = []
    if (FLAGGED.has(name)) {
      for (;;) {
        const f = /^--([A-Za-z0-9-]+)(?:=(\S*))?(?:\s+|$)/.exec(rest)
        if (!f) break
        flags.push({ name: f[1]!, value: f[2] })
        rest = rest.slice(f[0].length)
      }
    }
    const heredocs: Heredoc[] = []
    if (HEREDOC_FORMS.has(name) && !rest.startsWith('[')) {
      for (const h of rest.matchAll(HEREDOC_RE)) {
        const strip = h[1] === '-'
        const delim = h[3]!
        const body: string[] = []
        let closed = false
        while (i < lines.length) {
          const l = lines[i]!
          i++
          const cmp = strip ? l.replace(/^\t+/, '') : l
          if (cmp === delim) { closed = true; break }
          body.push(cmp)
        }
        if (!closed) throw parseError(start, `unterminated heredoc ${delim}`)
        heredocs.push({ name: delim, content: body.length ? body.join('\n') + '\n' : '', expand: h[2] === '' })
      }
    }
    let json: string[] | undefined
    if (JSON_FORMS.has(name) && rest.startsWith('[')) {
      try {
        const v: unknown = JSON.parse(rest)
        if (Array.isArray(v) && v.every((x) => typeof x === 'string')) json = v as string[]
      } catch {
        // Not JSON: the shell form, as Docker falls back to it.
        json = undefined
      }
    }
    const ins: Instruction = { cmd: name, line: start, endLine: i, original: `${word} ${text.slice(word.length).trim()}`.trim(), flags, args: rest, heredocs, ...(json ? { json } : {}) }
    checkInstruction(ins)
    out.push(ins)
  }
  return { escape, instructions: out }
}

/** The checks Docker makes when it turns parsed lines into instructions. */
function checkInstruction(ins: Instruction): void {
  const up = ins.cmd.toUpperCase()
  const fail = (msg: string) => { throw parseError(ins.line, msg) }
  const args = ins.args.trim()
  const allowed: Partial<Record<InstructionName, string[]>> = {
    from: ['platform'],
    run: ['mount', 'network', 'security'],
    copy: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'],
    add: ['chown', 'chmod', 'link', 'keep-git-dir', 'checksum', 'exclude'],
    healthcheck: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
  }
  for (const f of ins.flags) {
    if (!(allowed[ins.cmd] ?? []).includes(f.name)) fail(`unknown flag: ${f.name}`)
  }
  switch (ins.cmd) {
    case 'from': {
      const w = args.split(/\s+/).filter(Boolean)
      if (w.length !== 1 && !(w.length === 3 && w[1]!.toLowerCase() === 'as')) fail('FROM requires either one or three arguments')
      if (w.length === 3 && !/^[a-z][a-z0-9-_.]*$/.test(w[2]!.toLowerCase())) fail(`invalid name for build stage: "${w[2]}", name can't start with a number or contain symbols`)
      break
    }
    case 'env': case 'label': case 'arg': case 'expose': case 'volume': case 'maintainer': case 'run': case 'cmd': case 'entrypoint': case 'shell': case 'onbuild':
      if (!args && ins.heredocs.length === 0 && ins.cmd !== 'cmd' && ins.cmd !== 'entrypoint' && ins.cmd !== 'run') fail(`${up} requires at least one argument`)
      if (ins.cmd === 'shell' && !ins.json) fail('SHELL requires the arguments to be in JSON form')
      if (ins.cmd === 'run' && !args) fail('RUN requires at least one argument')
      if (ins.cmd === 'onbuild') {
        const t = args.split(/\s+/)[0]!.toLowerCase()
        if (t === 'onbuild') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed')
        if (t === 'from' || t === 'maintainer') fail(`${t.toUpperCase()} isn't allowed as an ONBUILD trigger`)
        if (!(INSTRUCTIONS as readonly string[]).includes(t)) fail(`unknown instruction: ${t.toUpperCase()}`)
      }
      break
    case 'user': case 'workdir': case 'stopsignal':
      if (!args) fail(`${up} requires exactly one argument`)
      break
    case 'copy': case 'add': {
      if (ins.heredocs.length === 0) {
        const n = ins.json ? ins.json.length : args.split(/\s+/).filter(Boolean).length
        if (n === 0) fail(`${up} requires at least two arguments`)
        if (n === 1) fail(`${up} requires at least two arguments, but only one was provided. Destination could not be determined.`)
      } else if (!args) fail(`${up} requires at least two arguments`)
      break
    }
    case 'healthcheck': {
      const t = args.split(/\s+/)[0]?.toUpperCase()
      if (t !== 'NONE' && t !== 'CMD') fail('Unknown type in HEALTHCHECK (try CMD)')
      if (t === 'NONE' && args.split(/\s+/).length > 1) fail('HEALTHCHECK NONE takes no arguments')
      if (t === 'CMD' && args.split(/\s+/).length < 2) fail('Missing command after HEALTHCHECK CMD')
      break
    }
  }
}

/** Split `KEY=value KEY2="v 2"` (or the legacy `KEY value`) into raw (unprocessed) pairs. */
export function parseNameVal(args: string, cmd: string, line: number, escape: string): Array<[string, string]> {
  const words = splitRawWords(args, escape)
  if (words.length === 0) throw parseError(line, `${cmd.toUpperCase()} requires at least one argument`)
  if (!words[0]!.includes('=')) {
    // Legacy form: the first word is the name, the rest of the line is the value.
    if (cmd === 'label') throw parseError(line, `Syntax error - can't find = in "${words[0]}". Must be of the form: name=value`)
    const name = words[0]!
    const value = args.trim().slice(name.length).trim()
    if (!value && cmd === 'env') throw parseError(line, 'ENV must have two arguments')
    return [[name, value]]
  }
  return words.map((w) => {
    const i = w.indexOf('=')
    if (i < 0) throw parseError(line, `Syntax error - can't find = in "${w}". Must be of the form: name=value`)
    if (i === 0) throw parseError(line, `${cmd.toUpperCase()} names can not be blank`)
    return [w.slice(0, i), w.slice(i + 1)]
  })
}

/** Words separated by unquoted whitespace, quotes and escapes kept (processed later). */
export function splitRawWords(s: string, escape: string): string[] {
  const out: string[] = []
  let cur = ''
  let q: string | undefined
  let inWord = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (!q && /\s/.test(c)) {
      if (inWord) { out.push(cur); cur = ''; inWord = false }
      continue
    }
    inWord = true
    if (c === escape && i + 1 < s.length && q !== "'") { cur += c + s[++i]; continue }
    if (q) { if (c === q) q = undefined } else if (c === '"' || c === "'") q = c
    cur += c
  }
  if (inWord) out.push(cur)
  return out
}

/** A flag's value (the last one given), or undefined. */
export function flagValue(ins: Instruction, name: string): string | undefined {
  let v: string | undefined
  for (const f of ins.flags) if (f.name === name) v = f.value ?? 'true'
  return v
}

import { invalid } from '../../lib/errors.js'
import type { ContainerConfigFile } from './changes-types.js'

export type { ContainerConfigFile }

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']

/**
 * Apply `--change` Dockerfile instructions (import and commit) to an image config, as Docker's
 * BuildFromConfig does for the instructions it allows.
 */
export function applyChanges(config: ContainerConfigFile, changes: string[]): ContainerConfigFile {
  const c: ContainerConfigFile = structuredClone(config)
  for (const raw of changes) {
    const line = raw.trim()
    if (!line) continue
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line)!
    const instr = m[1]!.toUpperCase()
    const rest = m[2]!.trim()
    // Docker's Dockerfile parser lowercases instructions, and so does its message.
    if (!ALLOWED.includes(instr)) throw invalid('ERR_INVALID_CHANGE', `${instr.toLowerCase()} is not a valid change command`)
    switch (instr) {
      case 'CMD':
        c.Cmd = execOrShell(rest)
        break
      case 'ENTRYPOINT':
        c.Entrypoint = execOrShell(rest)
        break
      case 'ENV':
        for (const [k, v] of parseKeyValues(rest, 'ENV')) {
          const env = (c.Env ?? []).filter((e) => e.split('=')[0] !== k)
          env.push(`${k}=${v}`)
          c.Env = env
        }
        break
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}) }
        for (const [k, v] of parseKeyValues(rest, 'LABEL')) c.Labels[k] = v
        break
      case 'EXPOSE':
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) }
        for (const p of splitWords(rest)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw invalid('ERR_INVALID_CHANGE', `invalid containerPort: ${p}`)
          const [port, proto = 'tcp'] = p.toLowerCase().split('/')
          c.ExposedPorts[`${port}/${proto}`] = {}
        }
        break
      case 'VOLUME': {
        c.Volumes = { ...(c.Volumes ?? {}) }
        const list = rest.startsWith('[') ? parseJsonArray(rest) ?? splitWords(rest) : splitWords(rest)
        for (const v of list) c.Volumes[v] = {}
        break
      }
      case 'USER':
        c.User = rest
        break
      case 'WORKDIR':
        c.WorkingDir = rest.startsWith('/') || !c.WorkingDir ? rest.startsWith('/') ? rest : `/${rest}` : `${c.WorkingDir.replace(/\/$/, '')}/${rest}`
        break
      case 'STOPSIGNAL':
        c.StopSignal = rest
        break
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), rest]
        break
      case 'HEALTHCHECK':
        c.Healthcheck = parseHealthcheck(rest)
        break
    }
  }
  return c
}

function execOrShell(rest: string): string[] {
  return parseJsonArray(rest) ?? ['/bin/sh', '-c', rest]
}

function parseJsonArray(s: string): string[] | undefined {
  if (!s.startsWith('[')) return undefined
  try {
    const v = JSON.parse(s) as unknown
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[]
  } catch {
    // not JSON: shell form
  }
  return undefined
}

/** Words with Dockerfile quoting (double/single quotes, backslash escapes). */
export function splitWords(s: string): string[] {
  const out: string[] = []
  let cur = ''
  let inWord = false
  let quote: string | null = null
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!
    if (quote) {
      if (ch === quote) quote = null
      else if (ch === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i]
      else cur += ch
      continue
    }
    if (ch === '"' || ch === "'") { quote = ch; inWord = true; continue }
    if (ch === '\\' && i + 1 < s.length) { cur += s[++i]; inWord = true; continue }
    if (/\s/.test(ch)) {
      if (inWord) { out.push(cur); cur = ''; inWord = false }
      continue
    }
    cur += ch
    inWord = true
  }
  if (quote) throw invalid('ERR_INVALID_CHANGE', 'unexpected end of statement while looking for matching ' + (quote === '"' ? 'double-quote' : 'single-quote'))
  if (inWord) out.push(cur)
  return out
}

function parseKeyValues(rest: string, instr: string): Array<[string, string]> {
  const words = splitWords(rest)
  if (words.length === 0) throw invalid('ERR_INVALID_CHANGE', `${instr} requires at least one argument`)
  if (!words[0]!.includes('=')) {
    // Legacy `ENV key value...` form.
    const key = words[0]!
    const value = rest.trim().slice(rest.trim().indexOf(key) + key.length).trim()
    if (!value && instr === 'ENV') throw invalid('ERR_INVALID_CHANGE', `ENV must have two arguments`)
    return [[key, splitWords(value).join(' ')]]
  }
  return words.map((w) => {
    const eq = w.indexOf('=')
    if (eq <= 0) throw invalid('ERR_INVALID_CHANGE', `Syntax error - can't find = in "${w}". Must be of the form: name=value`)
    return [w.slice(0, eq), w.slice(eq + 1)] as [string, string]
  })
}

function parseDuration(s: string, flag: string): number {
  let total = 0
  let rest = s
  if (!rest) throw invalid('ERR_INVALID_CHANGE', `invalid argument for --${flag}`)
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/.exec(rest)
    if (!m) throw invalid('ERR_INVALID_CHANGE', `time: invalid duration "${s}"`)
    total += parseFloat(m[1]!) * { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[m[2]!]!
    rest = rest.slice(m[0].length)
  }
  return Math.round(total)
}

function parseHealthcheck(rest: string): NonNullable<ContainerConfigFile['Healthcheck']> {
  if (/^NONE$/i.test(rest)) return { Test: ['NONE'] }
  const hc: NonNullable<ContainerConfigFile['Healthcheck']> = {}
  let s = rest
  for (;;) {
    const m = /^--(interval|timeout|start-period|start-interval|retries)=(\S+)\s*/.exec(s)
    if (!m) break
    const [, flag, value] = m as unknown as [string, string, string]
    if (flag === 'retries') hc.Retries = parseInt(value, 10)
    else if (flag === 'interval') hc.Interval = parseDuration(value, flag)
    else if (flag === 'timeout') hc.Timeout = parseDuration(value, flag)
    else if (flag === 'start-period') hc.StartPeriod = parseDuration(value, flag)
    else hc.StartInterval = parseDuration(value, flag)
    s = s.slice(m[0].length)
  }
  const cm = /^CMD\s+([\s\S]+)$/i.exec(s)
  if (!cm) throw invalid('ERR_INVALID_CHANGE', 'Unknown type "' + (s.split(/\s/)[0] ?? '') + '" in HEALTHCHECK (try CMD)')
  const exec = parseJsonArray(cm[1]!.trim())
  hc.Test = exec ? ['CMD', ...exec] : ['CMD-SHELL', cm[1]!.trim()]
  return hc
}

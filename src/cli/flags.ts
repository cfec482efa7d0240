/**
 * Command-line flags with the semantics of spf13/pflag as the docker CLI uses it: `--name value`,
 * `--name=value`, bundled short bools (`-aq`), `-fvalue`, `--` to stop, repeatable lists, and
 * docker's error messages (`unknown flag: --foo`, exit status 125).
 */
export type FlagType = 'bool' | 'string' | 'list' | 'int' | 'map'

export interface FlagSpec {
  name: string
  short?: string
  type: FlagType
  help: string
  default?: string | boolean | number
  /** The value placeholder in help (`string`, `list`, `filter`...). */
  valueName?: string
  hidden?: boolean
}

export type FlagValues = Record<string, string | boolean | number | string[] | undefined>

/** A usage error: printed with "See '... --help'." and exit status 125 (flag errors) or 1 (argument errors). */
export class UsageError extends Error {
  constructor(message: string, readonly status = 125, readonly showUsage = false) {
    super(message)
  }
}

export interface ParseResult {
  flags: FlagValues
  args: string[]
  help: boolean
}

/**
 * Parse argv against flag specs. When `interspersed` is false, the first positional argument
 * ends flag parsing (as for `run IMAGE CMD...`).
 */
export function parseFlags(argv: string[], specs: readonly FlagSpec[], { interspersed = true }: { interspersed?: boolean } = {}): ParseResult {
  const byLong = new Map(specs.map((s) => [s.name, s]))
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]))
  const flags: FlagValues = {}
  for (const s of specs) if (s.default !== undefined) flags[s.name] = s.default
  const args: string[] = []
  let help = false
  const set = (spec: FlagSpec, raw: string, display: string) => {
    switch (spec.type) {
      case 'bool': {
        const v = parseBool(raw)
        if (v === undefined) throw new UsageError(`invalid argument "${raw}" for "${display}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`)
        flags[spec.name] = v
        break
      }
      case 'int': {
        if (!/^-?\d+$/.test(raw)) throw new UsageError(`invalid argument "${raw}" for "${flagDisplay(spec)}" flag: strconv.ParseInt: parsing "${raw}": invalid syntax`)
        flags[spec.name] = parseInt(raw, 10)
        break
      }
      case 'list':
      case 'map': {
        const cur = flags[spec.name]
        flags[spec.name] = [...(Array.isArray(cur) ? cur : []), raw]
        break
      }
      default:
        flags[spec.name] = raw
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') {
      args.push(...argv.slice(i + 1))
      break
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=')
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2)
      if (name === 'help') { help = true; continue }
      const spec = byLong.get(name)
      if (!spec) throw new UsageError(`unknown flag: --${name}`)
      if (eq > 0) set(spec, a.slice(eq + 1), `--${name}`)
      else if (spec.type === 'bool') flags[spec.name] = true
      else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`)
        set(spec, argv[++i]!, `--${name}`)
      }
      continue
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!
        if (c === 'h' && !byShort.has('h')) { help = true; continue }
        const spec = byShort.get(c)
        if (!spec) throw new UsageError(`unknown shorthand flag: '${c}' in ${a}`)
        if (spec.type === 'bool') {
          if (a[j + 1] === '=') { set(spec, a.slice(j + 2), `-${c}`); break }
          flags[spec.name] = true
          continue
        }
        let value = a.slice(j + 1)
        if (value.startsWith('=')) value = value.slice(1)
        else if (value === '') {
          if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: '${c}' in -${c}`)
          value = argv[++i]!
        }
        set(spec, value, `-${c}`)
        break
      }
      continue
    }
    args.push(a)
    if (!interspersed) {
      args.push(...argv.slice(i + 1))
      break
    }
  }
  return { flags, args, help }
}

function parseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false
  return undefined
}

export function flagDisplay(spec: FlagSpec): string {
  return spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`
}

/** Help lines for flags, aligned as cobra prints them. */
export function flagHelp(specs: readonly FlagSpec[]): string {
  const rows = specs.filter((s) => !s.hidden).sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'bool' ? '' : ` ${s.valueName ?? (s.type === 'list' ? 'list' : s.type)}`}`
    const dflt = s.default !== undefined && s.default !== false && s.default !== '' ? ` (default ${typeof s.default === 'string' ? JSON.stringify(s.default) : s.default})` : ''
    return [left, s.help + dflt] as const
  })
  const w = Math.max(0, ...rows.map(([l]) => l.length))
  return rows.map(([l, h]) => `  ${l.padEnd(w)}   ${h}`).join('\n')
}

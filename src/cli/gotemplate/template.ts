/**
 * Template: a parsed Go template set, and parseTemplate/formatTemplate, the entry points.
 */
import { TemplateError } from './errors.js'
import { type ExecEnv, type MissingKey, type ResolvedFunc, execute } from './exec.js'
import { type FuncMap, builtins, dockerFuncs, toGoFunc } from './funcs.js'
import { quote } from '../../lib/gofmt/fmt.js'
import { parse } from './parser.js'

export interface TemplateOptions {
  /** The template's name ("" by default, as docker's templates.Parse names it). */
  name?: string
  /**
   * Functions beyond Go's builtins. Defaults to the docker CLI's (dockerFuncs); pass `{}` for
   * plain text/template. Calling a function the template does not know is a parse error.
   */
  funcs?: FuncMap
  leftDelim?: string
  rightDelim?: string
  /** Go's Option("missingkey=..."): "error" makes a missing map key an execution error. */
  missingKey?: MissingKey
}

function resolveFuncs(funcs: FuncMap): Map<string, ResolvedFunc> {
  const m = new Map<string, ResolvedFunc>()
  for (const [name, spec] of Object.entries(builtins)) m.set(name, { spec, builtin: true })
  for (const [name, f] of Object.entries(funcs)) m.set(name, { spec: toGoFunc(f), builtin: false })
  return m
}

/** A parsed template (and the templates it {{define}}s), ready to execute any number of times. */
export class Template {
  readonly name: string
  readonly #env: ExecEnv

  /** Use parseTemplate. */
  constructor(name: string, env: ExecEnv) {
    this.name = name
    this.#env = env
  }

  /** Executes the template against data and returns the output. Throws TemplateError. */
  execute(data: unknown): string {
    return execute(this.#env, this.name, data)
  }

  /** Executes the associated template with the given name. */
  executeTemplate(name: string, data: unknown): string {
    if (!this.#env.trees.has(name)) {
      throw new TemplateError('exec', name, `template: no template ${quote(name)} associated with template ${quote(this.name)}`)
    }
    return execute(this.#env, name, data)
  }

  /** The associated template with the given name ({{define}}d or {{block}}ed), if any. */
  lookup(name: string): Template | undefined {
    return this.#env.trees.has(name) ? new Template(name, this.#env) : undefined
  }

  /** Names of all templates in this set, the top-level one included. */
  templateNames(): string[] {
    return [...this.#env.trees.keys()]
  }

  /**
   * A copy of this template whose execution sees `funcs` in place of the functions of the same
   * names (Go's t.Funcs after parsing; docker renders table headers this way).
   */
  withFuncs(funcs: FuncMap): Template {
    const merged = new Map(this.#env.funcs)
    for (const [name, f] of Object.entries(funcs)) merged.set(name, { spec: toGoFunc(f), builtin: false })
    return new Template(this.name, { ...this.#env, funcs: merged })
  }

  /** A copy of this template with another missingkey option. */
  withMissingKey(missingKey: MissingKey): Template {
    return new Template(this.name, { ...this.#env, missingKey })
  }
}

/** Parses a Go template. Throws TemplateError (kind "parse") with Go's message. */
export function parseTemplate(text: string, opts: TemplateOptions = {}): Template {
  const name = opts.name ?? ''
  const funcs = resolveFuncs(opts.funcs ?? dockerFuncs)
  const trees = parse(text, {
    name,
    leftDelim: opts.leftDelim ?? '',
    rightDelim: opts.rightDelim ?? '',
    hasFunction: (n) => funcs.has(n),
  })
  return new Template(name, {
    text,
    parseName: name,
    trees,
    funcs,
    missingKey: opts.missingKey ?? 'default',
  })
}

const cache = new Map<string, Template>()
const CACHE_LIMIT = 64

/**
 * Parses (once; parsed formats are cached) and executes a docker-style template with the docker
 * CLI's functions: `formatTemplate('{{.Name}}', container)`. Errors are TemplateErrors with Go's
 * message ("template: :1:2: executing ..."); docker prefixes them with "template parsing error: ".
 */
export function formatTemplate(format: string, data: unknown): string {
  let t = cache.get(format)
  if (!t) {
    t = parseTemplate(format)
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!)
    cache.set(format, t)
  }
  return t.execute(data)
}

/**
 * The docker CLI's --format conventions (cli/command/formatter.Context):
 *
 * - `table ...`: the text after "table" is the row template; a header row is rendered by
 *   executing the same template against the command's header map (with HeaderFunctions, so
 *   `upper`/`json`/`truncate`... leave headings alone), and header plus rows go through
 *   tabwriter.NewWriter(out, 10, 1, 3, ' ', 0).
 * - `json` (exactly): each row is printed as `{{json .}}`, one per line; a row serialises like
 *   docker's formatter contexts (exported fields and zero-argument methods, keys sorted).
 * - anything else: a Go template, executed once per row, each followed by a newline.
 * - the format is trimmed of spaces, and the two-character sequences `\t` and `\n` in it become
 *   a tab and a newline (so `--format 'table {{.ID}}\t{{.Name}}'` works from a shell).
 *
 * Errors (parse or execution) are TemplateErrors reading "template parsing error: template: ...",
 * as docker prints them; nothing is rendered when one occurs.
 */
import { TemplateError } from './errors.js'
import { type FuncMap, dockerFuncs, dockerJSON, goFunc, headerFuncs, marshalJSON } from './funcs.js'
import { type Template, parseTemplate } from './template.js'
import { TabWriter } from '../tabwriter.js'
import { GO_TYPE, compareStrings, isPlainObject, structLookup } from '../../lib/gofmt/values.js'

export const TABLE_FORMAT_KEY = 'table'
export const RAW_FORMAT_KEY = 'raw'
export const PRETTY_FORMAT_KEY = 'pretty'
export const JSON_FORMAT_KEY = 'json'
export const DEFAULT_QUIET_FORMAT = '{{.ID}}'
export const JSON_FORMAT = '{{json .}}'

/** Format.IsTable: the format starts with "table". */
export function isTableFormat(format: string): boolean {
  return format.startsWith(TABLE_FORMAT_KEY)
}

/** Format.IsJSON: the format is exactly "json". */
export function isJSONFormat(format: string): boolean {
  return format === JSON_FORMAT_KEY
}

/**
 * Context.preFormat: the template text a --format value stands for. Strips the "table" prefix,
 * turns "json" into `{{json .}}`, trims spaces and expands the `\t` and `\n` escapes.
 */
export function prepareFormat(format: string): { template: string; table: boolean; json: boolean } {
  const table = isTableFormat(format)
  const json = !table && isJSONFormat(format)
  let text = format
  if (table) text = text.slice(TABLE_FORMAT_KEY.length)
  else if (json) text = JSON_FORMAT
  text = text.replace(/^ +| +$/g, '')
  text = text.replace(/\\[tn]/g, (m) => (m === '\\t' ? '\t' : '\n'))
  return { template: text, table, json }
}

const unmarshallable = new Set(['FullHeader'])
const exported = /^\p{Lu}/u

/**
 * docker's formatter.MarshalJSON: a formatter context as JSON, an object of its exported
 * (capitalised) fields, getters and zero-argument methods, keys sorted.
 */
export function marshalContext(ctx: object): string {
  const m = new Map<string, unknown>()
  const consider = (name: string): void => {
    if (m.has(name) || unmarshallable.has(name) || !exported.test(name)) return
    const { found, value } = structLookup(ctx, name)
    if (!found) return
    if (typeof value === 'function') {
      if (value.length !== 0) return
      m.set(name, (value as (this: object) => unknown).call(ctx))
    } else {
      m.set(name, value)
    }
  }
  for (const k of Object.keys(ctx)) consider(k)
  if (!isPlainObject(ctx)) {
    for (let p = Object.getPrototypeOf(ctx) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      for (const k of Object.getOwnPropertyNames(p)) if (k !== 'constructor') consider(k)
    }
  }
  const sorted = new Map([...m.entries()].sort((a, b) => compareStrings(a[0], b[0])))
  // json.Marshal escapes <, > and & for HTML (`*:8080-\u003e80/tcp`); they occur only in strings.
  return marshalJSON(sorted).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)
}

export interface RenderOptions {
  /** The user's --format ("" or "table" for the command's default table). */
  format?: string
  /** One context per row (plain objects, or class instances whose getters/methods are fields). */
  rows: Iterable<unknown>
  /** Field name → column heading (ID → "CONTAINER ID"): the context the header row is rendered with. */
  headers?: Readonly<Record<string, string>>
  /** The command's default, e.g. 'table {{.ID}}\t{{.Image}}\t{{.Names}}'. */
  defaultTableFormat?: string
  /** -q: with the default ("" / "table") format, print quietFormat instead (docker's NewXFormat). */
  quiet?: boolean
  /** Defaults to '{{.ID}}'. */
  quietFormat?: string
  /** What `--format raw` stands for, for commands that have one. */
  rawFormat?: string
  /** Extra or replacement template functions (docker's are always there). */
  funcs?: FuncMap
  /**
   * Go type name for plain-object rows (e.g. "*formatter.ContainerContext"): makes them behave
   * as docker's structs, so `{{.Nope}}` fails ("can't evaluate field Nope in type ...") instead
   * of printing <no value>. Class instances and goStruct() objects are structs already.
   */
  rowType?: string
}

function wrap(err: unknown): never {
  if (err instanceof TemplateError) {
    throw new TemplateError(err.kind, err.templateName, `template parsing error: ${err.message}`, { cause: err })
  }
  throw err
}

/** The --format value a command ends up using (docker's NewContainerFormat and friends). */
export function resolveFormat(opts: Pick<RenderOptions, 'format' | 'defaultTableFormat' | 'quiet' | 'quietFormat' | 'rawFormat'>): string {
  const format = opts.format ?? ''
  if (format === '' || format === TABLE_FORMAT_KEY) {
    if (opts.quiet) return opts.quietFormat ?? DEFAULT_QUIET_FORMAT
    if (opts.defaultTableFormat !== undefined) return opts.defaultTableFormat
    if (format === '') return TABLE_FORMAT_KEY
  }
  if (format === RAW_FORMAT_KEY && opts.rawFormat !== undefined) return opts.rawFormat
  return format
}

/** A parsed --format value. */
export interface ParsedFormat {
  /** The row template (docker's functions; `{{json .}}` of the row itself is marshalContext). */
  template: Template
  table: boolean
  json: boolean
  /** Renders one row (without the trailing newline). Throws "template parsing error: ...". */
  executeRow(row: unknown): string
  /** Renders the header row for table formats (errors swallowed, partial output kept, as docker does). */
  executeHeader(headers: Readonly<Record<string, string>>): string
}

/** Options of parseFormat: see RenderOptions. */
export interface ParseFormatOptions {
  funcs?: FuncMap
  rowType?: string
}

function asStruct(row: unknown, rowType: string | undefined): unknown {
  if (rowType === undefined || row === null || typeof row !== 'object' || !isPlainObject(row)) return row
  if (Object.prototype.hasOwnProperty.call(row, GO_TYPE)) return row
  const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(row)) as Record<PropertyKey, unknown>
  Object.defineProperty(copy, GO_TYPE, { value: rowType, enumerable: false })
  return copy
}

/** Parses a --format value (after prepareFormat). Throws "template parsing error: ...". */
export function parseFormat(format: string, opts: ParseFormatOptions = {}): ParsedFormat {
  const { funcs, rowType } = opts
  const { template: text, table, json } = prepareFormat(format)
  let current: unknown
  const rowJSON = goFunc(['any'], (v: unknown) =>
    v !== null && typeof v === 'object' && v === current ? marshalContext(v) : dockerJSON(v),
  )
  let template: Template
  try {
    template = parseTemplate(text, { funcs: { ...dockerFuncs, json: rowJSON, ...funcs } })
  } catch (err) {
    wrap(err)
  }
  let headerTemplate: Template | undefined
  return {
    template,
    table,
    json,
    executeRow(row: unknown): string {
      row = asStruct(row, rowType)
      current = row // remembered so that `json .` can recognise the row
      try {
        return template.execute(row)
      } catch (err) {
        wrap(err)
      } finally {
        current = undefined
      }
    },
    executeHeader(headers: Readonly<Record<string, string>>): string {
      headerTemplate ??= template.withFuncs(headerFuncs)
      try {
        return headerTemplate.execute(headers)
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err
        return err.partialOutput ?? ''
      }
    },
  }
}

/**
 * Renders rows as `docker <command> ls --format FORMAT` would: returns the whole output (every
 * line newline-terminated), or throws a TemplateError reading "template parsing error: ...".
 */
export function renderRows(opts: RenderOptions): string {
  const format = resolveFormat(opts)
  const parsed = parseFormat(format, { funcs: opts.funcs, rowType: opts.rowType })
  let body = ''
  for (const row of opts.rows) body += parsed.executeRow(row) + '\n'
  if (!parsed.table) return body
  // The header: the same template executed against the headings.
  const tw = new TabWriter(10, 1, 3, ' ', 0)
  tw.write(parsed.executeHeader(opts.headers ?? {}))
  tw.write('\n')
  tw.write(body)
  return tw.flush()
}

/**
 * Go's text/template for JavaScript data, with the docker CLI's template functions: what
 * `--format` means to docker is what it means to berth.
 *
 *   const t = parseTemplate('{{.Name}}\t{{.ID | truncate 12}}')   // parse once
 *   for (const row of rows) out += t.execute(row) + '\n'           // execute many times
 *
 * See values.ts for how JavaScript values stand for Go's (plain objects are maps, class
 * instances and goStruct()-marked objects are structs, function properties are methods).
 */
export { Template, type TemplateOptions, formatTemplate, parseTemplate } from './template.js'
export { TemplateError, type TemplateErrorKind } from './errors.js'
export type { MissingKey } from './exec.js'
export { MAX_EXEC_DEPTH } from './exec.js'
export {
  type ArgType,
  type FuncMap,
  type GoFunc,
  type TemplateFunc,
  builtins,
  dockerFuncs,
  dockerJSON,
  goFunc,
  goLower,
  goSplit,
  goTitle,
  goUpper,
  headerFuncs,
  htmlEscape,
  jsEscape,
  marshalJSON,
  padWithSpace,
  truncateWithLength,
  urlQueryEscape,
} from './funcs.js'
export { formatFloat, formatValue, quote, sprint, sprintf, sprintln, unquote } from '../../lib/gofmt/fmt.js'
export { GO_TYPE, GoComplex, goStruct, isTrue, typeName } from '../../lib/gofmt/values.js'
export {
  DEFAULT_QUIET_FORMAT,
  JSON_FORMAT,
  JSON_FORMAT_KEY,
  PRETTY_FORMAT_KEY,
  RAW_FORMAT_KEY,
  TABLE_FORMAT_KEY,
  type ParseFormatOptions,
  type ParsedFormat,
  type RenderOptions,
  isJSONFormat,
  isTableFormat,
  marshalContext,
  parseFormat,
  prepareFormat,
  renderRows,
  resolveFormat,
} from './docker-format.js'

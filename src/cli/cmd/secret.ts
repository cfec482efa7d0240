/**
 * `berth secret create|ls|inspect|rm` (and, through config.ts, `berth config ...`), as the
 * docker CLI 28: the two kinds differ in their table (secrets have DRIVER), their pretty
 * template (configs print their data) and their words.
 */
import { readFile } from 'node:fs/promises'
import { CliExit, type CliContext } from '../context.js'
import { eachArg, executeTemplate, filtersParam, renderTable } from '../format.js'
import { inspectSwarm, kvMap, naturalLess, prettyTime, readStream, since, type Json } from './swarm-util.js'

export type Kind = 'secret' | 'config'

const MAX_SIZE = 500 * 1024

/** readSecretData / readConfigData: a file, or `-` for stdin; empty data is an error. */
export async function readObjectData(kind: Kind, file: string | undefined): Promise<Buffer> {
  if (file === undefined || file === '') throw new CliExit(1, `${kind} file is required`)
  if (file === '-') {
    let data: Buffer
    try { data = await readStream(process.stdin) } catch (err) { throw new CliExit(1, `error reading from STDIN: ${(err as Error).message}`) }
    data = data.subarray(0, 2 * MAX_SIZE)
    if (!data.length) throw new CliExit(1, 'error reading from STDIN: data is empty')
    return data
  }
  let data: Buffer
  try {
    data = await readFile(file)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const why = e.code === 'ENOENT' ? 'no such file or directory' : e.code === 'EISDIR' ? 'is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message
    throw new CliExit(1, `error reading from ${file}: open ${file}: ${why}`)
  }
  if (!data.length) throw new CliExit(1, `error reading from ${file}: data is empty`)
  return data.subarray(0, 2 * MAX_SIZE)
}

/** The create body (swarm.SecretSpec / ConfigSpec as the docker CLI marshals it). */
export function objectSpec(kind: Kind, name: string, data: Buffer | undefined, f: { label?: unknown; driver?: unknown; 'template-driver'?: unknown }): Json {
  return {
    Name: name,
    Labels: kvMap(f.label),
    ...(data && data.length ? { Data: data.toString('base64') } : {}),
    ...(kind === 'secret' && f.driver ? { Driver: { Name: f.driver } } : {}),
    ...(f['template-driver'] ? { Templating: { Name: f['template-driver'] } } : {}),
  }
}

export async function createObject(ctx: CliContext, kind: Kind): Promise<void> {
  const f = ctx.flags
  const [name = '', file] = ctx.args
  let data: Buffer | undefined
  if (kind === 'secret' && f.driver) {
    if (file) throw new CliExit(1, 'When using secret driver secret data must be empty')
  } else data = await readObjectData(kind, file)
  const r = await ctx.client().json<{ ID: string }>('POST', `/${kind}s/create`, { body: objectSpec(kind, name, data, f) })
  ctx.out.write(`${r.ID}\n`)
}

export const SECRET_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}'
export const CONFIG_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CreatedAt}}\t{{.UpdatedAt}}'
const HEADERS = { ID: 'ID', Name: 'NAME', Driver: 'DRIVER', CreatedAt: 'CREATED', UpdatedAt: 'UPDATED', Labels: 'LABELS' }

export function objectRow(o: Json): Record<string, unknown> {
  const labels = (o.Spec?.Labels ?? null) as Record<string, string> | null
  return {
    ID: o.ID,
    Name: o.Spec?.Name ?? '',
    Driver: o.Spec?.Driver?.Name ?? '',
    CreatedAt: `${since(o.CreatedAt)} ago`,
    UpdatedAt: `${since(o.UpdatedAt)} ago`,
    Labels: labels ? Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') : '',
    Label: (k: string) => labels?.[k] ?? '',
  }
}

export async function listObjects(ctx: CliContext, kind: Kind): Promise<void> {
  const f = ctx.flags
  const filters = filtersParam(f.filter as string[] | undefined)
  const list = await ctx.client().json<Json[]>('GET', `/${kind}s`, { query: Object.keys(filters).length ? { filters: JSON.stringify(filters) } : {} })
  list.sort((a, b) => naturalLess(a.Spec?.Name ?? '', b.Spec?.Name ?? ''))
  let format = f.format as string | undefined
  if (!format) {
    const { readConfigFile } = await import('../config-file.js')
    const c = (await readConfigFile(ctx.configDir))[kind === 'secret' ? 'secretFormat' : 'configFormat'] as string | undefined
    format = c && !f.quiet ? c : 'table'
  }
  await renderTable(ctx, { format, quiet: !!f.quiet, defaultFormat: kind === 'secret' ? SECRET_TABLE : CONFIG_TABLE, headers: HEADERS, rows: list.map(objectRow) })
}

export const SECRET_PRETTY = `ID:              {{.ID}}
Name:              {{.Name}}
{{- if .Labels }}
Labels:
{{- range $k, $v := .Labels }}
 - {{ $k }}{{if $v }}={{ $v }}{{ end }}
{{- end }}{{ end }}
Driver:            {{.Driver}}
Created at:        {{.CreatedAt}}
Updated at:        {{.UpdatedAt}}`

export const CONFIG_PRETTY = `ID:			{{.ID}}
Name:			{{.Name}}
{{- if .Labels }}
Labels:
{{- range $k, $v := .Labels }}
 - {{ $k }}{{if $v }}={{ $v }}{{ end }}
{{- end }}{{ end }}
Created at:            	{{.CreatedAt}}
Updated at:            	{{.UpdatedAt}}
Data:
{{.Data}}`

export function prettyContext(o: Json): Record<string, unknown> {
  return {
    ID: o.ID,
    Name: o.Spec?.Name ?? '',
    Labels: o.Spec?.Labels ?? {},
    Driver: o.Spec?.Driver?.Name ?? '',
    CreatedAt: prettyTime(o.CreatedAt),
    UpdatedAt: prettyTime(o.UpdatedAt),
    Data: o.Spec?.Data ? Buffer.from(String(o.Spec.Data), 'base64').toString('utf8') : '',
  }
}

export async function inspectObjects(ctx: CliContext, kind: Kind): Promise<number> {
  const f = ctx.flags
  if (!f.pretty) return inspectSwarm(ctx, (name) => `/${kind}s/${encodeURIComponent(name)}`)
  if (f.format) throw new CliExit(1, 'cannot supply extra formatting options to the pretty template')
  for (const name of ctx.args) {
    const o = await ctx.client().json<Json>('GET', `/${kind}s/${encodeURIComponent(name)}`)
    ctx.out.write(`${executeTemplate(kind === 'secret' ? SECRET_PRETTY : CONFIG_PRETTY, prettyContext(o))}\n`)
  }
  return 0
}

export async function removeObjects(ctx: CliContext, kind: Kind): Promise<number> {
  return eachArg(ctx, (name) => ctx.client().call('DELETE', `/${kind}s/${encodeURIComponent(name)}`).then((r) => { r.resume() }))
}

export const create = (ctx: CliContext) => createObject(ctx, 'secret')
export const ls = (ctx: CliContext) => listObjects(ctx, 'secret')
export const inspect = (ctx: CliContext) => inspectObjects(ctx, 'secret')
export const rm = (ctx: CliContext) => removeObjects(ctx, 'secret')

import { CliExit, type CliContext } from '../context.js'
import { confirm, eachArg, filtersParam, humanSize, inspectEach, renderTable } from '../format.js'

interface WireVolume { Name: string; Driver: string; Labels: Record<string, string> | null; Mountpoint: string; Scope: string; Options: Record<string, string> | null; CreatedAt: string }

const pairs = (list: unknown, flag: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const l of (list as string[] | undefined) ?? []) {
    const i = l.indexOf('=')
    if (flag === 'opt' && i < 0) throw new CliExit(125, `invalid argument "${l}" for "-o, --opt" flag: invalid key value pair format in driver options`)
    out[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1)
  }
  return out
}

export async function create(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const name = ctx.args[0] ?? (f.name as string | undefined) ?? ''
  if (ctx.args[0] && f.name && f.name !== ctx.args[0]) throw new CliExit(1, `conflicting options: either specify --name or provide positional arg, not both`)
  const v = await ctx.client().json<WireVolume>('POST', '/volumes/create', { body: { Name: name, Driver: (f.driver as string) ?? 'local', DriverOpts: pairs(f.opt, 'opt'), Labels: pairs(f.label, 'label') } })
  ctx.out.write(`${v.Name}\n`)
}

export async function ls(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const filters = filtersParam(f.filter as string[] | undefined)
  const out = await ctx.client().json<{ Volumes: WireVolume[] | null }>('GET', '/volumes', { query: Object.keys(filters).length ? { filters: JSON.stringify(filters) } : {} })
  const { readConfigFile } = await import('../config-file.js')
  const format = (f.format as string | undefined) ?? (f.quiet ? undefined : ((await readConfigFile(ctx.configDir)).volumesFormat as string | undefined))
  const vols = [...(out.Volumes ?? [])].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
  await renderTable(ctx, {
    format,
    quiet: !!f.quiet,
    quietFormat: '{{.Name}}',
    defaultFormat: 'table {{.Driver}}\t{{.Name}}',
    headers: { Driver: 'DRIVER', Name: 'VOLUME NAME', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', Group: 'GROUP', Availability: 'AVAILABILITY', Status: 'STATUS' },
    rows: vols.map((v) => ({
      Driver: v.Driver, Name: v.Name, Scope: v.Scope, Mountpoint: v.Mountpoint,
      Labels: Object.entries(v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','),
      Links: 'N/A', Size: 'N/A', Group: 'N/A', Availability: 'N/A', Status: 'N/A',
      Label: (k: string) => v.Labels?.[k] ?? '',
    })),
  })
}

export async function inspect(ctx: CliContext): Promise<number> {
  return inspectEach(ctx, (name) => `/volumes/${encodeURIComponent(name)}`)
}

export async function rm(ctx: CliContext): Promise<number> {
  const client = ctx.client()
  return eachArg(ctx, (name) => client.call('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: ctx.flags.force ? { force: true } : {} }).then(() => {}))
}

export async function prune(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const filters = filtersParam(f.filter as string[] | undefined)
  if (f.all) filters.all = ['true']
  const warning = f.all ? 'WARNING! This will remove all local volumes not used by at least one container.' : 'WARNING! This will remove anonymous local volumes not used by at least one container.'
  if (!f.force && !(await confirm(ctx, `${warning}\nAre you sure you want to continue?`))) return
  const out = await ctx.client().json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters: JSON.stringify(filters) } })
  if (out.VolumesDeleted?.length) ctx.out.write(`Deleted Volumes:\n${out.VolumesDeleted.join('\n')}\n\n`)
  ctx.out.write(`Total reclaimed space: ${humanSize(out.SpaceReclaimed)}\n`)
}

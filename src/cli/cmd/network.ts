import { ApiError } from '../../client/client.js'
import { CliExit, type CliContext } from '../context.js'
import { confirm, eachArg, filtersParam, inspectEach, renderTable, truncId } from '../format.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : [])
const pairs = (l: unknown, flag: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const x of list(l)) {
    const i = x.indexOf('=')
    if (i < 0 && flag === 'opt') throw new CliExit(125, `invalid argument "${x}" for "-o, --opt" flag: invalid key value pair format in driver options`)
    out[i < 0 ? x : x.slice(0, i)] = i < 0 ? '' : x.slice(i + 1)
  }
  return out
}

export async function create(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const subnets = list(f.subnet)
  const gateways = list(f.gateway)
  const ranges = list(f['ip-range'])
  if (gateways.length > subnets.length || ranges.length > subnets.length) throw new CliExit(1, 'Error: every ip-range or gateway must have a corresponding subnet')
  if (list(f['aux-address']).length) throw new CliExit(1, 'Error: --aux-address is not supported by this berthd')
  const config = subnets.map((s, i) => ({ Subnet: s, ...(gateways[i] ? { Gateway: gateways[i] } : {}), ...(ranges[i] ? { IPRange: ranges[i] } : {}) }))
  const out = await ctx.client().json<{ Id: string }>('POST', '/networks/create', {
    body: {
      Name: ctx.args[0], Driver: (f.driver as string) || 'bridge', Internal: !!f.internal, Attachable: !!f.attachable, EnableIPv6: !!f.ipv6,
      ...(f.scope ? { Scope: f.scope } : {}),
      IPAM: { Driver: (f['ipam-driver'] as string) || 'default', Config: config, Options: {} },
      Options: pairs(f.opt, 'opt'), Labels: pairs(f.label, 'label'),
    },
  })
  ctx.out.write(`${out.Id}\n`)
}

export async function ls(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const filters = filtersParam(f.filter as string[] | undefined)
  const nets = await ctx.client().json<Json[]>('GET', '/networks', { query: Object.keys(filters).length ? { filters: JSON.stringify(filters) } : {} })
  nets.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
  await renderTable(ctx, {
    format: f.format as string | undefined,
    quiet: !!f.quiet,
    quietFormat: '{{.ID}}',
    defaultFormat: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
    headers: { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', CreatedAt: 'CREATED AT', Labels: 'LABELS' },
    rows: nets.map((n) => ({
      ID: f['no-trunc'] ? n.Id : truncId(n.Id), Name: n.Name, Driver: n.Driver, Scope: n.Scope,
      IPv4: String(n.EnableIPv4 ?? true), IPv6: String(n.EnableIPv6), Internal: String(n.Internal), CreatedAt: String(n.Created),
      Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
      Label: (k: string) => n.Labels?.[k] ?? '',
    })),
  })
}

export async function inspect(ctx: CliContext): Promise<number> {
  return inspectEach(ctx, (name) => `/networks/${encodeURIComponent(name)}`)
}

export async function rm(ctx: CliContext): Promise<number> {
  return eachArg(ctx, (name) => ctx.client().call('DELETE', `/networks/${encodeURIComponent(name)}`).then(() => {}), undefined, (err) => !!ctx.flags.force && err.status === 404)
}

export async function prune(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const filters = filtersParam(f.filter as string[] | undefined)
  if (!f.force && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?'))) return
  const out = await ctx.client().json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters: JSON.stringify(filters) } })
  if (out.NetworksDeleted?.length) ctx.out.write(`Deleted Networks:\n${out.NetworksDeleted.join('\n')}\n`)
}

export async function connect(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  if (f.ip6 || list(f['link-local-ip']).length || list(f['driver-opt']).length || list(f.link).length) throw new CliExit(1, 'Error: --ip6, --link, --link-local-ip and --driver-opt are not supported by this berthd')
  await ctx.client().call('POST', `/networks/${encodeURIComponent(ctx.args[0]!)}/connect`, {
    body: { Container: ctx.args[1], EndpointConfig: { Aliases: list(f.alias), ...(f.ip ? { IPAMConfig: { IPv4Address: f.ip } } : {}) } },
  })
}

export async function disconnect(ctx: CliContext): Promise<void> {
  await ctx.client().call('POST', `/networks/${encodeURIComponent(ctx.args[0]!)}/disconnect`, { body: { Container: ctx.args[1], Force: !!ctx.flags.force } })
}

export async function port(ctx: CliContext): Promise<void> {
  const [ref = '', want] = ctx.args
  let c: Json
  try {
    c = await ctx.client().json<Json>('GET', `/containers/${encodeURIComponent(ref)}/json`)
  } catch (err) {
    if (err instanceof ApiError) throw new CliExit(1, `Error response from daemon: ${err.message}`)
    throw err
  }
  const ports = (c.NetworkSettings?.Ports ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>
  if (want) {
    const key = want.includes('/') ? want : `${want}/tcp`
    const b = ports[key]
    if (!b?.length) throw new CliExit(1, `Error: No public port '${key}' published for ${ref}`)
    for (const x of b) ctx.out.write(`${x.HostIp}:${x.HostPort}\n`)
    return
  }
  for (const [k, b] of Object.entries(ports).sort(([a], [z]) => Number(a.split('/')[0]) - Number(z.split('/')[0]))) {
    for (const x of b ?? []) ctx.out.write(`${k} -> ${x.HostIp}:${x.HostPort}\n`)
  }
}

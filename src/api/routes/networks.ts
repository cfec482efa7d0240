import type { NetworkBackend, NetworkListFilters, NetworkView } from '../backend.js'
import { Filters } from '../../lib/filters.js'
import { defined, parsePruneFilters } from '../filters.js'
import { invalid } from '../../lib/errors.js'
import { readJsonBody } from '../http.js'
import type { Router } from '../router.js'
import { endpointExtras, toWireNetwork } from '../wire-network.js'

type Wire = Record<string, unknown>
const obj = (v: unknown): Wire => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Wire) : {})
const strMap = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, String(x)]))

/** `docker network ls` filters, checked with Docker's messages. */
export function parseNetworkFilters(raw: string | null): NetworkListFilters {
  const f = Filters.parse(raw).validate(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'])
  const type = f.opt('type')
  for (const t of type ?? []) if (t !== 'custom' && t !== 'builtin') throw invalid('ERR_INVALID_FILTER', `invalid filter: 'type'='${t}'`)
  return defined({ dangling: f.bool('dangling'), driver: f.opt('driver'), id: f.opt('id'), label: f.opt('label'), name: f.opt('name'), scope: f.opt('scope'), type: type as NetworkListFilters['type'] })
}

/** /networks: list, inspect, create, remove, connect, disconnect, prune. */
export function networkRoutes(r: Router, b: NetworkBackend): void {
  const wire = (v: NetworkView) => toWireNetwork(v.network, v.endpoints)

  r.add('GET', '/networks', async (ctx) => (await b.list(parseNetworkFilters(ctx.query.get('filters')))).map(wire))

  r.add('GET', '/networks/{id}', async (ctx) => wire(await b.inspect(decodeURIComponent(ctx.params[0]!))))

  r.add('POST', '/networks/create', async (ctx) => {
    const body = obj(await readJsonBody<Wire>(ctx.req))
    const name = typeof body.Name === 'string' ? body.Name : ''
    if (!name) throw invalid('ERR_BAD_NAME', 'network name must not be empty')
    if (body.ConfigOnly || (body.ConfigFrom && obj(body.ConfigFrom).Network)) throw invalid('ERR_CONFIG_ONLY', 'config-only networks are not supported by this berthd')
    if (body.Ingress) throw invalid('ERR_INGRESS', 'ingress networks need swarm mode, which this berthd does not support')
    if (typeof body.Scope === 'string' && body.Scope && body.Scope !== 'local') throw invalid('ERR_SCOPE', `scope ${body.Scope} is not supported by this berthd`)
    const ipam = obj(body.IPAM)
    const out = await b.create({
      name,
      ...(typeof body.Driver === 'string' ? { driver: body.Driver } : {}),
      internal: !!body.Internal,
      attachable: !!body.Attachable,
      enableIPv6: !!body.EnableIPv6,
      labels: strMap(body.Labels),
      options: strMap(body.Options),
      ipam: {
        ...(typeof ipam.Driver === 'string' ? { driver: ipam.Driver } : {}),
        config: (Array.isArray(ipam.Config) ? ipam.Config : []).map((c: unknown) => {
          const x = obj(c)
          return { ...(x.Subnet ? { subnet: String(x.Subnet) } : {}), ...(x.Gateway ? { gateway: String(x.Gateway) } : {}), ...(x.IPRange ? { ipRange: String(x.IPRange) } : {}) }
        }),
      },
    })
    ctx.res.writeHead(201, { 'Content-Type': 'application/json' })
    ctx.res.end(JSON.stringify({ Id: out.id, Warning: out.warning }))
  })

  r.add('DELETE', '/networks/{id}', async (ctx) => {
    await b.remove(decodeURIComponent(ctx.params[0]!))
    ctx.res.writeHead(204)
    ctx.res.end()
  })

  r.add('POST', '/networks/{id}/connect', async (ctx) => {
    const body = obj(await readJsonBody<Wire>(ctx.req))
    const ep = obj(body.EndpointConfig)
    const ipamCfg = obj(ep.IPAMConfig)
    if (ipamCfg.IPv6Address) throw invalid('ERR_IPV6', 'IPv6 addresses are not supported by this berthd')
    await b.connect(decodeURIComponent(ctx.params[0]!), String(body.Container ?? ''), {
      aliases: Array.isArray(ep.Aliases) ? ep.Aliases.map(String) : [],
      ipv4Address: typeof ipamCfg.IPv4Address === 'string' ? ipamCfg.IPv4Address : '',
      macAddress: typeof ep.MacAddress === 'string' ? ep.MacAddress : '',
      links: Array.isArray(ep.Links) ? ep.Links.map(String) : [],
      ...endpointExtras(ep),
    })
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' })
    ctx.res.end()
  })

  r.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    const body = obj(await readJsonBody<Wire>(ctx.req))
    await b.disconnect(decodeURIComponent(ctx.params[0]!), String(body.Container ?? ''), !!body.Force)
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' })
    ctx.res.end()
  })

  r.add('POST', '/networks/prune', async (ctx) => ({ NetworksDeleted: await b.prune(parsePruneFilters(ctx.query.get('filters'))) }))
}

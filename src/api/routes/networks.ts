import type { Daemon } from '../../daemon/daemon.js'
import { Filters, parseTimestamp } from '../../engine/filters.js'
import { invalid } from '../../lib/errors.js'
import type { NetworkRecord } from '../../network/types.js'
import { readJsonBody } from '../http.js'
import type { Router } from '../router.js'
import { toWireNetwork } from '../wire-network.js'

type Wire = Record<string, unknown>
const obj = (v: unknown): Wire => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Wire) : {})
const strMap = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, String(x)]))
const BUILTIN = ['bridge', 'host', 'none']

/** /networks: list, inspect, create, remove, connect, disconnect, prune. */
export function networkRoutes(r: Router, d: Daemon): void {
  const svc = () => d.engine.networks
  const wire = (n: NetworkRecord) => toWireNetwork(n, svc().endpointsOn(n.id))

  r.add('GET', '/networks', (ctx) => {
    const f = Filters.parse(ctx.query.get('filters'))
    f.validate(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'])
    for (const t of f.get('type')) if (t !== 'custom' && t !== 'builtin') throw invalid('ERR_INVALID_FILTER', `invalid filter: 'type'='${t}'`)
    const dangling = f.bool('dangling')
    return svc().list().filter((n) => {
      if (f.has('driver') && !f.get('driver').includes(n.driver)) return false
      if (f.has('id') && !f.get('id').some((x) => n.id.includes(x))) return false
      if (f.has('name') && !f.get('name').some((x) => n.name.includes(x))) return false
      if (f.has('scope') && !f.get('scope').includes('local')) return false
      if (f.has('type') && !f.get('type').includes(BUILTIN.includes(n.name) ? 'builtin' : 'custom')) return false
      if (!f.matchLabels('label', n.labels)) return false
      if (dangling !== undefined) {
        const used = BUILTIN.includes(n.name) || svc().endpointsOn(n.id).length > 0 || d.engine.containers.store.all().some((c) => c.hostConfig.networkMode === n.name || c.hostConfig.networkMode === n.id || Object.keys(c.endpointsConfig ?? {}).includes(n.name))
        if (dangling === used) return false
      }
      return true
    }).sort((a, b) => (a.created < b.created ? -1 : 1)).map(wire)
  })

  r.add('GET', '/networks/{id}', (ctx) => wire(svc().resolveNetwork(decodeURIComponent(ctx.params[0]!))))

  r.add('POST', '/networks/create', async (ctx) => {
    const b = obj(await readJsonBody<Wire>(ctx.req))
    const name = typeof b.Name === 'string' ? b.Name : ''
    if (!name) throw invalid('ERR_BAD_NAME', 'network name must not be empty')
    if (b.ConfigOnly || (b.ConfigFrom && obj(b.ConfigFrom).Network)) throw invalid('ERR_CONFIG_ONLY', 'config-only networks are not supported by this berthd')
    if (b.Ingress) throw invalid('ERR_INGRESS', 'ingress networks need swarm mode, which this berthd does not support')
    if (typeof b.Scope === 'string' && b.Scope && b.Scope !== 'local') throw invalid('ERR_SCOPE', `scope ${b.Scope} is not supported by this berthd`)
    const ipam = obj(b.IPAM)
    const out = await svc().create({
      name,
      ...(typeof b.Driver === 'string' ? { driver: b.Driver } : {}),
      internal: !!b.Internal,
      attachable: !!b.Attachable,
      enableIPv6: !!b.EnableIPv6,
      labels: strMap(b.Labels),
      options: strMap(b.Options),
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
    await svc().remove(decodeURIComponent(ctx.params[0]!))
    ctx.res.writeHead(204)
    ctx.res.end()
  })

  r.add('POST', '/networks/{id}/connect', async (ctx) => {
    const b = obj(await readJsonBody<Wire>(ctx.req))
    const ep = obj(b.EndpointConfig)
    const ipamCfg = obj(ep.IPAMConfig)
    if (ipamCfg.IPv6Address) throw invalid('ERR_IPV6', 'IPv6 addresses are not supported by this berthd')
    await svc().connect(decodeURIComponent(ctx.params[0]!), String(b.Container ?? ''), {
      aliases: Array.isArray(ep.Aliases) ? ep.Aliases.map(String) : [],
      ipv4Address: typeof ipamCfg.IPv4Address === 'string' ? ipamCfg.IPv4Address : '',
      macAddress: typeof ep.MacAddress === 'string' ? ep.MacAddress : '',
    })
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' })
    ctx.res.end()
  })

  r.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    const b = obj(await readJsonBody<Wire>(ctx.req))
    await svc().disconnect(decodeURIComponent(ctx.params[0]!), String(b.Container ?? ''), !!b.Force)
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' })
    ctx.res.end()
  })

  r.add('POST', '/networks/prune', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters'))
    f.validate(['label', 'label!', 'until'])
    const until = f.get('until').map((u) => parseTimestamp(u))
    const deleted = await svc().prune((n) => {
      if (until.some((u) => Date.parse(n.created) >= u)) return false
      if (!f.matchLabels('label', n.labels)) return false
      if (f.get('label!').some((l) => { const [k = '', v] = l.split('='); return v === undefined ? k in n.labels : n.labels[k] === v })) return false
      return true
    })
    return { NetworksDeleted: deleted }
  })
}

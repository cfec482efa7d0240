import type { NetworkBackend, NetworkListFilters, NetworkView, SwarmNetwork, SwarmNetworks } from '../backend.js'
import { Filters } from '../../lib/filters.js'
import { defined, parsePruneFilters } from '../filters.js'
import { EngineError, invalid } from '../../lib/errors.js'
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

/** A swarm network as `GET /networks` gives it on a manager (Scope swarm, Driver overlay). `local`: its node-local part, when this node has one. */
export function toWireSwarmNetwork(n: SwarmNetwork, local?: NetworkView): Wire {
  const base = local ? toWireNetwork(local.network, local.endpoints) : { Containers: {} }
  return {
    ...base,
    Name: n.spec.name, Id: n.id, Created: n.createdAt, Scope: 'swarm', Driver: 'overlay', EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: n.spec.ipam.driver || 'default', Options: null, Config: n.spec.ipam.config.filter((c) => c.subnet).map((c) => ({ Subnet: c.subnet, Gateway: c.gateway })) },
    Internal: n.spec.internal, Attachable: n.spec.attachable, Ingress: n.spec.ingress, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Options: n.spec.options, Labels: n.spec.labels,
  }
}

function swarmMatches(n: SwarmNetwork, f: NetworkListFilters): boolean {
  if (f.driver && !f.driver.includes('overlay')) return false
  if (f.id && !f.id.some((x) => n.id.includes(x))) return false
  if (f.name && !f.name.some((x) => n.spec.name.includes(x))) return false
  if (f.scope && !f.scope.includes('swarm')) return false
  if (f.type && !f.type.includes('custom')) return false
  if (f.dangling === true) return false
  for (const l of f.label ?? []) {
    const [k = '', v] = l.split('=')
    if (!(k in n.spec.labels) || (v !== undefined && n.spec.labels[k] !== v)) return false
  }
  return true
}

/** The swarm networks when this node is a manager, else none (a worker or a node outside swarm lists its local networks only). */
async function swarmList(cluster: SwarmNetworks | undefined): Promise<SwarmNetwork[]> {
  if (!cluster) return []
  try {
    return await cluster.listSwarmNetworks()
  } catch (err) {
    if (err instanceof EngineError && err.kind === 'Unavailable') return []
    throw err
  }
}

const isNotFound = (err: unknown) => err instanceof EngineError && err.kind === 'NotFound'

/** `network create` with a swarm-scoped driver outside a manager: Docker's words. */
const WORKER_CREATE = 'Cannot create a multi-host network from a worker node. Please create the network from a manager node.'

/**
 * /networks: list, inspect, create, remove, connect, disconnect, prune. `cluster` (a swarm
 * node's): on a manager, list/inspect show the swarm networks (Scope swarm), `create -d overlay`
 * and `rm` of a swarm network go to the cluster.
 */
export function networkRoutes(r: Router, b: NetworkBackend, cluster?: SwarmNetworks): void {
  const wire = (v: NetworkView) => toWireNetwork(v.network, v.endpoints)

  r.add('GET', '/networks', async (ctx) => {
    const f = parseNetworkFilters(ctx.query.get('filters'))
    const locals = await b.list(f)
    const swarm = (await swarmList(cluster)).filter((n) => swarmMatches(n, f))
    const ids = new Set(swarm.map((n) => n.id))
    const all = swarm.length ? await b.list({}) : []
    return [...locals.filter((v) => !ids.has(v.network.id)).map(wire), ...swarm.map((n) => toWireSwarmNetwork(n, all.find((v) => v.network.id === n.id)))]
  })

  r.add('GET', '/networks/{id}', async (ctx) => {
    const ref = decodeURIComponent(ctx.params[0]!)
    const local = await localNetwork(b, ref, cluster)
    if (local && local.network.driver !== 'overlay') return wire(local)
    if (cluster) {
      try {
        return toWireSwarmNetwork(await cluster.inspectSwarmNetwork(local?.network.id ?? ref), local)
      } catch (err) {
        const ok = err instanceof EngineError && (err.kind === 'Unavailable' || err.kind === 'NotFound')
        if (!ok) throw err
        if (!local) throw isNotFound(err) ? err : new EngineError('NotFound', 'ERR_NETWORK_NOT_FOUND', `network ${ref} not found`)
      }
    }
    return wire(local!)
  })

  r.add('POST', '/networks/create', async (ctx) => {
    const body = obj(await readJsonBody<Wire>(ctx.req))
    const name = typeof body.Name === 'string' ? body.Name : ''
    if (!name) throw invalid('ERR_BAD_NAME', 'network name must not be empty')
    if (body.ConfigOnly || (body.ConfigFrom && obj(body.ConfigFrom).Network)) throw invalid('ERR_CONFIG_ONLY', 'config-only networks are not supported by this berthd')
    const ipam = obj(body.IPAM)
    if (body.Driver === 'overlay' || body.Ingress || body.Scope === 'swarm') {
      if (!cluster) throw new EngineError('Unavailable', 'ERR_SWARM_NOT_MANAGER', 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.')
      if (body.EnableIPv6) throw invalid('ERR_IPV6', 'IPv6 networks are not supported by this berthd')
      let id: string
      try {
        id = await cluster.createSwarmNetwork({
          name, labels: strMap(body.Labels), driver: 'overlay', options: strMap(body.Options), attachable: !!body.Attachable, ingress: !!body.Ingress, internal: !!body.Internal,
          ipam: {
            driver: typeof ipam.Driver === 'string' && ipam.Driver ? ipam.Driver : 'default',
            config: (Array.isArray(ipam.Config) ? ipam.Config : []).map((c: unknown) => { const x = obj(c); return { subnet: x.Subnet ? String(x.Subnet) : '', gateway: x.Gateway ? String(x.Gateway) : '' } }),
          },
        })
      } catch (err) {
        if (err instanceof EngineError && err.code === 'ERR_SWARM_WORKER') throw new EngineError('Forbidden', 'ERR_SWARM_WORKER_NETWORK', WORKER_CREATE)
        throw err
      }
      ctx.res.writeHead(201, { 'Content-Type': 'application/json' })
      ctx.res.end(JSON.stringify({ Id: id, Warning: '' }))
      return
    }
    if (typeof body.Scope === 'string' && body.Scope && body.Scope !== 'local') throw invalid('ERR_SCOPE', `scope ${body.Scope} is not supported by this berthd`)
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
    const ref = decodeURIComponent(ctx.params[0]!)
    const local = await localNetwork(b, ref, cluster)
    if (cluster && (!local || local.network.driver === 'overlay')) {
      await cluster.removeSwarmNetwork(local?.network.id ?? ref)
    } else await b.remove(ref)
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

/** The local network of that name or ID; with a cluster, none (undefined) when it is not local: a swarm network may be meant. */
async function localNetwork(b: NetworkBackend, ref: string, cluster: SwarmNetworks | undefined): Promise<NetworkView | undefined> {
  try {
    return await b.inspect(ref)
  } catch (err) {
    if (!isNotFound(err) || !cluster) throw err
    return undefined
  }
}

import type { ContainerRecord, HostConfig } from '../engine/containers/types.js'
import { invalid } from '../lib/errors.js'
import type { ContainerNetworkState, NetworkRecord } from '../network/types.js'

type Wire = Record<string, unknown>

const obj = <T = Wire>(v: unknown): T => (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as T
const arr = (v: unknown): string[] => (Array.isArray(v) ? (v as unknown[]).map(String) : [])
const str = (v: unknown): string => (typeof v === 'string' ? v : '')

/**
 * The network part of a create request: HostConfig.NetworkMode, PortBindings,
 * PublishAllPorts, Links and NetworkingConfig.EndpointsConfig (and the old Config.MacAddress).
 */
export function fromWireNetwork(body: Wire, h: Wire): Pick<HostConfig, 'networkMode' | 'portBindings' | 'publishAllPorts' | 'links'> & { endpointsConfig?: ContainerRecord['endpointsConfig'] } {
  const networkMode = typeof h.NetworkMode === 'string' && h.NetworkMode ? h.NetworkMode : 'default'
  const portBindings: HostConfig['portBindings'] = {}
  for (const [k, v] of Object.entries(obj(h.PortBindings))) {
    if (!/^\d+(-\d+)?(\/[a-z]+)?$/.test(k)) throw invalid('ERR_BAD_PORT', `invalid port specification: "${k}"`)
    const key = k.includes('/') ? k : `${k}/tcp`
    portBindings[key] = (Array.isArray(v) ? v : []).map((b: unknown) => ({ hostIp: str(obj(b).HostIp), hostPort: str(obj(b).HostPort) }))
  }
  const links = arr(h.Links).map((l) => {
    const [name = '', alias] = l.split(':')
    if (!name) throw invalid('ERR_LINK', `invalid link format: ${l}`)
    return `${name.replace(/^\//, '')}:${(alias ?? name).replace(/^.*\//, '')}`
  })
  const endpointsConfig: NonNullable<ContainerRecord['endpointsConfig']> = {}
  for (const [name, e] of Object.entries(obj(obj(body.NetworkingConfig).EndpointsConfig))) {
    const ep = obj(e)
    endpointsConfig[name] = {
      aliases: arr(ep.Aliases),
      ipv4Address: str(obj(ep.IPAMConfig).IPv4Address),
      ipv6Address: str(obj(ep.IPAMConfig).IPv6Address),
      macAddress: str(ep.MacAddress),
      links: arr(ep.Links),
      ...endpointExtras(ep),
    }
    if (endpointsConfig[name]!.ipv6Address) throw invalid('ERR_IPV6', 'IPv6 addresses are not supported by this berthd')
  }
  // API < 1.44: the MAC address is the container's, for its NetworkMode's network.
  if (str(body.MacAddress)) {
    const key = Object.keys(endpointsConfig)[0] ?? networkMode
    const cur = endpointsConfig[key] ?? { aliases: [], ipv4Address: '', ipv6Address: '', macAddress: '', links: [] }
    endpointsConfig[key] = { ...cur, macAddress: cur.macAddress || str(body.MacAddress) }
  }
  return { networkMode, portBindings, publishAllPorts: !!h.PublishAllPorts, links, ...(Object.keys(endpointsConfig).length ? { endpointsConfig } : {}) }
}

/** LinkLocalIPs and DriverOpts of an EndpointSettings body, kept as sent. */
export function endpointExtras(ep: Record<string, unknown>): { linkLocalIps?: string[]; driverOpts?: Record<string, string> } {
  const ipam = obj(ep.IPAMConfig)
  const lli = arr(ipam.LinkLocalIPs)
  const opts = ep.DriverOpts
  return {
    ...(lli.length ? { linkLocalIps: lli } : {}),
    ...(opts && typeof opts === 'object' && !Array.isArray(opts) ? { driverOpts: Object.fromEntries(Object.entries(opts as Record<string, unknown>).map(([k, v]) => [k, String(v ?? '')])) } : {}),
  }
}

function wirePorts(c: ContainerRecord): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {}
  for (const k of Object.keys(c.config.exposedPorts ?? {})) out[k] = null
  for (const k of Object.keys(c.hostConfig.portBindings ?? {})) out[k] = null
  for (const p of c.network?.ports ?? []) {
    const k = `${p.containerPort}/${p.proto}`
    ;(out[k] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) })
  }
  return out
}

const runningNet = (c: ContainerRecord): ContainerNetworkState | undefined =>
  c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting' ? c.network : undefined

function wireEndpoints(c: ContainerRecord): Record<string, Wire> {
  const mode = c.hostConfig.networkMode
  const nets: Record<string, Wire> = {}
  const st = runningNet(c)
  const blank = { IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, GwPriority: 0, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null }
  const epc = c.endpointsConfig ?? {}
  const cfg = (name: string) => epc[name] ?? (name === 'bridge' ? epc.default : undefined)
  const withCfg = (name: string): Wire => {
    const e = cfg(name)
    const ipam = { ...(e?.ipv4Address ? { IPv4Address: e.ipv4Address } : {}), ...(e?.linkLocalIps?.length ? { LinkLocalIPs: e.linkLocalIps } : {}) }
    return { ...blank, ...(Object.keys(ipam).length ? { IPAMConfig: ipam } : {}), ...(e?.driverOpts ? { DriverOpts: e.driverOpts } : {}), ...(e?.aliases.length ? { Aliases: e.aliases } : {}), ...(e?.links.length ? { Links: e.links } : {}), ...(e?.macAddress ? { MacAddress: e.macAddress } : {}) }
  }
  if (mode === 'host' || mode === 'none') nets[mode] = { ...blank }
  else if (!mode.startsWith('container:')) {
    const primary = mode === 'default' ? 'bridge' : mode
    if (!st || st.endpoints.length === 0) {
      if (!c.network?.detached?.length) nets[primary] = withCfg(primary)
      for (const k of Object.keys(epc)) if (k !== 'default' && k !== primary) nets[k] = withCfg(k)
    }
  }
  for (const ep of st?.endpoints ?? []) {
    nets[ep.networkName] = {
      ...withCfg(ep.networkName), MacAddress: ep.mac, NetworkID: ep.networkId, EndpointID: ep.endpointId, Gateway: ep.gateway, IPAddress: ep.ip, IPPrefixLen: ep.prefixLen,
      DNSNames: ep.dnsNames.length ? [c.name, ...ep.aliases, c.id.slice(0, 12)] : null,
    }
  }
  return nets
}

/** Inspect's NetworkSettings. */
export function toWireNetworkSettings(c: ContainerRecord): Wire {
  const st = runningNet(c)
  const def = st?.endpoints.find((e) => e.networkName === 'bridge')
  return {
    Bridge: '', SandboxID: st?.netns ? st.netns : '', SandboxKey: st?.netns ? `/run/netns/${st.netns}` : '',
    Ports: wirePorts(c), HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
    EndpointID: def?.endpointId ?? '', Gateway: def?.gateway ?? '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
    IPAddress: def?.ip ?? '', IPPrefixLen: def?.prefixLen ?? 0, IPv6Gateway: '', MacAddress: def?.mac ?? '',
    Networks: wireEndpoints(c),
  }
}

/** ps's Ports and NetworkSettings. */
export function toWireSummaryNetwork(c: ContainerRecord): { Ports: Wire[]; HostConfig: Wire; NetworkSettings: Wire } {
  const ports: Wire[] = []
  const published = new Set<string>()
  for (const p of runningNet(c)?.ports ?? []) {
    ports.push({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto })
    published.add(`${p.containerPort}/${p.proto}`)
  }
  for (const k of Object.keys(c.config.exposedPorts ?? {})) {
    if (published.has(k)) continue
    const [port = '0', proto = 'tcp'] = k.split('/')
    ports.push({ PrivatePort: Number(port), Type: proto })
  }
  return { Ports: ports, HostConfig: { NetworkMode: c.hostConfig.networkMode }, NetworkSettings: { Networks: wireEndpoints(c) } }
}

/** A network as `GET /networks` and `/networks/{id}` give it. */
export function toWireNetwork(n: NetworkRecord, containers: Array<{ containerId: string; name: string; ep: { endpointId: string; mac: string; ip: string; prefixLen: number } }> | undefined): Wire {
  const ipamCfg = n.subnet ? [{ Subnet: n.subnet, Gateway: n.gateway, ...(n.ipRange ? { IPRange: n.ipRange } : {}) }] : []
  return {
    Name: n.name, Id: n.id, Created: n.created, Scope: n.overlay ? 'swarm' : 'local', Driver: n.driver, EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: ipamCfg }, Internal: n.internal, Attachable: n.attachable, Ingress: !!n.overlay?.ingress,
    ConfigFrom: { Network: '' }, ConfigOnly: false,
    ...(containers ? { Containers: Object.fromEntries(containers.map((c) => [c.containerId, { Name: c.name, EndpointID: c.ep.endpointId, MacAddress: c.ep.mac, IPv4Address: `${c.ep.ip}/${c.ep.prefixLen}`, IPv6Address: '' }])) } : { Containers: {} }),
    Options: n.driver === 'bridge' || n.driver === 'overlay' ? { ...n.options } : {},
    Labels: n.labels,
  }
}

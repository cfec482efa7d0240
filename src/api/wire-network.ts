import type { ContainerRecord, HostConfig } from '../engine/containers/types.js'
import { invalid, notImplemented } from '../lib/errors.js'

type Wire = Record<string, unknown>

const obj = <T = Wire>(v: unknown): T => (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as T
const arr = (v: unknown): string[] => (Array.isArray(v) ? (v as unknown[]).map(String) : [])

/**
 * The network part of a create request: HostConfig.NetworkMode, PortBindings,
 * PublishAllPorts, Links and NetworkingConfig. (Owned by the network work.)
 */
export function fromWireNetwork(body: Wire, h: Wire): Pick<HostConfig, 'networkMode' | 'portBindings' | 'publishAllPorts' | 'links'> & { endpointsConfig?: ContainerRecord['endpointsConfig'] } {
  const ports = obj(h.PortBindings)
  if (Object.keys(ports).length || h.PublishAllPorts) throw notImplemented('ERR_PORTS', 'publishing ports is not implemented in this berthd yet')
  if (arr(h.Links).length) throw notImplemented('ERR_LINKS', '--link is not implemented in this berthd yet')
  const networkMode = typeof h.NetworkMode === 'string' && h.NetworkMode ? h.NetworkMode : 'default'
  if (!['default', 'bridge', 'none', 'host'].includes(networkMode)) {
    if (networkMode.startsWith('container:')) throw notImplemented('ERR_NETWORK', '--network container: is not implemented in this berthd yet')
    throw notImplemented('ERR_NETWORK', `network ${networkMode} not found`)
  }
  void body
  void invalid
  return { networkMode, portBindings: {}, publishAllPorts: false, links: [] }
}

/** Inspect's NetworkSettings. */
export function toWireNetworkSettings(_c: ContainerRecord): Wire {
  return { Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, Networks: {} }
}

/** ps's Ports and NetworkSettings. */
export function toWireSummaryNetwork(c: ContainerRecord): { Ports: Wire[]; HostConfig: Wire; NetworkSettings: Wire } {
  return { Ports: [], HostConfig: { NetworkMode: c.hostConfig.networkMode }, NetworkSettings: { Networks: {} } }
}

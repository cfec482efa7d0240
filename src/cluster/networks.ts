import { EngineError } from '../lib/errors.js'
import type { SwarmNetworks } from '../api/backend.js'
import { contains, parseCidr, parseIp, overlaps } from '../network/ipam.js'
import { requireManager, type SwarmContextSource } from './context.js'
import { newId } from './ids.js'
import { FIRST_VNI, INGRESS_GATEWAY, INGRESS_SUBNET, networkSubnet, resolveNetworkRef, serviceNetworks } from './allocator.js'
import type { ClusterStore } from './store.js'
import { isTerminal, taskStateRank, type Network, type NetworkSpec } from './types.js'

/**
 * Swarm networks (driver overlay) in the cluster store: create, list, inspect, remove on a
 * manager, with swarmkit's validation and Docker's words (gRPC errors reach the client as
 * "rpc error: code = X desc = ..."). The leader's allocator gives a new network its VNI and
 * subnet; create waits a moment for that, so an inspect right after shows the subnet as Docker's.
 */

export const VXLAN_ID_OPTION = 'com.docker.network.driver.overlay.vxlanid_list'
const INTERNAL_LABEL = 'com.docker.swarm.internal'
/** swarmkit's isValidDNSName. */
const DNS_NAME = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/
const PREDEFINED = ['bridge', 'host', 'none']

const rpc = (code: string, desc: string) => `rpc error: code = ${code} desc = ${desc}`

function badArg(desc: string): EngineError {
  return new EngineError('InvalidArgument', 'ERR_SWARM_NETWORK_INVALID', rpc('InvalidArgument', desc))
}

/** Docker's lookup of a swarm network: full ID, then name, then a unique ID prefix. */
export function findSwarmNetwork(all: Network[], ref: string): Network {
  const hit = all.find((n) => n.id === ref) ?? all.find((n) => n.spec.name === ref)
  if (hit) return hit
  const pre = ref ? all.filter((n) => n.id.startsWith(ref)) : []
  if (pre.length === 1) return pre[0]!
  if (pre.length > 1) throw new EngineError('InvalidArgument', 'ERR_SWARM_NETWORK_AMBIGUOUS', `network ${ref} is ambiguous (${pre.length} matches found)`)
  throw new EngineError('NotFound', 'ERR_SWARM_NETWORK_NOT_FOUND', `network ${ref} not found`)
}

/** A spec as the API hands it (fields left out take Docker's defaults). */
export function normalizeNetworkSpec(spec: Partial<NetworkSpec> & { name: string }): NetworkSpec {
  return {
    name: spec.name,
    labels: spec.labels ?? {},
    driver: 'overlay',
    options: spec.options ?? {},
    attachable: !!spec.attachable,
    ingress: !!spec.ingress,
    internal: !!spec.internal,
    ipam: { driver: spec.ipam?.driver || 'default', config: (spec.ipam?.config ?? []).map((c) => ({ subnet: c.subnet ?? '', gateway: c.gateway ?? '' })) },
  }
}

/** swarmkit's validateNetworkSpec (and the daemon's checks before it), in Docker's words. */
export function validateNetworkSpec(spec: NetworkSpec, existing: Network[]): void {
  if (PREDEFINED.includes(spec.name)) throw new EngineError('Forbidden', 'ERR_PREDEFINED', `operation is not permitted on predefined ${spec.name} network `)
  if (!spec.name) throw badArg('meta: name must be provided')
  if (!DNS_NAME.test(spec.name)) throw badArg('name must be valid as a DNS name component')
  if (spec.name.length > 63) throw badArg(`name ${spec.name} is too long; it must be a valid DNS name component of at most 63 characters`)
  if (spec.driver !== 'overlay') throw badArg('invalid driver specified')
  if (spec.ipam.driver !== 'default') throw new EngineError('NotImplemented', 'ERR_IPAM', `plugin "${spec.ipam.driver}" not found`)
  if (spec.ipam.config.length > 1) throw new EngineError('NotImplemented', 'ERR_IPAM', 'more than one IPv4 pool per network is not supported by this berthd')
  for (const c of spec.ipam.config) {
    let subnet
    try { subnet = parseCidr(c.subnet) } catch { throw badArg(`ipam configuration: invalid subnet ${c.subnet}`) }
    if (c.gateway) {
      const g = parseIp(c.gateway)
      if (g === undefined) throw badArg(`ipam configuration: invalid gateway ${c.gateway}`)
      if (!contains(subnet, g)) throw badArg(`ipam configuration: subnet ${c.subnet} does not contain gateway ${c.gateway}`)
    }
    for (const n of existing) {
      const a = networkSubnet(n)
      const theirs = a?.subnet ?? (n.spec.ipam.config[0]?.subnet ? parseCidr(n.spec.ipam.config[0].subnet) : undefined)
      if (theirs && overlaps(theirs, subnet)) throw new EngineError('Forbidden', 'ERR_POOL_OVERLAP', 'invalid pool request: Pool overlaps with other one on this address space')
    }
  }
  if (INTERNAL_LABEL in spec.labels) throw new EngineError('Forbidden', 'ERR_SWARM_INTERNAL_LABEL', rpc('PermissionDenied', `label ${INTERNAL_LABEL} is for predefined internal networks and cannot be applied by users`))
  const ingress = existing.find((n) => n.spec.ingress)
  if (spec.ingress && ingress) throw new EngineError('Conflict', 'ERR_SWARM_INGRESS_EXISTS', rpc('AlreadyExists', `ingress network (${ingress.id}) is already present`))
  if (existing.some((n) => n.spec.name === spec.name)) throw new EngineError('Conflict', 'ERR_NETWORK_EXISTS', `network with name ${spec.name} already exists`)
}

/** The swarm's `ingress` network (Docker's: 10.0.0.0/24, VNI 4096), made at `swarm init`; idempotent. Returns its ID. */
export async function ensureIngressNetwork(store: ClusterStore): Promise<string> {
  const all = await store.list('networks')
  const have = all.find((n) => n.spec.ingress)
  if (have) return have.id
  const now = new Date().toISOString()
  const taken = new Set(all.map((n) => n.vni))
  let vni = FIRST_VNI
  while (taken.has(vni)) vni++
  const n: Network = {
    id: newId(), version: { index: 0 }, createdAt: now, updatedAt: now, vni,
    spec: {
      name: 'ingress', labels: {}, driver: 'overlay', options: { [VXLAN_ID_OPTION]: String(vni) }, attachable: false, ingress: true, internal: false,
      ipam: { driver: 'default', config: [{ subnet: INGRESS_SUBNET, gateway: INGRESS_GATEWAY }] },
    },
  }
  await store.create('networks', n)
  return n.id
}

export class ClusterNetworks implements SwarmNetworks {
  constructor(private readonly ctx: SwarmContextSource, private readonly opts: { allocationWaitMs?: number } = {}) {}

  async listSwarmNetworks(): Promise<Network[]> {
    const { store } = requireManager(this.ctx)
    return (await store.list('networks')).sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  }

  async inspectSwarmNetwork(idOrName: string): Promise<Network> {
    const { store } = requireManager(this.ctx)
    return findSwarmNetwork(await store.list('networks'), idOrName)
  }

  async createSwarmNetwork(input: NetworkSpec): Promise<string> {
    const { store } = requireManager(this.ctx)
    const spec = normalizeNetworkSpec(input)
    validateNetworkSpec(spec, await store.list('networks'))
    const now = new Date().toISOString()
    const n: Network = { id: newId(), version: { index: 0 }, createdAt: now, updatedAt: now, vni: 0, spec }
    try {
      await store.create('networks', n)
    } catch (err) {
      if (err instanceof EngineError && err.code === 'ERR_SWARM_NAME_CONFLICT') throw new EngineError('Conflict', 'ERR_NETWORK_EXISTS', `network with name ${spec.name} already exists`)
      throw err
    }
    // The leader's allocator gives it a VNI and subnet within a round; wait a little for it.
    const deadline = Date.now() + (this.opts.allocationWaitMs ?? 2000)
    while (Date.now() < deadline) {
      const cur = await store.find('networks', n.id)
      if (!cur || cur.vni) break
      await new Promise((r) => setTimeout(r, 25))
    }
    return n.id
  }

  async removeSwarmNetwork(idOrName: string): Promise<void> {
    const { store } = requireManager(this.ctx)
    const all = await store.list('networks')
    const n = findSwarmNetwork(all, idOrName)
    for (const s of await store.list('services')) {
      const uses = serviceNetworks(s, all).some((x) => x.network?.id === n.id) || (s.spec.taskTemplate.networks ?? []).some((a) => resolveNetworkRef(all, a.target)?.id === n.id)
      if (uses) throw new EngineError('InvalidArgument', 'ERR_SWARM_NETWORK_IN_USE', rpc('FailedPrecondition', `network ${n.id} is in use by service ${s.id}`))
    }
    for (const t of await store.list('tasks')) {
      if (!(t.networksAttachments ?? []).some((a) => a.networkId === n.id)) continue
      if (taskStateRank(t.desiredState) <= taskStateRank('running') && !isTerminal(t.status.state)) {
        throw new EngineError('InvalidArgument', 'ERR_SWARM_NETWORK_IN_USE', rpc('FailedPrecondition', `network ${n.id} is in use by task ${t.id}`))
      }
    }
    await store.remove('networks', n.id, n.version.index)
  }
}

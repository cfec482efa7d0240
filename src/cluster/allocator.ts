import { Plan, type Attachments } from './plan.js'
import { contains, formatCidr, formatIp, parseCidr, pickSubnet, size, type Cidr, type Pool } from '../network/ipam.js'
import { isTerminal, type Cluster, type EndpointPortConfig, type Network, type Node, type Service, type Task } from './types.js'

/**
 * The allocator: the planner step between the orchestrator and the scheduler (swarmkit's
 * allocator). Pure, on the leader's view of the state:
 * - a swarm network without a VNI gets the lowest free one from 4096, and a subnet: the one the
 *   user gave, else the first free block of the cluster's default address pool (`subnetSize`);
 * - a VIP-mode service gets one virtual IP per network it attaches to (its task template's
 *   networks, plus `ingress` when it publishes a port in ingress mode), and its published
 *   ingress ports (a port left out gets one from 30000-32767, as Docker);
 * - every node gets one address on the ingress network (its ingress endpoint, where DNAT'd
 *   connections of published ports leave it from);
 * - a task in state `new` gets one address per network it attaches to (the same networks as
 *   its service's VIPs) and moves to `pending`, where the scheduler takes it.
 * Addresses are unique per network: the gateway (.1), VIPs, node ingress addresses and the
 * addresses of tasks that have not ended are taken; a terminal task's address is free again.
 * Nothing waits on a network that is not allocated yet: such a task stays `new` until the
 * next round (the network's allocation comes first in the same plan, so one round at most).
 */

export interface AllocatorInput {
  cluster?: Pick<Cluster, 'defaultAddrPool' | 'subnetSize'>
  networks: Network[]
  services: Service[]
  tasks: Task[]
  nodes: Node[]
}

export const FIRST_VNI = 4096
/** Docker's default address pool and block size for swarm networks. */
export const DEFAULT_ADDR_POOL = ['10.0.0.0/8']
export const DEFAULT_SUBNET_SIZE = 24
/** Docker's ingress network: 10.0.0.0/24, gateway 10.0.0.1. */
export const INGRESS_SUBNET = '10.0.0.0/24'
export const INGRESS_GATEWAY = '10.0.0.1'
/** The range of published ports Docker picks from when a service leaves the port out. */
export const DYNAMIC_PORTS = { first: 30000, last: 32767 }

/** A network reference of a task template (ID, name or unique ID prefix, as Docker resolves it). */
export function resolveNetworkRef(networks: Network[], ref: string): Network | undefined {
  const hit = networks.find((n) => n.id === ref) ?? networks.find((n) => n.spec.name === ref)
  if (hit) return hit
  const pre = networks.filter((n) => n.id.startsWith(ref))
  return pre.length === 1 ? pre[0] : undefined
}

export function ingressNetwork(networks: Network[]): Network | undefined {
  return networks.find((n) => n.spec.ingress)
}

/** Whether a service publishes a port through the routing mesh. */
export function publishesIngress(s: Service): boolean {
  return (s.spec.endpointSpec?.ports ?? []).some((p) => (p.publishMode ?? 'ingress') === 'ingress')
}

/**
 * The networks a service's tasks attach to, in order (ingress first, as Docker lists it);
 * `undefined` entries are references that name no network.
 */
export function serviceNetworks(s: Service, networks: Network[]): { ref: string; network: Network | undefined }[] {
  const out: { ref: string; network: Network | undefined }[] = []
  const ing = ingressNetwork(networks)
  if (publishesIngress(s) && ing) out.push({ ref: ing.id, network: ing })
  for (const a of s.spec.taskTemplate.networks ?? []) {
    const n = resolveNetworkRef(networks, a.target)
    if (n && out.some((o) => o.network?.id === n.id)) continue
    out.push({ ref: a.target, network: n })
  }
  return out
}

function taskNetworks(t: Task, s: Service | undefined, networks: Network[]): { ref: string; network: Network | undefined }[] {
  if (s) return serviceNetworks(s, networks)
  return (t.spec.networks ?? []).map((a) => ({ ref: a.target, network: resolveNetworkRef(networks, a.target) }))
}

/** The subnet and gateway of an allocated network (undefined before allocation). */
export function networkSubnet(n: Network): { subnet: Cidr; gateway: number } | undefined {
  const c = n.spec.ipam.config[0]
  if (!n.vni || !c?.subnet) return undefined
  const subnet = parseCidr(c.subnet)
  const gw = c.gateway ? ipOf(c.gateway) : subnet.base + 1
  return { subnet, gateway: gw ?? subnet.base + 1 }
}

function ipOf(addr: string): number | undefined {
  const [a = ''] = addr.split('/')
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a)
  if (!m) return undefined
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0
}

/** Per network: the addresses taken, and a way to take the next free one. */
class AddressBook {
  private used = new Map<string, Set<number>>()

  constructor(private readonly nets: Map<string, { subnet: Cidr; gateway: number }>) {
    for (const [id, n] of nets) this.used.set(id, new Set([n.gateway]))
  }

  take(networkId: string, addr: string): void {
    const ipn = ipOf(addr)
    if (ipn !== undefined) this.used.get(networkId)?.add(ipn)
  }

  has(networkId: string, addr: string): boolean {
    const ipn = ipOf(addr)
    return ipn !== undefined && !!this.used.get(networkId)?.has(ipn)
  }

  /** The next free address as CIDR, or undefined when the subnet is full. */
  next(networkId: string): string | undefined {
    const n = this.nets.get(networkId)
    const used = this.used.get(networkId)
    if (!n || !used) return undefined
    const last = n.subnet.base + size(n.subnet) - 2
    for (let a = n.subnet.base + 1; a <= last; a++) {
      if (!used.has(a >>> 0)) {
        used.add(a >>> 0)
        return `${formatIp(a >>> 0)}/${n.subnet.bits}`
      }
    }
    return undefined
  }
}

function poolsOf(cluster: AllocatorInput['cluster']): Pool[] {
  const bits = cluster?.subnetSize || DEFAULT_SUBNET_SIZE
  const bases = cluster?.defaultAddrPool?.length ? cluster.defaultAddrPool : DEFAULT_ADDR_POOL
  return bases.map((b) => ({ base: parseCidr(b), size: bits }))
}

/** A task holds its addresses until it has ended. */
function holdsAddresses(t: Task): boolean {
  return !isTerminal(t.status.state)
}

export function planAllocation(input: AllocatorInput): Plan {
  const plan = new Plan()

  // ---- networks: VNI and subnet
  const subnets = new Map<string, { subnet: Cidr; gateway: number }>()
  const vnis = new Set<number>()
  const taken: Cidr[] = []
  for (const n of input.networks) {
    const a = networkSubnet(n)
    if (!a) continue
    subnets.set(n.id, a)
    vnis.add(n.vni)
    taken.push(a.subnet)
  }
  const pools = poolsOf(input.cluster)
  const networks = input.networks.map((n) => structuredClone(n))
  for (const n of networks.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))) {
    if (subnets.has(n.id)) continue
    let vni = FIRST_VNI
    while (vnis.has(vni)) vni++
    const c = n.spec.ipam.config[0]
    let subnet: Cidr
    try {
      subnet = c?.subnet ? parseCidr(c.subnet) : n.spec.ingress ? parseCidr(INGRESS_SUBNET) : pickSubnet(taken, pools)
    } catch {
      continue // the pool is exhausted: the network stays unallocated (its tasks stay new)
    }
    const gwn = c?.gateway ? ipOf(c.gateway) : undefined
    const gateway = gwn !== undefined && contains(subnet, gwn) ? gwn : subnet.base + 1
    vnis.add(vni)
    taken.push(subnet)
    subnets.set(n.id, { subnet, gateway })
    n.vni = vni
    n.spec.ipam.config = [{ subnet: formatCidr(subnet), gateway: formatIp(gateway) }]
    plan.add({ type: 'allocate-network', networkId: n.id, version: n.version.index, vni, subnet: formatCidr(subnet), gateway: formatIp(gateway) })
  }

  // ---- what is taken already
  const book = new AddressBook(subnets)
  for (const s of input.services) for (const v of s.endpoint?.virtualIPs ?? []) book.take(v.networkId, v.addr)
  for (const node of input.nodes) for (const a of node.attachments ?? []) for (const addr of a.addresses) book.take(a.networkId, addr)
  for (const t of input.tasks) {
    if (!holdsAddresses(t)) continue
    for (const a of t.networksAttachments ?? []) for (const addr of a.addresses) book.take(a.networkId, addr)
  }

  // ---- nodes: an ingress address each
  const ing = ingressNetwork(networks)
  if (ing && subnets.has(ing.id)) {
    for (const node of [...input.nodes].sort((a, b) => a.id.localeCompare(b.id))) {
      if ((node.attachments ?? []).some((a) => a.networkId === ing.id && a.addresses.length)) continue
      const addr = book.next(ing.id)
      if (!addr) break
      plan.add({ type: 'allocate-node', nodeId: node.id, version: node.version.index, attachments: [...(node.attachments ?? []).filter((a) => a.networkId !== ing.id), { networkId: ing.id, addresses: [addr] }] })
    }
  }

  // ---- services: VIPs and published ports
  const usedPorts = new Set<string>()
  for (const s of input.services) for (const p of s.endpoint?.ports ?? []) if (p.publishMode === 'ingress' && p.publishedPort) usedPorts.add(`${p.protocol}/${p.publishedPort}`)
  for (const s of [...input.services].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))) {
    const spec = s.spec.endpointSpec ?? { mode: 'vip' as const }
    const nets = serviceNetworks(s, networks)
    if (nets.some((x) => !x.network || !subnets.has(x.network.id))) continue
    const wantVips = spec.mode !== 'dnsrr'
    const cur = s.endpoint
    const virtualIPs: { networkId: string; addr: string }[] = []
    let full = false
    if (wantVips) {
      for (const x of nets) {
        const keep = cur?.virtualIPs.find((v) => v.networkId === x.network!.id)
        if (keep) { virtualIPs.push(keep); continue }
        const addr = book.next(x.network!.id)
        if (!addr) { full = true; break }
        virtualIPs.push({ networkId: x.network!.id, addr })
      }
    }
    if (full) continue
    const ports: EndpointPortConfig[] = []
    for (const p of spec.ports ?? []) {
      const mode = p.publishMode ?? 'ingress'
      const protocol = p.protocol ?? 'tcp'
      let published = p.publishedPort
      if (!published && mode === 'ingress') {
        // Keep the port this service had for the same target, else the first free dynamic one.
        const had = cur?.ports.find((q) => q.targetPort === p.targetPort && q.protocol === protocol && q.publishMode === 'ingress')?.publishedPort
        if (had) published = had
        else {
          for (let x = DYNAMIC_PORTS.first; x <= DYNAMIC_PORTS.last; x++) if (!usedPorts.has(`${protocol}/${x}`)) { published = x; break }
        }
        if (published) usedPorts.add(`${protocol}/${published}`)
      }
      ports.push({ ...(p.name ? { name: p.name } : {}), protocol, targetPort: p.targetPort, ...(published ? { publishedPort: published } : {}), publishMode: mode })
    }
    const endpoint = { spec: { mode: spec.mode ?? 'vip', ...(spec.ports ? { ports: spec.ports } : {}) }, ports, virtualIPs }
    if (cur && JSON.stringify(cur) === JSON.stringify(endpoint)) continue
    plan.add({ type: 'allocate-service', serviceId: s.id, version: s.version.index, endpoint })
  }

  // ---- tasks: new → pending with their addresses
  const services = new Map(input.services.map((s) => [s.id, s]))
  const fresh = input.tasks
    .filter((t) => t.status.state === 'new')
    .sort((a, b) => a.serviceId.localeCompare(b.serviceId) || a.slot - b.slot || a.id.localeCompare(b.id))
  for (const t of fresh) {
    const nets = taskNetworks(t, services.get(t.serviceId), networks)
    const missing = nets.find((x) => !x.network)
    if (missing) {
      const message = `network ${missing.ref} not found`
      if (t.status.message !== message) plan.add({ type: 'task-message', taskId: t.id, version: t.version.index, state: 'new', message })
      continue
    }
    if (nets.some((x) => !subnets.has(x.network!.id))) continue
    const attachments: Attachments = []
    let full: string | undefined
    for (const x of nets) {
      const addr = book.next(x.network!.id)
      if (!addr) { full = x.network!.spec.name; break }
      attachments.push({ networkId: x.network!.id, addresses: [addr] })
    }
    if (full !== undefined) {
      const message = `failed to allocate network IP for task ${t.id} network ${full}: could not find an available IP`
      if (t.status.message !== message) plan.add({ type: 'task-message', taskId: t.id, version: t.version.index, state: 'new', message })
      continue
    }
    plan.add({ type: 'allocate-task', taskId: t.id, version: t.version.index, attachments })
  }
  return plan
}

/**
 * The tasks as they are once `plan`'s allocations are applied (state pending, attachments): the
 * scheduler plans from them in the same round, so a new task is allocated and assigned in one
 * transaction (planToOps applies both actions to the same copy).
 */
export function withAllocations(tasks: Task[], plan: Plan): Task[] {
  const alloc = new Map<string, Attachments>()
  for (const a of plan.actions) if (a.type === 'allocate-task') alloc.set(a.taskId, a.attachments)
  if (alloc.size === 0) return tasks
  return tasks.map((t) => {
    const a = alloc.get(t.id)
    if (!a) return t
    return { ...t, networksAttachments: a, status: t.status.state === 'new' ? { ...t.status, state: 'pending', message: 'pending task scheduling' } : t.status }
  })
}

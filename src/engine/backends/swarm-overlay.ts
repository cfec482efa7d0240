import { EngineError } from '../../lib/errors.js'
import type { OverlayNetworks, SwarmContext } from '../../cluster/context.js'
import type { WatchEvent } from '../../cluster/store.js'
import { isTerminal, type Network, type Node, type Service, type Task } from '../../cluster/types.js'
import { formatIp, parseCidr } from '../../network/ipam.js'
import { overlayMac, type IngressPort, type OverlayPeer } from '../../network/overlay.js'
import type { NetworkService } from '../../network/service.js'

/**
 * The overlay driver as the swarm pieces use it (cluster/context.ts's OverlayNetworks): `ensure`
 * makes a swarm network usable on this node (a local network record of driver overlay with the
 * swarm network's ID, and its VXLAN namespace); `start` follows the cluster state and programs,
 * for every network set up here, the remote endpoints (the tasks of other nodes, the other
 * nodes' ingress addresses) as static FDB and neighbour entries. Service discovery and the
 * routing mesh read the same state (`state()`).
 */

export interface ClusterView {
  nodes: Map<string, Node>
  tasks: Map<string, Task>
  networks: Map<string, Network>
  services: Map<string, Service>
}

export interface SwarmOverlay extends OverlayNetworks {
  /** The cluster state the watcher follows (empty before start). */
  state(): ClusterView
  /** Called after each change of the state, once the peers are programmed (DNS, VIPs, ingress follow it). */
  onChange(fn: (view: ClusterView, ctx: SwarmContext) => Promise<void>): void
}

/** The address (no prefix) of a CIDR string. */
const ipOf = (cidr: string) => cidr.split('/')[0]!

/** Where a node's VXLAN traffic goes: its advertised data path address (`--data-path-addr`), else its status address. */
export const vtepOf = (n: Node | undefined): string | undefined => n?.status.dataPathAddr || n?.status.addr || undefined

/** The remote endpoints of a network as seen from `selfId`: other nodes' live tasks, and other nodes' own addresses on it. */
export function peersOf(view: ClusterView, networkId: string, selfId: string): OverlayPeer[] {
  const out = new Map<string, OverlayPeer>()
  const nodeAddr = (id: string) => vtepOf(view.nodes.get(id))
  for (const t of view.tasks.values()) {
    if (!t.nodeId || t.nodeId === selfId || isTerminal(t.status.state)) continue
    const node = nodeAddr(t.nodeId)
    if (!node) continue
    for (const a of t.networksAttachments ?? []) {
      if (a.networkId !== networkId) continue
      for (const addr of a.addresses) out.set(ipOf(addr), { ip: ipOf(addr), mac: overlayMac(addr), node })
    }
  }
  for (const n of view.nodes.values()) {
    const vtep = vtepOf(n)
    if (n.id === selfId || !vtep) continue
    for (const a of n.attachments ?? []) {
      if (a.networkId !== networkId) continue
      for (const addr of a.addresses) out.set(ipOf(addr), { ip: ipOf(addr), mac: overlayMac(addr), node: vtep })
    }
  }
  return [...out.values()].sort((a, b) => a.ip.localeCompare(b.ip))
}

/** This node's own address on a network (the ingress network's node attachment), CIDR. */
export function nodeAddressOn(view: ClusterView, networkId: string, selfId: string): string | undefined {
  return view.nodes.get(selfId)?.attachments?.find((a) => a.networkId === networkId)?.addresses[0]
}

const runningTask = (t: Task) => t.status.state === 'running' && t.desiredState === 'running'

/** A task's address on a network (no prefix). */
function addrOn(t: Task, networkId: string): string | undefined {
  const a = t.networksAttachments?.find((x) => x.networkId === networkId)?.addresses[0]
  return a ? ipOf(a) : undefined
}

/** Docker's task name: <service>.<slot>.<task id> (global services: the node ID for the slot). */
export function taskName(t: Task): string {
  return `${t.serviceName}.${t.slot > 0 ? t.slot : t.nodeId}.${t.id}`
}

/**
 * The embedded DNS for a container on the swarm networks `networkIds`: a service's name (or a
 * network alias of it) gives its VIP on a shared network (endpoint mode dnsrr: the running
 * tasks' addresses), `tasks.<service>` the running tasks' addresses, a task's name its address.
 */
export function resolveSwarmName(view: ClusterView, networkIds: string[], name: string): string[] | undefined {
  const q = name.toLowerCase().replace(/\.$/, '')
  const nets = new Set(networkIds)
  const out: string[] = []
  const tasksOf = (s: Service) => [...view.tasks.values()].filter((t) => t.serviceId === s.id && runningTask(t))
  for (const s of view.services.values()) {
    const sname = s.spec.name.toLowerCase()
    const aliases = (s.spec.taskTemplate.networks ?? []).flatMap((a) => a.aliases ?? []).map((a) => a.toLowerCase())
    if (q === sname || aliases.includes(q)) {
      if ((s.spec.endpointSpec?.mode ?? 'vip') === 'dnsrr') {
        for (const t of tasksOf(s)) for (const n of nets) { const a = addrOn(t, n); if (a) out.push(a) }
      } else {
        for (const v of s.endpoint?.virtualIPs ?? []) if (nets.has(v.networkId)) out.push(ipOf(v.addr))
      }
    } else if (q === `tasks.${sname}`) {
      for (const t of tasksOf(s)) for (const n of nets) { const a = addrOn(t, n); if (a) out.push(a) }
    }
  }
  if (out.length === 0) {
    for (const t of view.tasks.values()) {
      if (isTerminal(t.status.state) || taskName(t).toLowerCase() !== q) continue
      for (const n of nets) { const a = addrOn(t, n); if (a) out.push(a) }
    }
  }
  return out.length ? [...new Set(out)] : undefined
}

/** The VIPs a container on `networkIds` balances, each over its service's running tasks on that network. */
export function vipsFor(view: ClusterView, networkIds: string[]): { vip: string; backends: string[] }[] {
  const out: { vip: string; backends: string[] }[] = []
  for (const s of view.services.values()) {
    if ((s.spec.endpointSpec?.mode ?? 'vip') === 'dnsrr') continue
    for (const v of s.endpoint?.virtualIPs ?? []) {
      if (!networkIds.includes(v.networkId)) continue
      const backends = [...view.tasks.values()].filter((t) => t.serviceId === s.id && runningTask(t)).map((t) => addrOn(t, v.networkId)).filter((a): a is string => !!a)
      out.push({ vip: ipOf(v.addr), backends })
    }
  }
  return out
}

/** The routing mesh's published ports: every ingress-mode port of every service, over its running tasks' ingress addresses. */
export function ingressPortsOf(view: ClusterView, ingressId: string): IngressPort[] {
  const out: IngressPort[] = []
  for (const s of view.services.values()) {
    const ports = (s.endpoint?.ports ?? []).filter((p) => p.publishMode === 'ingress' && p.publishedPort)
    if (!ports.length) continue
    const addrs = [...view.tasks.values()].filter((t) => t.serviceId === s.id && runningTask(t)).map((t) => addrOn(t, ingressId)).filter((a): a is string => !!a)
    for (const p of ports) out.push({ proto: p.protocol, port: p.publishedPort!, backends: addrs.map((a) => `${a}:${p.targetPort}`) })
  }
  return out
}

export function swarmOverlay(deps: { networks: NetworkService; log: (m: string) => void }): SwarmOverlay {
  const view: ClusterView = { nodes: new Map(), tasks: new Map(), networks: new Map(), services: new Map() }
  let ctx: SwarmContext | undefined
  /** Swarm networks set up here: ID → the network as ensured. */
  const local = new Map<string, Network>()
  const listeners: ((v: ClusterView, c: SwarmContext) => Promise<void>)[] = []
  let timer: NodeJS.Timeout | undefined
  let syncing: Promise<void> = Promise.resolve()

  const setUp = async (network: Network): Promise<string> => {
    if (!ctx) throw new EngineError('Unavailable', 'ERR_SWARM_NOT_IN_SWARM', 'This node is not part of a swarm')
    const c = network.spec.ipam.config[0]
    if (!network.vni || !c?.subnet) throw new EngineError('Unavailable', 'ERR_OVERLAY_NOT_ALLOCATED', `network ${network.spec.name} is not allocated yet`)
    const nodeAddr = nodeAddressOn(view, network.id, ctx.nodeId)
    const id = await deps.networks.ensureOverlay({
      id: network.id, name: network.spec.name, vni: network.vni, subnet: c.subnet, gateway: c.gateway || formatIp(parseCidr(c.subnet).base + 1),
      created: network.createdAt, labels: network.spec.labels, options: network.spec.options, attachable: network.spec.attachable, internal: network.spec.internal, ingress: network.spec.ingress,
    }, { addr: ctx.dataPathAddr, port: ctx.dataPathPort }, nodeAddr)
    local.set(network.id, network)
    await deps.networks.setOverlayPeers(network.id, peersOf(view, network.id, ctx.nodeId))
    return id
  }

  const sync = async () => {
    const c = ctx
    if (!c) return
    for (const [id, n] of local) {
      const cur = view.networks.get(id) ?? n
      // The node's ingress address may arrive after the network was set up: set up again (idempotent).
      if (nodeAddressOn(view, id, c.nodeId)) await setUp(cur).catch((e: Error) => deps.log(`overlay ${n.spec.name}: ${e.message}`))
      else await deps.networks.setOverlayPeers(id, peersOf(view, id, c.nodeId)).catch((e: Error) => deps.log(`overlay peers ${n.spec.name}: ${e.message}`))
    }
    // The routing mesh: every node answers the published ingress ports once the ingress network is allocated and this node has its address on it.
    const ingress = [...view.networks.values()].find((n) => n.spec.ingress && n.vni)
    const ports = ingress ? ingressPortsOf(view, ingress.id) : []
    if (ingress && ports.length && nodeAddressOn(view, ingress.id, c.nodeId)) {
      try {
        if (!local.has(ingress.id)) await setUp(ingress)
        await deps.networks.overlay.applyIngress(ingress.vni, ports)
      } catch (e) { deps.log(`ingress: ${(e as Error).message}`) }
    } else await deps.networks.overlay.clearIngress().catch((e: Error) => deps.log(`ingress: ${e.message}`))
    // Service VIPs in each local container on a swarm network.
    const byNs = new Map<string, string[]>()
    for (const ep of deps.networks.overlayEndpoints()) byNs.set(ep.netns, [...(byNs.get(ep.netns) ?? []), ep.networkId])
    for (const [ns, nets] of byNs) await deps.networks.overlay.applyVips(ns, vipsFor(view, nets)).catch((e: Error) => deps.log(`VIPs in ${ns}: ${e.message}`))
    for (const f of listeners) await f(view, c).catch((e: Error) => deps.log(`overlay: ${e.message}`))
  }
  const kick = () => {
    clearTimeout(timer)
    timer = setTimeout(() => { syncing = syncing.then(sync, sync) }, 20)
  }

  return {
    state: () => view,
    onChange: (fn) => { listeners.push(fn) },

    async ensure(network: Network): Promise<string> {
      return setUp(view.networks.get(network.id) ?? network)
    },

    async release(networkId: string): Promise<void> {
      // The routing mesh keeps the ingress network on every node while a service publishes a port.
      const n = view.networks.get(networkId)
      if (n?.spec.ingress && ingressPortsOf(view, networkId).length) return
      local.delete(networkId)
      await deps.networks.releaseOverlay(networkId)
    },

    async start(c: SwarmContext) {
      ctx = c
      deps.networks.useSwarmResolver((nets, name) => resolveSwarmName(view, nets, name))
      const store = c.store
      const [nodes, tasks, networks, services] = [await store.listAt('nodes'), await store.listAt('tasks'), await store.listAt('networks'), await store.listAt('services')]
      view.nodes = new Map(nodes.items.map((x) => [x.id, x]))
      view.tasks = new Map(tasks.items.map((x) => [x.id, x]))
      view.networks = new Map(networks.items.map((x) => [x.id, x]))
      view.services = new Map(services.items.map((x) => [x.id, x]))
      const from = Math.min(nodes.revision, tasks.revision, networks.revision, services.revision) + 1
      const onEvents = (evs: WatchEvent[]) => {
        for (const e of evs) {
          const map = ({ nodes: view.nodes, tasks: view.tasks, networks: view.networks, services: view.services } as Record<string, Map<string, { version: { index: number } }>>)[e.kind]
          if (!map) continue
          if (e.type === 'delete') map.delete(e.id)
          else {
            const obj = e.obj as { version: { index: number } }
            const prev = map.get(e.id)
            if (!prev || prev.version.index <= obj.version.index) map.set(e.id, obj)
          }
        }
        kick()
      }
      const watcher = await store.watch(from, onEvents, (err) => deps.log(`overlay watch: ${err.message}`))
      kick()
      return {
        async stop() {
          clearTimeout(timer)
          await watcher.cancel().catch(() => undefined)
          await syncing.catch(() => undefined)
          ctx = undefined
          local.clear()
          deps.networks.useSwarmResolver(undefined)
          await deps.networks.releaseAllOverlays().catch((e: Error) => deps.log(`overlay release: ${e.message}`))
        },
      }
    },
  }
}

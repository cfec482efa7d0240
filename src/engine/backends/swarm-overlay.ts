import { EngineError } from '../../lib/errors.js'
import type { OverlayNetworks, SwarmContext } from '../../cluster/context.js'
import type { WatchEvent } from '../../cluster/store.js'
import { isTerminal, type Network, type Node, type Service, type Task } from '../../cluster/types.js'
import { overlayMac, type OverlayPeer } from '../../network/overlay.js'
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

/** The remote endpoints of a network as seen from `selfId`: other nodes' live tasks, and other nodes' own addresses on it. */
export function peersOf(view: ClusterView, networkId: string, selfId: string): OverlayPeer[] {
  const out = new Map<string, OverlayPeer>()
  const nodeAddr = (id: string) => view.nodes.get(id)?.status.addr
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
    if (n.id === selfId || !n.status.addr) continue
    for (const a of n.attachments ?? []) {
      if (a.networkId !== networkId) continue
      for (const addr of a.addresses) out.set(ipOf(addr), { ip: ipOf(addr), mac: overlayMac(addr), node: n.status.addr })
    }
  }
  return [...out.values()].sort((a, b) => a.ip.localeCompare(b.ip))
}

/** This node's own address on a network (the ingress network's node attachment), CIDR. */
export function nodeAddressOn(view: ClusterView, networkId: string, selfId: string): string | undefined {
  return view.nodes.get(selfId)?.attachments?.find((a) => a.networkId === networkId)?.addresses[0]
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
      id: network.id, name: network.spec.name, vni: network.vni, subnet: c.subnet, gateway: c.gateway || ipOf(c.subnet).replace(/\d+$/, (d) => String(Number(d) + 1)),
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
      local.delete(networkId)
      await deps.networks.releaseOverlay(networkId)
    },

    async start(c: SwarmContext) {
      ctx = c
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
          await deps.networks.releaseAllOverlays().catch((e: Error) => deps.log(`overlay release: ${e.message}`))
        },
      }
    },
  }
}

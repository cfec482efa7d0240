import { createHash } from 'node:crypto'
import { bridgeBatch } from '../platform/bridge.js'
import { ip, ipBatch, listNetns, netnsFirewall } from '../platform/net.js'
import { formatIp, macFor, parseCidr, parseIp } from './ipam.js'

/**
 * The overlay driver's data path on one node (no multicast, no learning: every remote endpoint is
 * programmed from cluster state).
 *
 * Per swarm network (VNI v), a namespace `ov-<tag>-<v>` (tag: the berthd's, as its bridges) holds
 *   - `br0`, a bridge with the network's gateway address (and, on the ingress network, this
 *     node's ingress address, br0's MAC derived from it),
 *   - `vxlan0` on br0: `vxlan id <v> dstport <port> local <data addr> nolearning proxy`, made in
 *     the host namespace (its UDP socket stays there) then moved in, as Docker does,
 *   - `gw0`, a veth to the host namespace (`ov<tag><v>` there, 169.254.x.y/30 link addresses):
 *     the host routes the network's subnet to it (embedded DNS, ingress, egress),
 *   - one veth per local container (`vo…` on br0, `ethN` in the container, MAC 02:42:<ip>).
 * A remote endpoint (a task on another node, another node's ingress address) is a static FDB
 * entry `<mac> dst <node>` and a permanent neighbour `<ip> lladdr <mac>` on vxlan0, whose ARP
 * proxy answers the local containers.
 */

export interface OverlaySpec {
  vni: number
  /** CIDR. */
  subnet: string
  gateway: string
  /** This node's own address on the network (the ingress network: where DNAT'd traffic leaves from), CIDR. */
  nodeAddr?: string
  mtu?: number
}

export interface Vtep {
  /** This node's data path address (VXLAN source) and the VXLAN UDP port. */
  addr: string
  port: number
}

export interface OverlayPeer {
  ip: string
  mac: string
  /** The remote node's data path address. */
  node: string
}

/** VXLAN adds 50 bytes to a 1500-byte underlay. */
export const OVERLAY_MTU = 1450

export function overlayNames(tag: string, vni: number): { ns: string; hostLink: string; tmpVxlan: string } {
  return { ns: `ov-${tag}-${vni}`, hostLink: `ov${tag}${vni}`, tmpVxlan: `vx${tag}${vni}` }
}

/** The /30 between the host and a network's namespace: .1 on the host side, .2 in the namespace. */
export function linkAddrs(vni: number): { host: string; ns: string } {
  const k = ((vni - 4096) % 16000 + 16000) % 16000
  const base = parseIp('169.254.1.0')! + 4 * k
  return { host: formatIp(base + 1), ns: formatIp(base + 2) }
}

/** The MAC of an address on an overlay (Docker's 02:42 + the address). */
export const overlayMac = (addr: string): string => macFor(parseIp(addr.split('/')[0]!)!)

interface NetState {
  spec: OverlaySpec
  peers: Map<string, OverlayPeer>
}

export class OverlayDriver {
  #nets = new Map<number, NetState>()

  constructor(private readonly opts: { tag: string; log: (m: string) => void }) {}

  names(vni: number): ReturnType<typeof overlayNames> {
    return overlayNames(this.opts.tag, vni)
  }

  has(vni: number): boolean {
    return this.#nets.has(vni)
  }

  /** Make the network's namespace, bridge, VXLAN device and host link (idempotent). */
  async ensureNetwork(spec: OverlaySpec, vtep: Vtep): Promise<string> {
    const { ns, hostLink, tmpVxlan } = this.names(spec.vni)
    const have = this.#nets.get(spec.vni)
    if (have) {
      if (have.spec.nodeAddr !== spec.nodeAddr && spec.nodeAddr) {
        if (have.spec.nodeAddr) await ip(['-n', ns, 'addr', 'del', have.spec.nodeAddr, 'dev', 'br0'])
        await ipBatch([`link set br0 address ${overlayMac(spec.nodeAddr)}`, `addr add ${spec.nodeAddr} dev br0`], { netns: ns, force: true })
        have.spec = { ...spec }
      }
      return ns
    }
    // Whatever a crash left of this network goes first.
    if ((await listNetns()).includes(ns)) await ip(['netns', 'del', ns])
    await ip(['link', 'del', tmpVxlan])
    await ip(['link', 'del', hostLink])
    const subnet = parseCidr(spec.subnet)
    const mtu = spec.mtu ?? OVERLAY_MTU
    const link = linkAddrs(spec.vni)
    try {
      await ipBatch([
        `netns add ${ns}`,
        `link add ${tmpVxlan} mtu ${mtu} type vxlan id ${spec.vni} dstport ${vtep.port} local ${vtep.addr} nolearning proxy`,
        `link set ${tmpVxlan} netns ${ns}`,
        `link add ${hostLink} type veth peer name gw0 netns ${ns}`,
        `addr add ${link.host}/30 dev ${hostLink}`,
        `link set ${hostLink} up`,
      ])
      await ipBatch([
        'link set lo up',
        `link add br0 mtu ${mtu} type bridge`,
        ...(spec.nodeAddr ? [`link set br0 address ${overlayMac(spec.nodeAddr)}`, `addr add ${spec.nodeAddr} dev br0`] : []),
        `addr add ${spec.gateway}/${subnet.bits} dev br0`,
        `link set ${tmpVxlan} name vxlan0`,
        'link set vxlan0 master br0',
        'link set vxlan0 up',
        'link set br0 up',
        `addr add ${link.ns}/30 dev gw0`,
        'link set gw0 up',
        `route add default via ${link.host} dev gw0`,
      ], { netns: ns })
      await ipBatch([`route replace ${formatIp(subnet.base)}/${subnet.bits} via ${link.ns} dev ${hostLink}`])
      await this.#firewall(spec)
    } catch (err) {
      await ip(['netns', 'del', ns])
      await ip(['link', 'del', tmpVxlan])
      await ip(['link', 'del', hostLink])
      throw err
    }
    this.#nets.set(spec.vni, { spec: { ...spec }, peers: new Map() })
    return ns
  }

  /**
   * The namespace's own rules: it forwards between br0 and gw0; traffic that enters br0 from
   * the host (ingress, published ports) leaves with the node's address on the network, so the
   * replies come back over the overlay to this node.
   */
  async #firewall(spec: OverlaySpec): Promise<void> {
    const { ns } = this.names(spec.vni)
    const nodeIp = spec.nodeAddr?.split('/')[0]
    const nat = ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]']
    if (nodeIp) nat.push(`-A POSTROUTING -o br0 ! -s ${spec.subnet} -j SNAT --to-source ${nodeIp}`)
    else nat.push(`-A POSTROUTING -o br0 ! -s ${spec.subnet} -j MASQUERADE`)
    nat.push('COMMIT')
    await netnsFirewall(ns, ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.gw0.rp_filter=0'], [...nat, ''].join('\n'))
  }

  /** Program the remote endpoints of a network: exactly `peers` afterwards (added, changed, removed). */
  async setPeers(vni: number, peers: OverlayPeer[]): Promise<void> {
    const st = this.#nets.get(vni)
    if (!st) return
    const { ns } = this.names(vni)
    const want = new Map(peers.map((p) => [p.ip, p]))
    const fdb: string[] = []
    const neigh: string[] = []
    for (const [addr, p] of st.peers) {
      const w = want.get(addr)
      if (w && w.mac === p.mac && w.node === p.node) continue
      fdb.push(`fdb del ${p.mac} dev vxlan0 self`)
      neigh.push(`neigh del ${addr} dev vxlan0`)
      st.peers.delete(addr)
    }
    for (const [addr, p] of want) {
      if (st.peers.has(addr)) continue
      fdb.push(`fdb replace ${p.mac} dev vxlan0 dst ${p.node} self permanent`)
      neigh.push(`neigh replace ${addr} lladdr ${p.mac} dev vxlan0 nud permanent`)
      st.peers.set(addr, p)
    }
    await bridgeBatch(fdb, { netns: ns, force: true })
    await ipBatch(neigh, { netns: ns, force: true })
  }

  peers(vni: number): OverlayPeer[] {
    return [...(this.#nets.get(vni)?.peers.values() ?? [])]
  }

  /** The host-side veth name of a container's endpoint on a network. */
  hostVethFor(containerId: string, vni: number): string {
    return `vo${createHash('sha256').update(`${containerId}/${vni}`).digest('hex').slice(0, 12)}`
  }

  /**
   * A container's endpoint: a veth pair from the network's namespace (on br0) into the container's
   * (`ifname`, address, MAC). `defaultRoute`: the container's first network routes everything via its gateway.
   */
  async attach(vni: number, o: { containerId: string; netns: string; ifname: string; address: string; mac: string; defaultRoute: boolean; makeNetns?: boolean }): Promise<string> {
    const st = this.#nets.get(vni)
    if (!st) throw new Error(`overlay network ${vni} is not set up on this node`)
    const { ns } = this.names(vni)
    const hv = this.hostVethFor(o.containerId, vni)
    const mtu = st.spec.mtu ?? OVERLAY_MTU
    if (o.makeNetns) await ipBatch([`netns add ${o.netns}`])
    await ipBatch([
      `link add name ${hv} mtu ${mtu} type veth peer name ${o.ifname} mtu ${mtu} address ${o.mac} netns ${o.netns}`,
      `link set ${hv} master br0 up`,
    ], { netns: ns })
    try {
      await ipBatch([
        'link set lo up',
        `addr add ${o.address} dev ${o.ifname}`,
        `link set ${o.ifname} up`,
        ...(o.defaultRoute ? [`route add default via ${st.spec.gateway} dev ${o.ifname}`] : []),
      ], { netns: o.netns })
    } catch (err) {
      await ip(['-n', ns, 'link', 'del', hv])
      throw err
    }
    return hv
  }

  async detach(vni: number, hostVeth: string): Promise<void> {
    if (!this.#nets.has(vni)) return
    await ip(['-n', this.names(vni).ns, 'link', 'del', hostVeth])
  }

  /** Drop a network's namespace (its devices and host link go with it). */
  async removeNetwork(vni: number): Promise<void> {
    const { ns, hostLink } = this.names(vni)
    this.#nets.delete(vni)
    const r = await ip(['netns', 'del', ns])
    if (r.code !== 0 && !/No such file/.test(r.stderr)) this.opts.log(`netns del ${ns}: ${r.stderr.trim()}`)
    await ip(['link', 'del', hostLink])
  }

  /** Every overlay namespace of this berthd, known or left by a crash. */
  async removeAll(): Promise<void> {
    const prefix = `ov-${this.opts.tag}-`
    for (const ns of await listNetns()) {
      if (ns.startsWith(prefix)) await this.removeNetwork(Number(ns.slice(prefix.length)))
    }
    this.#nets.clear()
  }

  get networks(): OverlaySpec[] {
    return [...this.#nets.values()].map((n) => n.spec)
  }

  /** The namespace's address on the host link (the host routes the subnet to it), and the host side (where the embedded DNS listens). */
  link(vni: number): { host: string; ns: string } {
    return linkAddrs(vni)
  }
}

import { createHash } from 'node:crypto'
import { bridgeBatch, netnsRestoreWithJumps, removeJumpsAndChains, restoreWithJumps } from '../platform/bridge.js'
import { ip, ipBatch, listNetns, netnsFirewall, setSysctl } from '../platform/net.js'
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
    if ((await listNetns()).includes(ns)) {
      // Left by this berthd before a restart: adopted when it is the same network (its running
      // containers keep their endpoints); anything else a crash left goes first.
      if (await this.#adoptable(ns, spec, vtep)) {
        this.#nets.set(spec.vni, { spec: { ...spec }, peers: new Map() })
        await this.#firewall(spec)
        return ns
      }
      await ip(['netns', 'del', ns])
    }
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

  async #adoptable(ns: string, spec: OverlaySpec, vtep: Vtep): Promise<boolean> {
    const r = await ip(['-n', ns, '-j', '-d', 'link', 'show', 'vxlan0'])
    if (r.code !== 0) return false
    try {
      const d = (JSON.parse(r.stdout) as Array<{ linkinfo?: { info_data?: { id?: number; local?: string; port?: number } } }>)[0]?.linkinfo?.info_data
      if (d?.id !== spec.vni || d.local !== vtep.addr || d.port !== vtep.port) return false
      const br = await ip(['-n', ns, '-j', 'addr', 'show', 'br0'])
      const addrs = (JSON.parse(br.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string; prefixlen?: number }> }>)[0]?.addr_info?.map((a) => `${a.local}/${a.prefixlen}`) ?? []
      const bits = parseCidr(spec.subnet).bits
      return addrs.includes(`${spec.gateway}/${bits}`) && (!spec.nodeAddr || addrs.includes(spec.nodeAddr))
    } catch {
      return false
    }
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
    await this.clearIngress(true)
    const prefix = `ov-${this.opts.tag}-`
    for (const ns of await listNetns()) {
      if (ns.startsWith(prefix)) await this.removeNetwork(Number(ns.slice(prefix.length)))
    }
    this.#nets.clear()
  }

  get networks(): OverlaySpec[] {
    return [...this.#nets.values()].map((n) => n.spec)
  }

  /** A container's service VIPs (its namespace's nat OUTPUT → BERTH-VIP). */
  async applyVips(netns: string, vips: { vip: string; backends: string[] }[]): Promise<void> {
    await netnsRestoreWithJumps(netns, vipRulesInput(vips), [{ table: 'nat', rule: `OUTPUT -j ${VIP_CHAIN}` }])
  }

  #ingressOn: string | undefined

  /** The routing mesh's rules in the host namespace for the ingress network (VNI `vni`, set up here). */
  async applyIngress(vni: number, ports: IngressPort[]): Promise<void> {
    const { hostLink } = this.names(vni)
    const { input, jumps } = ingressRulesInput(this.opts.tag, hostLink, ports)
    await setSysctl('net/ipv4/ip_forward', '1')
    await setSysctl(`net/ipv4/conf/${hostLink}/route_localnet`, '1')
    await restoreWithJumps(input, jumps)
    this.#ingressOn = hostLink
  }

  /** Drop the routing mesh's rules (`always`: even when this process did not write them: a crash's). */
  async clearIngress(always = false): Promise<void> {
    if (!this.#ingressOn && !always) return
    const { jumps } = ingressRulesInput(this.opts.tag, this.#ingressOn ?? 'none', [])
    const c = ingressChains(this.opts.tag)
    await removeJumpsAndChains(jumps, [{ table: 'nat', chain: c.dnat }, { table: 'nat', chain: c.post }, { table: 'filter', chain: c.fwd }])
    this.#ingressOn = undefined
  }

  /** The namespace's address on the host link (the host routes the subnet to it), and the host side (where the embedded DNS listens). */
  link(vni: number): { host: string; ns: string } {
    return linkAddrs(vni)
  }
}

// ---- load balancing (no IPVS in this kernel: iptables statistic over the backends)

/**
 * DNAT rules spreading new connections evenly over `backends`: rule k of n matches every
 * (n-k)th packet reaching it (`-m statistic --mode nth --every n-k --packet 0`), the last one
 * takes the rest, so each backend gets 1/n of the connections (conntrack keeps a connection on
 * its backend).
 */
export function spreadRules(chain: string, match: string, backends: string[]): string[] {
  const n = backends.length
  return backends.map((b, k) => {
    const stat = k < n - 1 ? ` -m statistic --mode nth --every ${n - k} --packet 0` : ''
    return `-A ${chain} ${match}${stat} -j DNAT --to-destination ${b}`
  })
}

export const VIP_CHAIN = 'BERTH-VIP'

/** A container's service VIPs: its nat table's BERTH-VIP chain (jumped to from OUTPUT), for `iptables-restore --noflush`. */
export function vipRulesInput(vips: { vip: string; backends: string[] }[]): string {
  const lines = ['*nat', `:${VIP_CHAIN} - [0:0]`]
  for (const v of [...vips].sort((a, b) => a.vip.localeCompare(b.vip))) {
    if (v.backends.length === 0) continue
    lines.push(...spreadRules(VIP_CHAIN, `-d ${v.vip}/32`, [...v.backends].sort()))
  }
  lines.push('COMMIT', '')
  return lines.join('\n')
}

export interface IngressPort {
  proto: 'tcp' | 'udp' | 'sctp'
  port: number
  /** ip:port of the tasks on the ingress network. */
  backends: string[]
}

export function ingressChains(tag: string): { dnat: string; post: string; fwd: string } {
  return { dnat: `BERTH-${tag}-ING`, post: `BERTH-${tag}-INGP`, fwd: `BERTH-${tag}-INGF` }
}

/**
 * The routing mesh on a node (host namespace): a published port answers on every local address
 * (PREROUTING and OUTPUT, `--dst-type LOCAL`), DNAT'd over the tasks' ingress addresses; the
 * connection is routed into the ingress network's namespace (its host link), which sends it on
 * with this node's ingress address as source, so replies come back over the overlay. Connections
 * from the host itself (127.0.0.1 included) leave with the host link's address.
 */
export function ingressRulesInput(tag: string, hostLink: string, ports: IngressPort[]): { input: string; jumps: { table: 'nat' | 'filter'; rule: string }[] } {
  const c = ingressChains(tag)
  const nat = ['*nat', `:${c.dnat} - [0:0]`, `:${c.post} - [0:0]`]
  for (const p of [...ports].sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto))) {
    if (p.backends.length === 0) continue
    nat.push(...spreadRules(c.dnat, `-p ${p.proto} -m ${p.proto} --dport ${p.port}`, [...p.backends].sort()))
  }
  nat.push(`-A ${c.post} -o ${hostLink} -m addrtype --src-type LOCAL -j MASQUERADE`, 'COMMIT')
  const filter = ['*filter', `:${c.fwd} - [0:0]`, `-A ${c.fwd} -o ${hostLink} -j ACCEPT`, `-A ${c.fwd} -i ${hostLink} -j ACCEPT`, 'COMMIT', '']
  return {
    input: [...nat, ...filter].join('\n'),
    jumps: [
      { table: 'nat', rule: `PREROUTING -m addrtype --dst-type LOCAL -j ${c.dnat}` },
      { table: 'nat', rule: `OUTPUT -m addrtype --dst-type LOCAL -j ${c.dnat}` },
      { table: 'nat', rule: `POSTROUTING -j ${c.post}` },
      { table: 'filter', rule: `FORWARD -j ${c.fwd}` },
    ],
  }
}

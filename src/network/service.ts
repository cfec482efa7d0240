import { access, mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { conflict, EngineError, invalid, notFound, notImplemented } from '../lib/errors.js'
import { sha256 } from '../lib/digest.js'
import { readJson, writeJsonAtomic } from '../lib/fs.js'
import { KeyedLock } from '../lib/lock.js'
import { hostAddresses, hostEtcHosts, hostResolvConf, hostRoutes, ip, ipBatch, ipSync, iptablesRestore, iptablesRestoreSync, iptablesSave, iptablesSaveSync, listLinks, listNetns, netnsFirewall, netnsPath, processNetnsPath, setSysctl } from '../platform/net.js'
import { DnsServer } from './dns.js'
import { generatedResolvConf, hostsFile, copiedResolvConf, nameserversOf, type EtcInput } from './etc-files.js'
import { anyPresent, chainsFor, removalFor, rulesFor, type ActivePort, type Present } from './firewall.js'
import { allocate, contains, DEFAULT_POOLS, formatCidr, formatIp, macFor, overlaps, parseCidr, parseIp, pickSubnet, poolsOf, type Cidr, type Pool } from './ipam.js'
import { PortReservations, portRequests } from './ports.js'
import { OverlayDriver, type OverlayPeer, type Vtep } from './overlay.js'
import type { ContainerNetworkOps, ContainerNetworkState, ContainerView, EndpointChange, EndpointState, NetworkHooks, NetworkRecord, NetworkSetUp, PortMapping } from './types.js'

/**
 * What the network service reads of the containers (given lazily: they are built after it).
 * It never writes them: what it computes is returned to the container domain, which records it.
 */
export interface ContainerAccess {
  all(): ContainerView[]
  resolve(ref: string): ContainerView
  get(id: string): ContainerView | undefined
  /** Deprecated, never called: only the container domain saves its records (kept so older wiring compiles). */
  save?(rec: never): Promise<void>
  /** Deprecated, never called: the container domain writes and shares the /etc files. */
  dir?(id: string): string
}

/** Where the network's events go (the engine's event bus). */
export interface NetworkEvents {
  emit(type: 'network', action: string, id: string, attributes: Record<string, string>): unknown
}

type ContainerRecord = ContainerView

export interface CreateNetworkRequest {
  name: string
  driver?: string
  internal?: boolean
  attachable?: boolean
  enableIPv6?: boolean
  labels?: Record<string, string>
  options?: Record<string, string>
  ipam?: { driver?: string; config: Array<{ subnet?: string; gateway?: string; ipRange?: string; auxAddresses?: Record<string, string> }> }
  checkDuplicate?: boolean
}

const PREDEFINED = ['bridge', 'host', 'none']
/** Docker's embedded DNS address in every container on a user network. */
const EMBEDDED_DNS = '127.0.0.11'

/**
 * Host-wide: each berthd writes the subnets of its networks here (`<tag>.json`), so another
 * berthd never takes them, even while their bridges are deleted (an idle berthd has none).
 * A claim whose data root is gone is stale and ignored (then removed).
 */
const CLAIMS_DIR = process.env.BERTH_IPAM_DIR ?? '/run/berth-ipam'
interface Claim { dataRoot: string; subnets: string[] }

/** How long an idle network keeps its bridge and rules. */
const IDLE_MS = Number(process.env.BERTH_NET_IDLE_MS ?? 2000)

const mtuOf = (n: NetworkRecord): number => Number(n.options['com.docker.network.driver.mtu'] ?? 1500) || 1500

/** BERTH_NET_TIMING=1: log the time of each container's network set-up and tear-down. */
const TIMING = process.env.BERTH_NET_TIMING === '1'

const running = (r: ContainerRecord) => r.state.status === 'running' || r.state.status === 'paused' || r.state.status === 'restarting'

/**
 * Networks (bridge, host, none, user-defined bridges) and the containers' endpoints on them.
 *
 * Per container: a named netns `berth-<tag>-<id12>`, one veth pair per network (eth0, eth1...)
 * on the network's Linux bridge; published ports as DNAT rules with the host port held by a
 * socket in berthd. A bridge exists while a container uses it; Berth's iptables chains exist
 * while any bridge does, so an idle berthd leaves nothing in the host's network.
 */
export class NetworkService implements NetworkHooks {
  readonly #dir: string
  readonly #tag: string
  readonly #chains
  #nets = new Map<string, NetworkRecord>()
  /** Endpoints and ports of the containers with network set up, by container ID. */
  #active = new Map<string, ContainerNetworkState & { upstreams: string[] }>()
  /** Bridges known to exist. */
  #bridges = new Set<string>()
  #jumps = false
  /** Berth's chains or jumps may be in the tables though no bridge is active (a crash): remove them at the next write. */
  #stale = false
  #netLocks = new KeyedLock()
  #ops: ContainerNetworkOps | undefined
  #ports = new PortReservations()
  #dns: DnsServer
  #rulesQueue: Promise<void> = Promise.resolve()
  /** Networks no container uses any more, whose bridge and rules are kept until the timer. */
  #idle = new Map<string, NodeJS.Timeout>()
  #rulesWaiting: Promise<void> | undefined

  readonly #pools: Pool[]
  readonly #overlay: OverlayDriver
  /** This node's VXLAN endpoint (set by ensureOverlay; the swarm's data path address and port). */
  #vtep: Vtep | undefined

  constructor(private readonly opts: { dataRoot: string; log: (m: string) => void; containers: () => ContainerAccess; events?: NetworkEvents; bip?: string; pools?: Array<{ base: string; size: number }> }) {
    this.#pools = opts.pools?.length ? poolsOf(opts.pools) : DEFAULT_POOLS
    this.#dir = join(opts.dataRoot, 'networks')
    this.#tag = sha256(opts.dataRoot).slice(7, 13)
    this.#chains = chainsFor(this.#tag)
    this.#dns = new DnsServer({ resolve: (c, n) => this.#dnsResolve(c, n), upstreams: (c) => this.#upstreams(c) }, opts.log)
    this.#overlay = new OverlayDriver({ tag: this.#tag, log: opts.log })
  }

  // ---- overlay (the node-local part of swarm networks)

  /** The overlay data path of this berthd (namespaces, VXLAN, FDB); cluster code programs its peers. */
  get overlay(): OverlayDriver { return this.#overlay }

  /**
   * Make a swarm network usable here: a local record of driver overlay (the swarm network's ID,
   * name, subnet; scope swarm) and its namespace with the VXLAN device. Idempotent; `nodeAddr`
   * (CIDR) is this node's own address on it (the ingress network's). Returns the network's ID.
   */
  async ensureOverlay(n: { id: string; name: string; vni: number; subnet: string; gateway: string; created: string; labels: Record<string, string>; options: Record<string, string>; attachable: boolean; internal: boolean; ingress: boolean }, vtep: Vtep, nodeAddr?: string): Promise<string> {
    await using _ = await this.#netLocks.acquire(n.id)
    this.#vtep = vtep
    const clash = [...this.#nets.values()].find((x) => x.name === n.name && x.id !== n.id)
    if (clash && clash.driver !== 'overlay') this.opts.log(`swarm network ${n.name}: a local network of that name exists (${clash.id}); use its ID`)
    const prev = this.#nets.get(n.id)
    const rec: NetworkRecord = {
      ...(prev ?? this.#record(n.name, 'overlay', {})),
      id: n.id, name: n.name, driver: 'overlay', created: prev?.created ?? n.created, subnet: n.subnet, gateway: n.gateway, ipRange: '', userSubnet: true,
      internal: n.internal, attachable: n.attachable, labels: n.labels, options: n.options, bridge: '', isDefault: false,
      overlay: { vni: n.vni, ingress: n.ingress, scope: 'swarm' },
    }
    if (!prev || JSON.stringify(prev) !== JSON.stringify(rec)) await this.#save(rec)
    clearTimeout(this.#idle.get(n.id))
    this.#idle.delete(n.id)
    await this.#overlay.ensureNetwork({ vni: n.vni, subnet: n.subnet, gateway: n.gateway, ...(nodeAddr ? { nodeAddr } : {}) }, vtep)
    const link = this.#overlay.link(n.vni)
    await this.#dns.listen(link.host).catch((e) => this.opts.log(`embedded DNS on ${link.host}: ${String(e)}`))
    if (!prev) this.#event('create', rec)
    return rec.id
  }

  /** The remote endpoints of a swarm network (from cluster state): exactly these afterwards. */
  async setOverlayPeers(networkId: string, peers: OverlayPeer[]): Promise<void> {
    const n = this.#nets.get(networkId)
    if (n?.overlay) await this.#overlay.setPeers(n.overlay.vni, peers)
  }

  /** Drop a swarm network's local part when no container here uses it (its namespace and record). */
  async releaseOverlay(networkId: string, opts: { force?: boolean } = {}): Promise<void> {
    await using _ = await this.#netLocks.acquire(networkId)
    const n = this.#nets.get(networkId)
    if (!n?.overlay) return
    if (!opts.force && this.endpointsOn(networkId).length) return
    this.#dns.close(this.#overlay.link(n.overlay.vni).host)
    await this.#overlay.removeNetwork(n.overlay.vni)
    await rm(join(this.#dir, `${n.id}.json`), { force: true })
    this.#nets.delete(n.id)
    this.#event('destroy', n)
  }

  /** The local containers' endpoints on swarm networks (for their VIP rules). */
  overlayEndpoints(): Array<{ containerId: string; netns: string; networkId: string; ip: string }> {
    const out: Array<{ containerId: string; netns: string; networkId: string; ip: string }> = []
    for (const [cid, st] of this.#active) {
      if (!st.netns) continue
      for (const ep of st.endpoints) if (this.#nets.get(ep.networkId)?.overlay) out.push({ containerId: cid, netns: st.netns, networkId: ep.networkId, ip: ep.ip })
    }
    return out
  }

  #swarmResolver: ((networkIds: string[], name: string) => string[] | undefined) | undefined

  /** Names the swarm answers for containers on its networks (services' VIPs, tasks.<service>, task names). */
  useSwarmResolver(fn: ((networkIds: string[], name: string) => string[] | undefined) | undefined): void {
    this.#swarmResolver = fn
  }

  /** Every swarm network's local part (leaving the swarm). */
  async releaseAllOverlays(): Promise<void> {
    for (const n of [...this.#nets.values()]) if (n.overlay) await this.releaseOverlay(n.id, { force: true })
    await this.#overlay.removeAll()
  }

  get #ctrs(): ContainerAccess { return this.opts.containers() }

  /** Docker's network events: create, destroy, connect, disconnect (with the container's ID). */
  #event(action: string, n: NetworkRecord, container?: string): void {
    this.opts.events?.emit('network', action, n.id, { name: n.name, type: n.driver, ...(container ? { container } : {}) })
  }

  // ---- start-up

  /** Load the networks; create the predefined ones at the first start. */
  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 })
    process.once('exit', () => this.#exitCleanup())
    this.#hostNameservers = (await hostResolvConf()).split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((x): x is string => !!x && !x.includes(':'))
    for (const f of await readdir(this.#dir)) {
      if (!f.endsWith('.json')) { if (f.includes('.berth-tmp-')) await rm(join(this.#dir, f), { force: true }); continue }
      const n = await readJson<NetworkRecord>(join(this.#dir, f))
      if (n) this.#nets.set(n.id, n)
    }
    const byName = (name: string) => [...this.#nets.values()].some((n) => n.name === name)
    if (!byName('host')) await this.#save(this.#record('host', 'host', {}))
    if (!byName('none')) await this.#save(this.#record('none', 'null', {}))
    const bip = this.opts.bip ? { cidr: parseCidr(this.opts.bip, 'bip'), gateway: this.opts.bip.split('/')[0]! } : undefined
    const def = [...this.#nets.values()].find((n) => n.isDefault)
    if (def && bip && (def.subnet !== formatCidr(bip.cidr) || def.gateway !== bip.gateway)) {
      // daemon.json `bip` changed: the default bridge follows it (its bridge is made again at next use).
      let inUse = false
      try { inUse = this.#ctrs.all().some((r) => running(r) && !!r.network?.endpoints.some((e) => e.networkId === def.id)) } catch { /* the containers are not loaded yet */ }
      if (!inUse) {
        await ip(['link', 'del', def.bridge])
        await this.#save({ ...def, subnet: formatCidr(bip.cidr), gateway: bip.gateway })
      } else this.opts.log(`bip ${this.opts.bip}: the default bridge is in use by running containers; it keeps ${def.subnet} until they stop`)
    }
    if (!byName('bridge')) {
      // Docker: the first free block of the pools (172.17.0.0/16 on a host without docker0), or `bip`.
      const subnet = bip?.cidr ?? pickSubnet(await this.#takenSubnets(), this.#pools)
      const rec = this.#record('bridge', 'bridge', { subnet: formatCidr(subnet), gateway: bip?.gateway ?? formatIp(subnet.base + 1), isDefault: true })
      rec.options = { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true', 'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0', 'com.docker.network.bridge.name': rec.bridge, 'com.docker.network.driver.mtu': '1500' }
      await this.#save(rec)
    }
    await this.#writeClaim()
  }

  /** Publish this berthd's subnets for the other berthds of the host (see CLAIMS_DIR). */
  async #writeClaim(): Promise<void> {
    const claim: Claim = { dataRoot: this.opts.dataRoot, subnets: [...this.#nets.values()].filter((n) => n.subnet).map((n) => n.subnet) }
    try {
      await mkdir(CLAIMS_DIR, { recursive: true, mode: 0o755 })
      await writeJsonAtomic(join(CLAIMS_DIR, `${this.#tag}.json`), claim)
    } catch (err) {
      this.opts.log(`subnet claims: ${String(err)}`)
    }
  }

  /** The subnets the other berthds of this host hold (stale claims removed). */
  async #claimedElsewhere(): Promise<Cidr[]> {
    const out: Cidr[] = []
    let files: string[] = []
    try { files = await readdir(CLAIMS_DIR) } catch { return out }
    for (const f of files) {
      if (!f.endsWith('.json') || f === `${this.#tag}.json`) continue
      const c = await readJson<Claim>(join(CLAIMS_DIR, f)).catch(() => undefined)
      if (!c || typeof c.dataRoot !== 'string' || !Array.isArray(c.subnets)) continue
      const alive = await access(join(c.dataRoot, 'networks')).then(() => true, () => false)
      if (!alive) { await rm(join(CLAIMS_DIR, f), { force: true }); continue }
      for (const sn of c.subnets) { try { out.push(parseCidr(String(sn))) } catch { /* not IPv4 */ } }
    }
    return out
  }

  /**
   * After the containers' own start-up (crashed containers marked exited): keep the endpoints of
   * the running ones, remove every namespace, veth and bridge of this berthd that nothing uses,
   * rewrite the iptables chains and hold the published host ports again.
   */
  async repair(): Promise<void> {
    const live = this.#ctrs.all().filter((r) => running(r) && r.network?.netns)
    for (const r of live) this.#active.set(r.id, { ...r.network!, upstreams: this.#upstreamsOf(r) })
    const prefix = `berth-${this.#tag}-`
    const keep = new Set(live.map((r) => r.network!.netns!))
    for (const ns of await listNetns()) if (ns.startsWith(prefix) && !keep.has(ns)) await ip(['netns', 'del', ns])
    const existing = new Set(await listLinks('bridge'))
    const used = this.#usedNetworks()
    for (const n of this.#nets.values()) {
      if (n.driver !== 'bridge') continue
      if (!used.has(n.id)) {
        // Containers that died while berthd was down were torn down by the containers' start-up
        // (before this): their networks are not idle, they are gone with their bridges.
        clearTimeout(this.#idle.get(n.id))
        this.#idle.delete(n.id)
        this.#bridges.delete(n.bridge)
      }
      if (!existing.has(n.bridge)) continue
      if (used.has(n.id)) this.#bridges.add(n.bridge)
      else await ip(['link', 'del', n.bridge])
    }
    for (const id of used) {
      const n = this.#nets.get(id)
      // A swarm network's endpoints live in its overlay namespace (adopted by the overlay driver).
      if (n && n.driver === 'bridge') await this.#ensureBridge(n)
    }
    // Whatever a crash left (jumps written twice, chains of containers that died meanwhile) is
    // replaced whole: the next write deletes every jump to Berth's chains it finds and adds each once.
    this.#jumps = false
    this.#stale = anyPresent(this.#chains, await this.#present())
    await this.#syncRules()
    for (const [id, st] of this.#active) await this.#ports.rebind(id, st.ports, this.opts.log)
  }

  /** Stop answering DNS and release the held ports (berthd shutting down; rules stay). */
  close(): void {
    this.#dns.closeAll()
    this.#ports.releaseAll()
  }

  // ---- networks

  #record(name: string, driver: NetworkRecord['driver'], o: Partial<NetworkRecord>): NetworkRecord {
    const id = randomBytes(32).toString('hex')
    return { id, name, driver, created: new Date().toISOString(), subnet: '', gateway: '', ipRange: '', userSubnet: false, internal: false, attachable: false, labels: {}, options: {}, bridge: driver === 'bridge' ? `bb-${id.slice(0, 12)}` : '', isDefault: false, ...o }
  }

  async #save(n: NetworkRecord): Promise<void> {
    await writeJsonAtomic(join(this.#dir, `${n.id}.json`), n)
    this.#nets.set(n.id, n)
  }

  /** What a new network's subnet must not overlap: ours, the host's routes and addresses (down links too), other berthds'. */
  async #takenSubnets(): Promise<Cidr[]> {
    const taken: Cidr[] = [...this.#nets.values()].filter((n) => n.subnet).map((n) => parseCidr(n.subnet))
    for (const r of [...await hostRoutes(), ...await hostAddresses()]) {
      if (r === '' || r.startsWith('127.')) continue
      try { taken.push(parseCidr(r)) } catch { /* not IPv4 */ }
    }
    taken.push(...await this.#claimedElsewhere())
    return taken
  }

  list(): NetworkRecord[] {
    return [...this.#nets.values()]
  }

  /** Docker's lookup: full ID, full name, then a unique ID prefix. */
  resolveNetwork(ref: string): NetworkRecord {
    const all = [...this.#nets.values()]
    const hit = all.find((n) => n.id === ref) ?? all.find((n) => n.name === ref)
    if (hit) return hit
    const pre = ref.length > 0 ? all.filter((n) => n.id.startsWith(ref)) : []
    if (pre.length === 1) return pre[0]!
    if (pre.length > 1) throw invalid('ERR_AMBIGUOUS_NETWORK', `network ${ref} is ambiguous (${pre.length} matches found based on ID prefix)`)
    throw notFound('ERR_NETWORK_NOT_FOUND', `network ${ref} not found`)
  }

  async create(req: CreateNetworkRequest): Promise<{ id: string; warning: string }> {
    const driver = req.driver || 'bridge'
    // Docker checks no pattern: any non-empty name (spaces included) is a network name.
    if (!req.name) throw invalid('ERR_BAD_NAME', 'network name must not be empty')
    if (PREDEFINED.includes(req.name)) throw new EngineError('Forbidden', 'ERR_PREDEFINED', `operation is not permitted on predefined ${req.name} network `)
    if (driver !== 'bridge') {
      if (['host', 'null'].includes(driver)) throw new EngineError('Forbidden', 'ERR_PREDEFINED', `only one instance of "${driver}" network is allowed`)
      throw notImplemented('ERR_DRIVER', `plugin "${driver}" not found`)
    }
    if (req.enableIPv6) throw invalid('ERR_IPV6', 'IPv6 networks are not supported by this berthd')
    if (req.ipam?.driver && req.ipam.driver !== 'default') throw notImplemented('ERR_IPAM', `plugin "${req.ipam.driver}" not found`)
    const cfgs = req.ipam?.config ?? []
    if (cfgs.length > 1) throw notImplemented('ERR_IPAM', 'more than one IPv4 pool per network is not supported by this berthd')
    const unknownOpt = Object.keys(req.options ?? {}).find((k) => !['com.docker.network.bridge.name', 'com.docker.network.driver.mtu', 'com.docker.network.bridge.enable_icc', 'com.docker.network.bridge.enable_ip_masquerade', 'com.docker.network.bridge.host_binding_ipv4'].includes(k))
    if (unknownOpt) throw notImplemented('ERR_BRIDGE_OPT', `bridge option ${unknownOpt} is not supported by this berthd`)
    const o = req.options ?? {}
    const mtu = o['com.docker.network.driver.mtu']
    if (mtu !== undefined && (!/^\d+$/.test(mtu) || Number(mtu) < 68 || Number(mtu) > 65535)) throw invalid('ERR_BAD_MTU', `invalid MTU: ${mtu}`)
    for (const k of ['com.docker.network.bridge.enable_icc', 'com.docker.network.bridge.enable_ip_masquerade']) {
      if (o[k] !== undefined && !['true', 'false'].includes(o[k]!)) throw invalid('ERR_BAD_OPTION', `invalid value for ${k}: ${o[k]}`)
    }
    const hb = o['com.docker.network.bridge.host_binding_ipv4']
    if (hb !== undefined && parseIp(hb) === undefined) throw invalid('ERR_BAD_OPTION', `invalid host binding address: ${hb}`)
    const held = await this.#netLocks.acquire('\0create')
    try {
      if ([...this.#nets.values()].some((n) => n.name === req.name)) throw conflict('ERR_NETWORK_EXISTS', `network with name ${req.name} already exists`)
      const c = cfgs[0] ?? {}
      let subnet: Cidr
      const taken = [...this.#nets.values()].filter((n) => n.subnet).map((n) => parseCidr(n.subnet))
      if (c.subnet) {
        subnet = parseCidr(c.subnet)
        if (subnet.bits > 30) throw invalid('ERR_BAD_CIDR', `invalid subnet ${c.subnet}: the prefix must be at most /30`)
        if (taken.some((t) => overlaps(t, subnet))) throw new EngineError('Forbidden', 'ERR_POOL_OVERLAP', 'invalid pool request: Pool overlaps with other one on this address space')
      } else {
        if (c.gateway || c.ipRange) throw invalid('ERR_BAD_CIDR', 'invalid pool request: ip-range and gateway need a subnet')
        subnet = pickSubnet(await this.#takenSubnets(), this.#pools)
      }
      let gateway = subnet.base + 1
      if (c.gateway) {
        const g = parseIp(c.gateway)
        if (g === undefined || !contains(subnet, g)) throw invalid('ERR_BAD_GATEWAY', `invalid gateway: no matching subnet for gateway ${c.gateway}`)
        gateway = g
      }
      let ipRange = ''
      if (c.ipRange) {
        const r = parseCidr(c.ipRange, 'ip-range')
        if (!contains(subnet, r.base) || r.bits < subnet.bits) throw invalid('ERR_BAD_RANGE', `invalid pool request: ip-range ${c.ipRange} is not inside subnet ${formatCidr(subnet)}`)
        ipRange = formatCidr(r)
      }
      const rec = this.#record(req.name, 'bridge', {
        subnet: formatCidr(subnet), gateway: formatIp(gateway), ipRange, userSubnet: !!c.subnet, internal: !!req.internal, attachable: !!req.attachable,
        labels: req.labels ?? {}, options: req.options ?? {},
      })
      const br = req.options?.['com.docker.network.bridge.name']
      if (br) {
        if (br.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(br)) throw invalid('ERR_BAD_BRIDGE', `invalid bridge name: ${br}`)
        if ([...this.#nets.values()].some((n) => n.bridge === br) || (await listLinks('bridge')).includes(br)) throw conflict('ERR_BRIDGE_EXISTS', `bridge name ${br} is in use`)
        rec.bridge = br
      }
      await this.#save(rec)
      await this.#writeClaim()
      this.#event('create', rec)
      return { id: rec.id, warning: '' }
    } finally {
      held.release()
    }
  }

  /** The containers with an endpoint on a network now. */
  endpointsOn(id: string): Array<{ containerId: string; name: string; ep: EndpointState }> {
    const out: Array<{ containerId: string; name: string; ep: EndpointState }> = []
    for (const [cid, st] of this.#active) {
      for (const ep of st.endpoints) if (ep.networkId === id) out.push({ containerId: cid, name: this.#ctrs.get(cid)?.name ?? '', ep })
    }
    return out
  }

  async remove(ref: string): Promise<void> {
    const n = this.resolveNetwork(ref)
    if (PREDEFINED.includes(n.name)) throw new EngineError('Forbidden', 'ERR_PREDEFINED', `${n.name} is a pre-defined network and cannot be removed`)
    if (this.#idle.has(n.id)) await this.#maybeDropBridge(n.id)
    await using _ = await this.#netLocks.acquire(n.id)
    if (this.endpointsOn(n.id).length) throw new EngineError('Forbidden', 'ERR_NETWORK_IN_USE', `error while removing network: network ${n.name} id ${n.id} has active endpoints`)
    await rm(join(this.#dir, `${n.id}.json`), { force: true })
    this.#nets.delete(n.id)
    await this.#writeClaim()
    this.#event('destroy', n)
  }

  /** Remove the unused user networks; returns their names. */
  async prune(keep: (n: NetworkRecord) => boolean): Promise<string[]> {
    const out: string[] = []
    for (const n of [...this.#nets.values()]) {
      if (PREDEFINED.includes(n.name) || !keep(n) || this.endpointsOn(n.id).length) continue
      if (this.#ctrs.all().some((c) => this.#wanted(c).some((w) => w.net.id === n.id))) continue
      await this.remove(n.id).then(() => out.push(n.name), (e) => this.opts.log(`prune ${n.name}: ${String(e)}`))
    }
    return out
  }

  // ---- container hooks

  /** The networks a container joins at start, with what was asked for each. */
  #wanted(rec: ContainerRecord): Array<{ net: NetworkRecord; aliases: string[]; ip: string; mac: string }> {
    const mode = rec.hostConfig.networkMode
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return []
    const detached = new Set(rec.network?.detached ?? [])
    const out: Array<{ net: NetworkRecord; aliases: string[]; ip: string; mac: string }> = []
    const primary = this.resolveNetwork(mode === 'default' ? 'bridge' : mode)
    const epc = rec.endpointsConfig ?? {}
    const cfgOf = (n: NetworkRecord) => epc[n.name] ?? epc[n.id] ?? (n.isDefault ? epc.default : undefined) ?? Object.entries(epc).find(([k]) => { try { return this.resolveNetwork(k).id === n.id } catch { return false } })?.[1]
    const add = (n: NetworkRecord) => {
      if (detached.has(n.id) || out.some((o) => o.net.id === n.id)) return
      const c = cfgOf(n)
      out.push({ net: n, aliases: c?.aliases ?? [], ip: c?.ipv4Address ?? '', mac: c?.macAddress ?? '' })
    }
    add(primary)
    for (const k of Object.keys(epc)) {
      try { add(this.resolveNetwork(k === 'default' ? 'bridge' : k)) } catch (err) { if (!(err instanceof EngineError && err.kind === 'NotFound')) throw err }
    }
    return out
  }

  async validate(rec: ContainerRecord): Promise<{ extraHosts: string[] }> {
    const hc = rec.hostConfig
    const extraHosts = [...hc.extraHosts]
    const mode = hc.networkMode
    if (mode.startsWith('container:')) {
      const target = this.#ctrs.resolve(mode.slice(10))
      if (target.id === rec.id) throw invalid('ERR_NETWORK_MODE', 'cannot join own network')
      if (Object.keys(hc.portBindings).length || hc.publishAllPorts) throw invalid('ERR_NETWORK_MODE', 'conflicting options: port publishing and the container type network mode')
      if (hc.extraHosts.length) throw invalid('ERR_NETWORK_MODE', 'conflicting options: custom host-to-IP mapping and the network mode')
      if (hc.dns.length) throw invalid('ERR_NETWORK_MODE', 'conflicting options: dns and the network mode')
      return { extraHosts }
    }
    // A 404 would make the docker CLI pull the image and try again: the unknown network is a bad request.
    const known = (ref: string) => {
      try { this.resolveNetwork(ref) } catch (err) { throw err instanceof EngineError && err.kind === 'NotFound' ? invalid('ERR_NETWORK_MODE', err.message) : err }
    }
    if (mode !== 'host' && mode !== 'none' && mode !== 'default') known(mode)
    for (const k of Object.keys(rec.endpointsConfig ?? {})) if (k !== 'default') known(k)
    const wanted = this.#wanted(rec)
    for (const w of wanted) {
      if (w.ip) {
        const ipn = parseIp(w.ip)
        if (ipn === undefined) throw invalid('ERR_BAD_IP', `invalid IPv4 address: ${w.ip}`)
        if (w.net.isDefault) throw invalid('ERR_BAD_IP', 'user specified IP address is supported on user defined networks only')
        if (!w.net.userSubnet) throw invalid('ERR_BAD_IP', 'user specified IP address is supported only when connecting to networks with user configured subnets')
        if (!contains(parseCidr(w.net.subnet), ipn)) throw invalid('ERR_BAD_IP', `no configured subnet contains IP address ${w.ip}`)
      }
      if (w.aliases.length && w.net.isDefault) throw invalid('ERR_ALIAS', 'network-scoped alias is supported only for containers in user defined networks')
      if (w.mac && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(w.mac)) throw invalid('ERR_BAD_MAC', `invalid MAC address: ${w.mac}`)
    }
    for (const [i, e] of hc.extraHosts.entries()) {
      const k = e.lastIndexOf(':') > 0 && e.indexOf('=') < 0 ? e.indexOf(':') : e.indexOf('=')
      const host = e.slice(0, k)
      const addr = e.slice(k + 1)
      if (k <= 0 || !addr) throw invalid('ERR_BAD_HOST', `invalid IP address in add-host: "${e}"`)
      if (addr !== 'host-gateway' && parseIp(addr) === undefined && !addr.includes(':')) throw invalid('ERR_BAD_HOST', `invalid IP address in add-host: "${addr}"`)
      extraHosts[i] = `${host}:${addr}`
    }
    if (mode !== 'host') portRequests(hc.portBindings, hc.publishAllPorts, rec.config.exposedPorts)
    for (const l of hc.links) {
      const [name = ''] = l.split(':')
      try { this.#ctrs.resolve(name.replace(/^\//, '')) } catch { throw invalid('ERR_LINK', `could not get container for ${name}`) }
    }
    return { extraHosts }
  }

  async setUp(rec: ContainerRecord): Promise<NetworkSetUp> {
    const t0 = performance.now()
    try { return await this.#setUp(rec) } finally { if (TIMING) this.opts.log(`network setUp ${rec.id.slice(0, 12)}: ${(performance.now() - t0).toFixed(1)} ms`) }
  }

  async #setUp(rec: ContainerRecord): Promise<NetworkSetUp> {
    const mode = rec.hostConfig.networkMode
    if (mode === 'host' || mode === 'none') {
      // host: the host's own /etc/hosts, with --add-host entries after it as Docker writes them.
      const hostFile = mode === 'host' ? await hostEtcHosts() : undefined
      return { hosts: hostsFile(this.#etcInput(rec), hostFile !== undefined ? { hostFile } : {}), resolvConf: copiedResolvConf(await hostResolvConf(), rec.hostConfig) }
    }
    if (mode.startsWith('container:')) {
      const t = this.#ctrs.resolve(mode.slice(10))
      if (!running(t) || !t.state.pid) throw conflict('ERR_NOT_RUNNING', `cannot join network namespace of a non running container: ${t.id}`)
      const st = this.#active.get(t.id)
      return { netns: { path: st?.netns ? netnsPath(st.netns) : processNetnsPath(t.state.pid), private: false }, etcFrom: t.id }
    }
    const wanted = this.#wanted(rec)
    const nsName = `berth-${this.#tag}-${rec.id.slice(0, 12)}`
    const st: ContainerNetworkState & { upstreams: string[] } = { netns: nsName, endpoints: [], ports: [], ...(rec.network?.detached?.length ? { detached: rec.network.detached } : {}), upstreams: this.#upstreamsOf(rec) }
    try {
      this.#active.set(rec.id, st)
      let fresh = false
      // The namespace is made in the first endpoint's batch (one process less).
      for (const w of wanted) if (await this.#attach(rec, st, w, st.endpoints.length, st.endpoints.length === 0)) fresh = true
      if (st.endpoints.length === 0) {
        await ipBatch([`netns add ${nsName}`])
        await ipBatch(['link set lo up'], { netns: nsName })
      }
      const primary = st.endpoints[0]
      const hostBinding = primary ? this.#nets.get(primary.networkId)?.options['com.docker.network.bridge.host_binding_ipv4'] : undefined
      const reqs = portRequests(rec.hostConfig.portBindings, rec.hostConfig.publishAllPorts, rec.config.exposedPorts).map((r) => (r.hostIp || !hostBinding || hostBinding === '0.0.0.0' ? r : { ...r, hostIp: hostBinding }))
      if (reqs.length && primary) {
        st.ports = await this.#ports.reserve(rec.id, reqs, (r, port) => `failed to set up container networking: driver failed programming external connectivity on endpoint ${rec.name} (${primary.endpointId}): failed to bind host port for ${r.hostIp || '0.0.0.0'}:${port}:${primary.ip}:${r.containerPort}/${r.proto}: `)
      }
      if (fresh || st.ports.length) await this.#syncRules()
      await this.#embeddedDns(nsName, st.endpoints)
      const state: ContainerNetworkState = { netns: nsName, endpoints: st.endpoints, ports: st.ports, ...(st.detached ? { detached: st.detached } : {}) }
      return { netns: { path: netnsPath(nsName), private: true }, hosts: this.#hostsFile(rec, st.endpoints), resolvConf: await this.#resolvConf(rec, st.endpoints), state }
    } catch (err) {
      await this.#release(rec.id, st).catch((e) => this.opts.log(`network rollback ${rec.id}: ${String(e)}`))
      throw err
    }
  }

  async tearDown(rec: ContainerRecord): Promise<ContainerNetworkState | undefined> {
    const t0 = performance.now()
    try { return await this.#tearDown(rec) } finally { if (TIMING) this.opts.log(`network tearDown ${rec.id.slice(0, 12)}: ${(performance.now() - t0).toFixed(1)} ms`) }
  }

  async #tearDown(rec: ContainerRecord): Promise<ContainerNetworkState | undefined> {
    const st = this.#active.get(rec.id) ?? (rec.network?.netns ? { ...rec.network, upstreams: [] } : undefined)
    if (st) await this.#release(rec.id, st)
    return rec.network ? stoppedState(rec.network) : undefined
  }

  async removed(rec: ContainerRecord): Promise<void> {
    if (this.#active.has(rec.id)) await this.tearDown(rec)
  }

  /** Undo a container's set-up: ports, namespace (its veths go with it), idle bridges, rules. */
  async #release(id: string, st: ContainerNetworkState): Promise<void> {
    this.#ports.release(id)
    this.#active.delete(id)
    if (st.netns) {
      const r = await ip(['netns', 'del', st.netns])
      if (r.code !== 0 && !/No such file/.test(r.stderr)) this.opts.log(`netns del ${st.netns}: ${r.stderr.trim()}`)
    }
    for (const ep of st.endpoints) { const n = this.#nets.get(ep.networkId); if (n) this.#event('disconnect', n, id) }
    const used = this.#usedNetworks()
    const idle = [...new Set(st.endpoints.map((e) => e.networkId))].filter((n) => !used.has(n))
    if (st.ports.length) await this.#syncRules()
    // An idle network keeps its bridge and rules a little while (a `run --rm` loop does not pay
    // for them at every container), then they go, in the background: deleting a bridge takes the
    // kernel ~60 ms, and the next endpoint on that network waits for it under the lock.
    for (const n of idle) this.#linger(n)
  }

  #linger(netId: string): void {
    clearTimeout(this.#idle.get(netId))
    const t = setTimeout(() => void this.#maybeDropBridge(netId).catch((e) => this.opts.log(`bridge removal: ${String(e)}`)), IDLE_MS)
    t.unref()
    this.#idle.set(netId, t)
  }

  /**
   * At process exit (after a graceful stop): the idle bridges and, when no container uses a
   * network, Berth's chains go now, synchronously, so a stopped berthd leaves nothing behind.
   */
  #exitCleanup(): void {
    if (this.#idle.size === 0) return
    const used = this.#usedNetworks()
    for (const id of this.#idle.keys()) {
      const n = this.#nets.get(id)
      if (n && n.bridge && !used.has(id)) ipSync(['link', 'del', n.bridge])
    }
    if (!this.#jumps && !this.#stale) return
    const nets = [...this.#nets.values()].filter((n) => used.has(n.id) && n.driver === 'bridge')
    const present = { filter: iptablesSaveSync('filter'), nat: iptablesSaveSync('nat') }
    const input = nets.length ? rulesFor(this.#chains, nets, this.#activePorts(), present) : removalFor(this.#chains, present)
    if (input) iptablesRestoreSync(input)
  }

  async #maybeDropBridge(netId: string): Promise<void> {
    await using _ = await this.#netLocks.acquire(netId)
    const n = this.#nets.get(netId)
    clearTimeout(this.#idle.get(netId))
    this.#idle.delete(netId)
    if (!n || this.#usedNetworks().has(netId)) return
    // The rules follow the idle set even when the bridge is already gone (never left behind).
    const had = this.#bridges.delete(n.bridge)
    this.#dns.close(n.gateway)
    await this.#syncRules()
    if (!had) return
    const r = await ip(['link', 'del', n.bridge])
    if (r.code !== 0) this.opts.log(`bridge del ${n.bridge}: ${r.stderr.trim()}`)
  }

  #usedNetworks(): Set<string> {
    const s = new Set<string>()
    for (const st of this.#active.values()) for (const ep of st.endpoints) s.add(ep.networkId)
    return s
  }

  async #ensureBridge(n: NetworkRecord): Promise<void> {
    if (!this.#bridges.has(n.bridge)) {
      const c = parseCidr(n.subnet)
      const lines = [`link add name ${n.bridge} type bridge`, `addr add ${n.gateway}/${c.bits} dev ${n.bridge}`, `link set ${n.bridge} up`]
      try {
        await ipBatch(lines)
      } catch (err) {
        // Left by a crash (or a failed deletion): take it over.
        if (!/File exists/.test(String((err as Error).message))) throw err
        await ipBatch(lines.slice(1), { force: true })
      }
      this.#bridges.add(n.bridge)
      await setSysctl('net/ipv4/ip_forward', '1')
      // Published ports on 127.0.0.1: the DNAT'd packets keep their loopback source.
      await setSysctl(`net/ipv4/conf/${n.bridge}/route_localnet`, '1')
    }
    if (!n.isDefault) {
      await this.#dns.listen(n.gateway).catch((e) => this.opts.log(`embedded DNS on ${n.gateway}: ${String(e)}`))
    }
  }

  /**
   * Create one endpoint (registered in `st.endpoints`): the address, the bridge if needed, the
   * veth pair and its set-up. Returns whether the network's bridge was created for it.
   */
  async #attach(rec: ContainerRecord, st: ContainerNetworkState, w: { net: NetworkRecord; aliases: string[]; ip: string; mac: string }, index: number, makeNetns = false): Promise<boolean> {
    const n = w.net
    const nsName = st.netns!
    const subnet = parseCidr(n.subnet)
    const ifname = `eth${index}`
    const hostVeth = `vb${sha256(rec.id + n.id).slice(7, 20)}`
    let ep: EndpointState
    let fresh = false
    {
      await using _ = await this.#netLocks.acquire(n.id)
      if (!this.#nets.has(n.id)) throw notFound('ERR_NETWORK_NOT_FOUND', `network ${n.name} not found`)
      clearTimeout(this.#idle.get(n.id))
      this.#idle.delete(n.id)
      const used = new Set<number>([parseIp(n.gateway)!])
      for (const x of this.endpointsOn(n.id)) used.add(parseIp(x.ep.ip)!)
      let addr: number | undefined
      if (w.ip) {
        addr = parseIp(w.ip)!
        if (used.has(addr)) throw new EngineError('Forbidden', 'ERR_ADDRESS_IN_USE', 'failed to set up container networking: Address already in use')
      } else {
        addr = allocate(subnet, n.ipRange ? parseCidr(n.ipRange) : subnet, used)
        if (addr === undefined) throw new EngineError('Unavailable', 'ERR_NO_ADDRESS', `no available IPv4 addresses on this network's address pools: ${n.name} (${n.id})`)
      }
      ep = {
        networkId: n.id, networkName: n.name, endpointId: randomBytes(32).toString('hex'), ifname, hostVeth,
        ip: formatIp(addr), prefixLen: subnet.bits, gateway: n.gateway, mac: (w.mac || macFor(addr)).toLowerCase(), aliases: w.aliases,
        dnsNames: n.isDefault ? [] : [rec.name, ...w.aliases, rec.id.slice(0, 12)].map((x) => x.toLowerCase()),
      }
      st.endpoints.push(ep)
      if (n.driver === 'overlay') {
        if (!w.ip) {
          st.endpoints.splice(st.endpoints.indexOf(ep), 1)
          throw notImplemented('ERR_OVERLAY_NO_ADDRESS', `attaching a container to swarm network ${n.name} without an address from the swarm is not supported by this berthd yet`)
        }
        if (!this.#overlay.has(n.overlay!.vni)) {
          st.endpoints.splice(st.endpoints.indexOf(ep), 1)
          throw new EngineError('Unavailable', 'ERR_OVERLAY_NOT_READY', `network ${n.name} is not set up on this node (not in a swarm?)`)
        }
      } else try {
        fresh = !this.#bridges.has(n.bridge)
        await this.#ensureBridge(n)
      } catch (err) {
        st.endpoints.splice(st.endpoints.indexOf(ep), 1)
        throw err
      }
    }
    if (n.driver === 'overlay') {
      try {
        ep.hostVeth = await this.#overlay.attach(n.overlay!.vni, { containerId: rec.id, netns: nsName, ifname, address: `${ep.ip}/${ep.prefixLen}`, mac: ep.mac, defaultRoute: index === 0 && !n.internal, makeNetns })
      } catch (err) {
        st.endpoints.splice(st.endpoints.indexOf(ep), 1)
        throw err
      }
      this.#event('connect', n, rec.id)
      return false
    }
    try {
      await ipBatch([
        ...(makeNetns ? [`netns add ${nsName}`] : []),
        `link add name ${hostVeth} mtu ${mtuOf(n)} type veth peer name ${ifname} mtu ${mtuOf(n)} address ${ep.mac} netns ${nsName}`,
        `link set ${hostVeth} master ${n.bridge} up`,
      ])
      const gwRoute = index === 0 && !n.internal ? [`route add default via ${n.gateway} dev ${ifname}`] : []
      await ipBatch([...(index === 0 ? ['link set lo up'] : []), `addr add ${ep.ip}/${ep.prefixLen} dev ${ifname}`, `link set ${ifname} up`, ...gwRoute], { netns: nsName })
    } catch (err) {
      st.endpoints.splice(st.endpoints.indexOf(ep), 1)
      await ip(['link', 'del', hostVeth])
      await this.#maybeDropBridge(n.id)
      throw err
    }
    this.#event('connect', n, rec.id)
    return fresh
  }

  // ---- iptables

  /** Rewrite Berth's chains from the active networks and ports (coalesced, one restore at a time). */
  #syncRules(): Promise<void> {
    if (this.#rulesWaiting) return this.#rulesWaiting
    const p = this.#rulesQueue.then(async () => {
      this.#rulesWaiting = undefined
      await this.#writeRules()
    })
    this.#rulesWaiting = p
    this.#rulesQueue = p.catch(() => {})
    return p
  }

  #activePorts(): ActivePort[] {
    const ports: ActivePort[] = []
    for (const st of this.#active.values()) {
      const ep = st.endpoints[0]
      if (!ep) continue
      const n = this.#nets.get(ep.networkId)
      if (n?.driver === 'overlay') continue
      for (const p of st.ports) ports.push({ ...p, containerIp: ep.ip, bridge: n?.bridge ?? '' })
    }
    return ports
  }

  async #writeRules(): Promise<void> {
    const used = this.#usedNetworks()
    for (const id of this.#idle.keys()) used.add(id)
    const nets = [...this.#nets.values()].filter((n) => used.has(n.id) && n.driver === 'bridge')
    if (nets.length === 0) {
      if (this.#jumps || this.#stale) {
        const input = removalFor(this.#chains, await this.#present())
        if (input) await iptablesRestore(input)
        this.#jumps = false
        this.#stale = false
      }
      return
    }
    const ports = this.#activePorts()
    // Adding the jumps: check what is there first, so they are never there twice.
    await iptablesRestore(rulesFor(this.#chains, nets, ports, this.#jumps ? undefined : await this.#present()))
    this.#jumps = true
    this.#stale = false
  }

  async #present(): Promise<Present> {
    return { filter: await iptablesSave('filter'), nat: await iptablesSave('nat') }
  }

  // ---- live connect / disconnect

  /** The container domain's connect and disconnect (they lock and record the container). */
  useContainerOps(ops: ContainerNetworkOps): void {
    this.#ops = ops
  }

  /** `docker network connect`: a container-domain operation; the network resolves first, as Docker does. */
  async connect(netRef: string, ctrRef: string, cfg: { aliases: string[]; ipv4Address: string; macAddress: string }): Promise<void> {
    const n = this.resolveNetwork(netRef)
    if (!this.#ops) throw notImplemented('ERR_NOT_IMPLEMENTED', 'network connect and disconnect: not supported by this berthd yet')
    await this.#ops.connect(ctrRef, n.id, cfg)
  }

  /** `docker network disconnect`: a container-domain operation (see `connect`). */
  async disconnect(netRef: string, ctrRef: string, force: boolean): Promise<void> {
    const n = this.resolveNetwork(netRef)
    if (!this.#ops) throw notImplemented('ERR_NOT_IMPLEMENTED', 'network connect and disconnect: not supported by this berthd yet')
    await this.#ops.disconnect(ctrRef, n.id, force)
  }

  /** Join a network (live when the container runs); returns its new networks to record. The caller holds the container's lock. */
  async connectEndpoint(rec: ContainerRecord, netRef: string, cfg: { aliases: string[]; ipv4Address: string; macAddress: string; links?: string[]; linkLocalIps?: string[]; driverOpts?: Record<string, string> }): Promise<EndpointChange> {
    const n = this.resolveNetwork(netRef)
    if (n.driver !== 'bridge' && n.driver !== 'overlay') throw new EngineError('Forbidden', 'ERR_CONNECT', `container cannot be disconnected from host network or connected to host network`)
    const mode = rec.hostConfig.networkMode
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) throw new EngineError('Forbidden', 'ERR_CONNECT', `container sharing network namespace with another container or host cannot be connected to any other network`)
    const current = this.#wanted(rec)
    if (current.some((w) => w.net.id === n.id) && (!running(rec) || this.#active.get(rec.id)?.endpoints.some((e) => e.networkId === n.id))) {
      throw new EngineError('Forbidden', 'ERR_ALREADY_CONNECTED', `endpoint with name ${rec.name} already exists in network ${n.name}`)
    }
    const probe = { ...rec, endpointsConfig: { ...(rec.endpointsConfig ?? {}), [n.name]: { aliases: cfg.aliases, ipv4Address: cfg.ipv4Address, ipv6Address: '', macAddress: cfg.macAddress, links: cfg.links ?? [], ...(cfg.linkLocalIps?.length ? { linkLocalIps: cfg.linkLocalIps } : {}), ...(cfg.driverOpts ? { driverOpts: cfg.driverOpts } : {}) } } }
    if (probe.network?.detached) probe.network = { ...probe.network, detached: probe.network.detached.filter((d) => d !== n.id) }
    await this.validate(probe)
    const st = this.#active.get(rec.id)
    let resolvConf: string | undefined
    if (running(rec) && st?.netns) {
      const w = this.#wanted(probe).find((x) => x.net.id === n.id)!
      const hadDns = !!this.#dnsEndpoint(st.endpoints)
      await this.#attach(rec, st, w, Math.max(-1, ...st.endpoints.map((e) => Number(e.ifname.slice(3)))) + 1)
      await this.#syncRules()
      if (!hadDns && this.#dnsEndpoint(st.endpoints)) {
        // Docker: a container that joins its first user network is served by the embedded DNS from then on.
        await this.#embeddedDns(st.netns, st.endpoints)
        resolvConf = await this.#resolvConf(rec, st.endpoints)
      }
    }
    return {
      ...(resolvConf !== undefined ? { resolvConf } : {}),
      endpointsConfig: probe.endpointsConfig,
      network: { ...(st ? { netns: st.netns, endpoints: st.endpoints, ports: st.ports } : { endpoints: rec.network?.endpoints ?? [], ports: rec.network?.ports ?? [] }), ...(probe.network?.detached?.length ? { detached: probe.network.detached } : {}) },
    }
  }

  /** Leave a network (live when the container runs); returns its new networks to record. The caller holds the container's lock. */
  async disconnectEndpoint(rec: ContainerRecord, netRef: string): Promise<EndpointChange> {
    const n = this.resolveNetwork(netRef)
    if (n.driver !== 'bridge' && n.driver !== 'overlay') throw new EngineError('Forbidden', 'ERR_CONNECT', `container cannot be disconnected from host network or connected to host network`)
    if (!this.#wanted(rec).some((w) => w.net.id === n.id)) throw new EngineError('Forbidden', 'ERR_NOT_CONNECTED', `container ${rec.id} is not connected to network ${n.name}`)
    const st = this.#active.get(rec.id)
    const ep = st?.endpoints.find((e) => e.networkId === n.id)
    if (st && ep) {
      if (st.endpoints[0] === ep && st.ports.length) throw notImplemented('ERR_DISCONNECT', 'disconnecting a container from the network its published ports use is not supported by this berthd')
      st.endpoints = st.endpoints.filter((e) => e !== ep)
      if (n.overlay) await this.#overlay.detach(n.overlay.vni, ep.hostVeth)
      else await ip(['link', 'del', ep.hostVeth])
      this.#event('disconnect', n, rec.id)
      await this.#maybeDropBridge(n.id)
      await this.#syncRules()
    }
    const epc = { ...(rec.endpointsConfig ?? {}) }
    for (const k of Object.keys(epc)) { try { if (this.resolveNetwork(k === 'default' ? 'bridge' : k).id === n.id) delete epc[k] } catch { delete epc[k] } }
    const detached = [...new Set([...(rec.network?.detached ?? []), n.id])]
    if (st) st.detached = detached
    return { endpointsConfig: epc, network: { ...(st ? { netns: st.netns, endpoints: st.endpoints, ports: st.ports } : { endpoints: [], ports: [] }), detached } }
  }

  // ---- DNS and /etc files

  #dnsResolve(client: string, name: string): string[] | undefined {
    let asker: (ContainerNetworkState & { upstreams: string[] }) | undefined
    let askerId = ''
    for (const [id, st] of this.#active) if (st.endpoints.some((e) => e.ip === client)) { asker = st; askerId = id; break }
    if (!asker) return undefined
    const nets = new Map(asker.endpoints.map((e) => [e.networkId, e.networkName.toLowerCase()]))
    const out: string[] = []
    // --link on a user network: the alias is a name for this container only.
    for (const l of this.#ctrs.get(askerId)?.hostConfig.links ?? []) {
      const [target = '', alias = target] = l.split(':')
      if (alias.toLowerCase() !== name) continue
      let tid = ''
      try { tid = this.#ctrs.resolve(target).id } catch { continue }
      for (const ep of this.#active.get(tid)?.endpoints ?? []) if (nets.has(ep.networkId)) out.push(ep.ip)
    }
    for (const st of this.#active.values()) {
      for (const ep of st.endpoints) {
        const netName = nets.get(ep.networkId)
        if (netName === undefined || ep.dnsNames.length === 0) continue
        if (ep.dnsNames.includes(name) || ep.dnsNames.some((d) => `${d}.${netName}` === name)) out.push(ep.ip)
      }
    }
    const swarmNets = asker.endpoints.filter((e) => this.#nets.get(e.networkId)?.overlay).map((e) => e.networkId)
    if (swarmNets.length && this.#swarmResolver) out.push(...(this.#swarmResolver(swarmNets, name) ?? []))
    return out.length ? [...new Set(out)] : undefined
  }

  #upstreams(client: string): string[] {
    for (const st of this.#active.values()) if (st.endpoints.some((e) => e.ip === client)) return st.upstreams
    return []
  }

  #upstreamsOf(rec: ContainerRecord): string[] {
    return rec.hostConfig.dns.length ? rec.hostConfig.dns : this.#hostNameservers
  }

  #hostNameservers: string[] = []

  #etcInput(rec: ContainerRecord): EtcInput {
    const def = [...this.#nets.values()].find((n) => n.isDefault)
    return { hostname: rec.config.hostname, domainname: rec.config.domainname, extraHosts: rec.hostConfig.extraHosts, ...(def?.gateway ? { hostGateway: def.gateway } : {}), dns: rec.hostConfig.dns, dnsSearch: rec.hostConfig.dnsSearch, dnsOptions: rec.hostConfig.dnsOptions }
  }

  /** A bridge endpoint's /etc/hosts: the defaults, --add-host, the links (default bridge) and its own address. */
  #hostsFile(rec: ContainerRecord, eps: EndpointState[]): string {
    const hc = rec.hostConfig
    const links: string[] = []
    if (eps[0] && this.#nets.get(eps[0].networkId)?.isDefault) {
      for (const l of hc.links) {
        const [name = '', alias] = l.replace(/^\//, '').split(':')
        const t = this.#ctrs.resolve(name)
        const tep = this.#active.get(t.id)?.endpoints.find((e) => e.networkId === eps[0]!.networkId)
        if (!running(t)) throw invalid('ERR_LINK', `Cannot link to a non running container: /${t.name} AS /${rec.name}/${(alias ?? t.name).replace(/^.*\//, '')}`)
        if (!tep) throw invalid('ERR_LINK', `Cannot link to /${t.name}, as it does not belong to the default network`)
        const al = (alias ?? t.name).replace(/^.*\//, '')
        links.push(`${tep.ip}\t${[al, t.id.slice(0, 12), t.name].filter((x, i, a) => a.indexOf(x) === i).join(' ')}`)
      }
    }
    return hostsFile(this.#etcInput(rec), { links, ...(eps[0] ? { ownIp: eps[0].ip } : {}) })
  }

  async #resolvConf(rec: ContainerRecord, eps: EndpointState[]): Promise<string> {
    const hc = rec.hostConfig
    const host = await hostResolvConf()
    this.#hostNameservers = nameserversOf(host).filter((x) => !x.includes(':'))
    const st = this.#active.get(rec.id)
    if (st) st.upstreams = hc.dns.length ? hc.dns : this.#hostNameservers
    return generatedResolvConf(host, hc, this.#dnsEndpoint(eps) ? { internalDns: EMBEDDED_DNS } : {})
  }

  /** The endpoint the embedded DNS is reached through: the first on a user network. */
  #dnsEndpoint(eps: EndpointState[]): EndpointState | undefined {
    return eps.find((e) => { const n = this.#nets.get(e.networkId); return !!n && !n.isDefault && (n.driver === 'bridge' || n.driver === 'overlay') })
  }

  /**
   * Docker's embedded DNS address 127.0.0.11 inside the container: DNAT to the DNS socket on the
   * network's gateway, the source rewritten to the endpoint's address (so the asker is known).
   * route_localnet on the interface lets the loopback-addressed packets in and out of it.
   */
  async #embeddedDns(netns: string | undefined, eps: EndpointState[]): Promise<void> {
    const ep = this.#dnsEndpoint(eps)
    if (!netns || !ep) return
    // On an overlay the DNS socket is on the host side of the network's host link (the gateway is in its namespace).
    const ov = this.#nets.get(ep.networkId)?.overlay
    const dnsAddr = ov ? this.#overlay.link(ov.vni).host : ep.gateway
    const input = [
      '*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]',
      `-A OUTPUT -d ${EMBEDDED_DNS}/32 -p udp --dport 53 -j DNAT --to-destination ${dnsAddr}:53`,
      `-A POSTROUTING -s 127.0.0.0/8 -d ${dnsAddr}/32 -p udp --dport 53 -j SNAT --to-source ${ep.ip}`,
      'COMMIT', '',
    ].join('\n')
    await netnsFirewall(netns, [`net.ipv4.conf.${ep.ifname}.route_localnet=1`], input)
  }
}

/** A stopped container's network state: no namespace, endpoints or ports; the disconnected networks stay. */
export function stoppedState(st: ContainerNetworkState): ContainerNetworkState {
  return { endpoints: [], ports: [], ...(st.detached?.length ? { detached: st.detached } : {}) }
}

export type { PortMapping }

import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Etcd3 } from 'etcd3'
import type { SwarmInfo, SwarmInitRequest, SwarmJoinRequest, SwarmLifecycle, SwarmUpdateFlags, SwarmView, LocalNodeState } from '../api/backend.js'
import { EngineError, errno } from '../lib/errors.js'
import { Agent, type AgentEngine } from './agent.js'
import {
  generateUnlockKey, isLockedMaterial, issueNodeCertificate, loadPki, newCaRecord, openWithUnlockKey, parseJoinToken,
  parseUnlockKey, roleForJoinToken, rotateJoinToken, sealWithUnlockKey, type NodeIdentity, type Pki,
} from './ca.js'
import type { OverlayNetworks, SwarmContext } from './context.js'
import { EtcdMember, etcdClient, type EtcdTls } from './etcd-member.js'
import { newId } from './ids.js'
import { fetchRemoteCa, JoinServer, NodeHandlers, nodeCall, requestJoin, splitHostPort, type JoinRequestBody, type JoinResponseBody, type NodeHandler } from './join-server.js'
import { Manager } from './manager.js'
import { ClusterStore, CA_KEY } from './store.js'
import { defaultSwarmSpec, type CaRecord, type Cluster, type Node, type NodeDescription, type NodeRole, type SwarmSpec } from './types.js'

/**
 * This berthd's membership of a swarm (dockerd's daemon/cluster): `swarm init|join|leave|update`,
 * autolock, and, on daemon start, rejoining the swarm recorded in <dataRoot>/swarm:
 * - `state.json`: node ID, cluster ID, role, addresses, the managers' etcd endpoints;
 * - `certificates/swarm-node.crt|key` (the key sealed under the unlock key with autolock) and
 *   `swarm-root-ca.crt`;
 * - a manager's etcd member (cluster/etcd-member.ts), a child process that outlives berthd.
 * A joined node serves the swarm port (join-server.ts), runs the Agent, and on managers the
 * Manager loop; other parts get a SwarmContext through `context()`.
 */

export const DEFAULT_SWARM_PORT = 2377
/** Node-to-node: a certificate for the caller's current role (after `node promote|demote`). */
export const RENEW_PATH = '/berth/renew'
export const DEFAULT_DATA_PATH_PORT = 4789
export const DEFAULT_ADDR_POOL = ['10.0.0.0/8']
export const DEFAULT_SUBNET_SIZE = 24

export const SWARM_EXISTS = 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.'
export const SWARM_LOCKED = 'Swarm is encrypted and locked. Please unlock it first or use `--force` to ignore this message.'
/** dockerd's errSwarmLocked: a locked manager's answer to manager requests, and Swarm.Error in /info. */
export const SWARM_LOCKED_INFO = 'Swarm is encrypted and locked. Please unlock it first.'
const LEAVE_MANAGER = 'You are attempting to leave the swarm on a node that is participating as a manager. '
const LEAVE_LAST = 'Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message. '
const LEAVE_TAIL = 'The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message.'

export interface SwarmNodeOptions {
  dataRoot: string
  execRoot: string
  /** Node description facts (hostname, resources, platform, engine). */
  description: () => NodeDescription
  /** The engine running task containers; without it the node keeps its heartbeat but runs nothing. */
  agentEngine?: AgentEngine
  overlay?: OverlayNetworks
  /** `swarm leave` removes this node's task containers, as dockerd does. */
  removeTaskContainers?: (nodeId: string) => Promise<void>
  /**
   * Called once after `swarm init` made the cluster (this node active, the manager): e.g. the
   * networks part creates the `ingress` network, as dockerd does at init. A failure is logged.
   */
  afterInit?: (ctx: SwarmContext) => Promise<void>
  /** Subnets of local bridge networks: never chosen as the advertise address. */
  localSubnets?: () => string[]
  /** For tests: the host's interfaces (default os.networkInterfaces()). */
  interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>
  log?: (msg: string) => void
}

/** What <dataRoot>/swarm/state.json holds. */
export interface NodeState {
  nodeId: string
  clusterId: string
  role: NodeRole
  /** host:port the swarm port listens on. */
  listenAddr: string
  advertiseAddr: string
  swarmPort: number
  dataPathAddr: string
  dataPathPort: number
  etcdEndpoints: string[]
}

interface Live {
  state: NodeState
  tls: EtcdTls
  client: Etcd3
  store: ClusterStore
  member?: EtcdMember
  manager?: Manager
  agent?: Agent
  server: JoinServer
  overlay?: { stop(): Promise<void> }
  ctx: SwarmContext
  caWatch?: { cancel(): Promise<void> }
  /** Follows this node's object (role changes) and, on the leader, the managers' status. */
  timer?: NodeJS.Timeout
}

function notInSwarm(): EngineError {
  return new EngineError('Unavailable', 'ERR_SWARM_NOT_IN_SWARM', 'This node is not part of a swarm')
}
function swarmExists(): EngineError {
  return new EngineError('Unavailable', 'ERR_SWARM_EXISTS', SWARM_EXISTS)
}
function notAManager(): EngineError {
  return new EngineError('Unavailable', 'ERR_SWARM_NOT_MANAGER', 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.')
}
function workerNotManager(): EngineError {
  return new EngineError('Unavailable', 'ERR_SWARM_WORKER', "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.")
}

export function etcdClientUrl(advertise: string, swarmPort: number): string {
  return `https://${hostForUrl(advertise)}:${swarmPort + 2}`
}
export function etcdPeerUrl(advertise: string, swarmPort: number): string {
  return `https://${hostForUrl(advertise)}:${swarmPort + 3}`
}
function hostForUrl(ip: string): string {
  return isIP(ip) === 6 ? `[${ip}]` : ip
}
function joinHostPort(ip: string, port: number): string {
  return `${hostForUrl(ip)}:${port}`
}

// ---- advertise address, as dockerd chooses it --------------------------------------------------

function badAdvertise(): EngineError {
  return new EngineError('InvalidArgument', 'ERR_SWARM_ADVERTISE_ADDR', 'advertise address must be a non-zero IP address or network interface (with optional port number)')
}

function inSubnet(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/')
  if (isIP(ip) !== 4 || isIP(net ?? '') !== 4) return false
  const n = Number(bits)
  const toInt = (s: string) => s.split('.').reduce((a, b) => (a << 8) + Number(b), 0) >>> 0
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0
  return (toInt(ip) & mask) === (toInt(net!) & mask)
}

/** The one IPv4 address of an interface, in Docker's words when there is none or several. */
function interfaceAddr(name: string, ifs: NodeJS.Dict<NetworkInterfaceInfo[]>): string | undefined {
  const list = ifs[name]
  if (!list) return undefined
  const v4 = list.filter((a) => a.family === 'IPv4' && !a.address.startsWith('169.254.'))
  if (v4.length > 1) throw new EngineError('InvalidArgument', 'ERR_SWARM_ADVERTISE_ADDR', `interface ${name} has more than one IPv4 address (${v4[0]!.address} and ${v4[1]!.address})`)
  if (v4.length === 1) return v4[0]!.address
  const v6 = list.filter((a) => a.family === 'IPv6' && !a.address.toLowerCase().startsWith('fe80'))
  if (v6.length > 1) throw new EngineError('InvalidArgument', 'ERR_SWARM_ADVERTISE_ADDR', `interface ${name} has more than one IPv6 address (${v6[0]!.address} and ${v6[1]!.address})`)
  if (v6.length === 1) return v6[0]!.address
  throw new EngineError('InvalidArgument', 'ERR_SWARM_ADVERTISE_ADDR', `interface ${name} has no usable IPv4 or IPv6 address`)
}

/**
 * The address to advertise (IP) and, when `spec` named one, the port: an IP, an interface name,
 * either with `:port`; else a specific listen address; else the system's only non-loopback IPv4
 * address outside local bridge networks (dockerd's resolveSystemAddr), or Docker's error.
 */
export function chooseAdvertiseAddr(
  spec: string | undefined,
  listenHost: string,
  ifs: NodeJS.Dict<NetworkInterfaceInfo[]>,
  excludeSubnets: string[] = [],
): { ip: string; port?: number } {
  if (spec) {
    let host = spec
    let port: number | undefined
    if (!isIP(spec)) {
      const hp = splitHostPort(spec, 0)
      host = hp.host
      if (hp.port) port = hp.port
    }
    if (isIP(host)) {
      if (host === '0.0.0.0' || host === '::') throw badAdvertise()
      return { ip: host, ...(port ? { port } : {}) }
    }
    const ip = interfaceAddr(host, ifs)
    if (!ip) throw badAdvertise()
    return { ip, ...(port ? { port } : {}) }
  }
  if (listenHost && isIP(listenHost) && listenHost !== '0.0.0.0' && listenHost !== '::') return { ip: listenHost }
  if (listenHost && !isIP(listenHost)) {
    const ip = interfaceAddr(listenHost, ifs)
    if (ip) return { ip }
  }
  const found: { ip: string; iface: string }[] = []
  for (const [name, list] of Object.entries(ifs)) {
    for (const a of list ?? []) {
      if (a.internal || a.family !== 'IPv4' || a.address.startsWith('169.254.')) continue
      if (excludeSubnets.some((s) => inSubnet(a.address, s))) continue
      found.push({ ip: a.address, iface: name })
    }
  }
  if (found.length === 0) throw new EngineError('InvalidArgument', 'ERR_SWARM_ADVERTISE_ADDR', "could not find the system's IP address - specify one with --advertise-addr")
  if (found.length > 1) {
    const [a, b] = [found[0]!, found[1]!]
    if (a.iface === b.iface) {
      throw new EngineError('InvalidArgument', 'ERR_SWARM_ADVERTISE_ADDR', `could not choose an IP address to advertise since this system has multiple addresses on interface ${a.iface} (${a.ip} and ${b.ip})`)
    }
    throw new EngineError('InvalidArgument', 'ERR_SWARM_ADVERTISE_ADDR', `could not choose an IP address to advertise since this system has multiple addresses on different interfaces (${a.ip} on ${a.iface} and ${b.ip} on ${b.iface})`)
  }
  return { ip: found[0]!.ip }
}

/** The swarm spec of `swarm init` or `update`: Docker's defaults under the given sections. */
export function mergeSwarmSpec(base: SwarmSpec, over: Partial<SwarmSpec> | undefined): SwarmSpec {
  const out = structuredClone(base)
  if (!over) return out
  for (const [k, v] of Object.entries(over) as [keyof SwarmSpec, unknown][]) {
    if (v === undefined) continue
    if (v && typeof v === 'object' && !Array.isArray(v) && k !== 'labels' && k !== 'taskDefaults') {
      ;(out as unknown as Record<string, unknown>)[k] = { ...(out[k] as object), ...Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) }
    } else {
      ;(out as unknown as Record<string, unknown>)[k] = v
    }
  }
  return out
}

function parseListenAddr(addr: string | undefined): { host: string; port: number } {
  const a = addr?.trim() || `0.0.0.0:${DEFAULT_SWARM_PORT}`
  const hp = splitHostPort(a, DEFAULT_SWARM_PORT)
  if (!Number.isInteger(hp.port) || hp.port <= 0 || hp.port > 65535) throw new EngineError('InvalidArgument', 'ERR_SWARM_LISTEN_ADDR', `invalid listen address ${a}`)
  return hp
}

// ---- the node ---------------------------------------------------------------------------------

export class SwarmNode implements SwarmLifecycle {
  readonly handlers = new NodeHandlers()
  #live: Live | undefined
  #localState: LocalNodeState = 'inactive'
  #error = ''
  /** The state of a locked (or failed) node, kept to show its IDs and to unlock. */
  #pendingState: NodeState | undefined
  #busy: Promise<unknown> = Promise.resolve()
  #stopped = false
  #retry: NodeJS.Timeout | undefined
  #pki: Pki | undefined

  constructor(private readonly o: SwarmNodeOptions) {
    this.handlers.mount(RENEW_PATH, (req, res, peer) => this.#onRenew(req, res, peer))
  }

  get #dir(): string {
    return join(this.o.dataRoot, 'swarm')
  }

  #log(m: string): void {
    this.o.log?.(`swarm: ${m}`)
  }

  async #getPki(): Promise<Pki> {
    this.#pki ??= await loadPki()
    return this.#pki
  }

  /** Serialise lifecycle operations (init, join, leave, unlock, restart). */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#busy.then(fn, fn)
    this.#busy = next.catch(() => undefined)
    return next
  }

  /** Handlers other parts serve on the swarm port (e.g. node logs); only callers with a swarm certificate reach them. */
  mount(prefix: string, handler: NodeHandler): void {
    this.handlers.mount(prefix, handler)
  }

  /** The joined node's context for the other parts, undefined outside a swarm or while locked. */
  context(): SwarmContext | undefined {
    return this.#live?.ctx
  }

  // ---- daemon start / stop ----

  /** Daemon start: rejoin the swarm recorded in the data root (in the background; a locked node waits for unlock). */
  async start(): Promise<void> {
    this.#stopped = false
    const state = await this.#loadState()
    if (!state) return
    this.#pendingState = state
    const key = await readFile(join(this.#dir, 'certificates', 'swarm-node.key'), 'utf8').catch(() => '')
    if (isLockedMaterial(key)) {
      this.#localState = 'locked'
      this.#log('this node is locked: waiting for "docker swarm unlock"')
      return
    }
    this.#localState = 'pending'
    this.#resumeSoon(key, 0)
  }

  #resumeSoon(keyPem: string, delayMs: number): void {
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      void this.#exclusive(async () => {
        if (this.#stopped || this.#live || !this.#pendingState) return
        try {
          await this.#resume(this.#pendingState, keyPem)
        } catch (err) {
          this.#error = (err as Error).message
          this.#localState = 'pending'
          this.#log(`could not rejoin the swarm (retrying): ${this.#error}`)
          if (!this.#stopped) this.#resumeSoon(keyPem, 2000)
        }
      })
    }, delayMs)
  }

  /** Daemon shutdown: stop the loops and the swarm port; a manager's etcd keeps running for the next berthd to adopt. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#retry) clearTimeout(this.#retry)
    await this.#exclusive(async () => {
      const live = this.#live
      this.#live = undefined
      if (!live) return
      await this.#deactivate(live, { revoke: false })
      live.member?.close()
    })
  }

  async #resume(state: NodeState, keyPem: string): Promise<void> {
    const certs = join(this.#dir, 'certificates')
    const [certPem, caPem] = await Promise.all([readFile(join(certs, 'swarm-node.crt'), 'utf8'), readFile(join(certs, 'swarm-root-ca.crt'), 'utf8')])
    const tls: EtcdTls = { certPem, keyPem, caPem }
    let member: EtcdMember | undefined
    if (state.role === 'manager') member = await EtcdMember.restart(this.o.dataRoot, { tls, timeoutMs: 20_000 })
    try {
      await this.#activate(state, tls, member)
    } catch (err) {
      member?.close()
      throw err
    }
    // Refresh what this node tells the swarm about itself (engine version, resources, address).
    await this.#live!.store.modify('nodes', state.nodeId, (n) => ({ ...n, description: { ...this.o.description(), ...(n.description.tlsInfo ? { tlsInfo: n.description.tlsInfo } : {}) }, status: { ...n.status, addr: state.advertiseAddr, dataPathAddr: state.dataPathAddr || state.advertiseAddr } })).catch((err: Error) => this.#log(`node update: ${err.message}`))
    this.#log(`rejoined swarm ${state.clusterId} as ${state.role} ${state.nodeId}`)
  }

  async #activate(state: NodeState, tls: EtcdTls, member?: EtcdMember): Promise<void> {
    const client = member?.client ?? etcdClient(state.etcdEndpoints, tls)
    const store = new ClusterStore(client)
    const server = new JoinServer({
      tls,
      handlers: this.handlers,
      ...(state.role === 'manager' ? { onJoin: (b: JoinRequestBody, remote: string) => this.#onJoin(b, remote) } : {}),
      log: (m) => this.#log(m),
    })
    const listen = splitHostPort(state.listenAddr, DEFAULT_SWARM_PORT)
    await server.listen(listen.host, listen.port)
    const ctx: SwarmContext = {
      nodeId: state.nodeId,
      role: state.role,
      store,
      advertiseAddr: state.advertiseAddr,
      swarmAddr: joinHostPort(state.advertiseAddr, state.swarmPort),
      dataPathAddr: state.dataPathAddr || state.advertiseAddr,
      dataPathPort: state.dataPathPort,
      tls: { certPem: tls.certPem, keyPem: tls.keyPem, caPem: tls.caPem },
    }
    const live: Live = { state, tls, client, store, server, ctx, ...(member ? { member } : {}) }
    try {
      // Workers learn the current managers' endpoints (a manager may have joined since).
      if (!member) {
        const list = await client.cluster.memberList({})
        const eps = list.members.flatMap((m) => m.clientURLs)
        if (eps.length && eps.join(',') !== state.etcdEndpoints.join(',')) {
          state.etcdEndpoints = eps
          await this.#saveState(state)
        }
      }
      if (state.role === 'manager') {
        live.manager = new Manager({ nodeId: state.nodeId, store, log: (m) => this.#log(m) })
        live.manager.start()
      }
      // The overlay follows cluster state before the agent creates task containers on its networks.
      if (this.o.overlay) live.overlay = await this.o.overlay.start(ctx)
      live.agent = new Agent({ nodeId: state.nodeId, store, engine: this.o.agentEngine ?? NO_TASKS_ENGINE, log: (m) => this.#log(m) })
      await live.agent.start()
      if (state.role === 'manager') live.caWatch = await this.#watchCa(live)
      live.timer = setInterval(() => void this.#tick(live), 1000)
      live.timer.unref()
    } catch (err) {
      await this.#deactivate(live, { revoke: false })
      if (!member) client.close()
      throw err
    }
    this.#live = live
    this.#pendingState = undefined
    this.#localState = 'active'
    this.#error = ''
  }

  async #deactivate(live: Live, o: { revoke: boolean }): Promise<void> {
    const step = async (what: string, fn: () => Promise<unknown> | undefined) => {
      try {
        await fn()
      } catch (err) {
        this.#log(`${what}: ${(err as Error).message}`)
      }
    }
    if (live.timer) clearInterval(live.timer)
    await step('ca watch', () => live.caWatch?.cancel())
    await step('overlay', () => live.overlay?.stop())
    await step('agent', () => live.agent?.stop({ revoke: o.revoke }))
    await step('manager', () => live.manager?.stop())
    await step('swarm port', () => live.server.close())
    if (!live.member) live.client.close()
  }

  #ticking = false
  #ticks = 0

  async #tick(live: Live): Promise<void> {
    if (this.#ticking || this.#live !== live) return
    this.#ticking = true
    try {
      const me = await live.store.find('nodes', live.state.nodeId)
      if (me && me.spec.role !== live.state.role && this.#live === live) {
        await this.#exclusive(() => this.#changeRole(live, me.spec.role))
        return
      }
      if (live.manager?.isLeader) await this.#syncManagerStatus(live)
      // Workers remember the managers' current etcd endpoints for their next start (a manager
      // that joined later, or the first one gone).
      if (!live.member && ++this.#ticks % 30 === 0) {
        const eps = (await live.client.cluster.memberList({})).members.flatMap((m) => m.clientURLs).sort()
        if (eps.length && eps.join(',') !== [...live.state.etcdEndpoints].sort().join(',')) {
          live.state.etcdEndpoints = eps
          await this.#saveState(live.state)
        }
      }
    } catch (err) {
      this.#log(`node status: ${(err as Error).message}`)
    } finally {
      this.#ticking = false
    }
  }

  /** The leader keeps every manager's Leader flag and reachability current (`docker node ls`'s MANAGER STATUS). */
  async #syncManagerStatus(live: Live): Promise<void> {
    for (const n of await live.store.list('nodes')) {
      if (n.spec.role !== 'manager' || !n.managerStatus) continue
      const leader = n.id === live.state.nodeId
      const reachability = n.status.state === 'down' ? 'unreachable' : 'reachable'
      if (n.managerStatus.leader === leader && n.managerStatus.reachability === reachability) continue
      await live.store.modify('nodes', n.id, (cur) => (cur.managerStatus ? { ...cur, managerStatus: { ...cur.managerStatus, leader, reachability } } : undefined))
    }
  }

  /**
   * `node promote` / `node demote` reached this node (its object's spec.role changed): get a
   * certificate for the new role from a manager (POST /berth/renew with this node's current
   * certificate), then join the etcd cluster as a member (promote) or leave it (demote), and
   * restart the loops in the new role.
   */
  async #changeRole(live: Live, role: NodeRole): Promise<void> {
    if (this.#live !== live) return
    this.#log(`role changed to ${role}: renewing the node certificate`)
    const pki = await this.#getPki()
    const csr = await pki.createCsr({ commonName: 'swarm-renew' })
    const nodes = await live.store.list('nodes')
    const managers = nodes.filter((n) => n.spec.role === 'manager' && n.id !== live.state.nodeId && n.status.state !== 'down' && n.managerStatus?.addr)
    let certPem: string | undefined
    let lastErr: unknown
    for (const m of managers) {
      try {
        const r = await nodeCall(m.managerStatus!.addr, live.tls, 'POST', RENEW_PATH, { csrPem: csr.csrPem })
        if (r.status !== 200) throw new Error(`status ${r.status}: ${r.body.toString()}`)
        certPem = (JSON.parse(r.body.toString()) as { certPem: string }).certPem
        break
      } catch (err) {
        lastErr = err
      }
    }
    if (!certPem) throw new EngineError('Unavailable', 'ERR_SWARM_RENEW', `could not renew the node certificate: ${(lastErr as Error)?.message ?? 'no other manager'}`)
    const tls: EtcdTls = { certPem, keyPem: csr.keyPem, caPem: live.tls.caPem }
    const state: NodeState = { ...live.state, role }
    let member: EtcdMember | undefined
    const others = role === 'worker' ? (await live.member?.members() ?? []).filter((m) => m.id !== live.member?.id).flatMap((m) => m.clientUrls) : []
    if (role === 'worker' && others.length === 0) throw new EngineError('Conflict', 'ERR_SWARM_LAST_MANAGER', 'attempting to demote the last manager of the swarm')
    try {
      if (role === 'manager') {
        const eps = (await live.client.cluster.memberList({})).members.flatMap((m) => m.clientURLs)
        this.#live = undefined
        this.#pendingState = live.state
        this.#localState = 'pending'
        await this.#deactivate(live, { revoke: false })
        member = await EtcdMember.join(this.o.dataRoot, { name: state.nodeId, clientUrl: etcdClientUrl(state.advertiseAddr, state.swarmPort), peerUrl: etcdPeerUrl(state.advertiseAddr, state.swarmPort) }, eps, { tls, timeoutMs: 30_000 })
        state.etcdEndpoints = [...new Set([member.config.clientUrl, ...eps])]
        const joined = member
        await new ClusterStore(member.client).modify('nodes', state.nodeId, (n) => ({ ...n, managerStatus: { leader: false, reachability: 'reachable', addr: joinHostPort(state.advertiseAddr, state.swarmPort), etcdMemberId: joined.id } }))
      } else {
        await live.store.modify('nodes', state.nodeId, (n) => {
          const { managerStatus: _m, ...rest } = n
          return rest
        })
        this.#live = undefined
        this.#pendingState = live.state
        this.#localState = 'pending'
        await this.#deactivate(live, { revoke: false })
        if (live.member) await live.member.leave()
        state.etcdEndpoints = others
      }
      const ca = role === 'manager' ? await new ClusterStore(member!.client).getCa() : undefined
      await this.#saveCerts(tls, ca?.unlockKey)
      await this.#saveState(state)
      await this.#activate(state, tls, member)
    } catch (err) {
      // Carry on in the old role (the next tick tries again) rather than drop out of the swarm.
      this.#log(`role change to ${role} failed: ${(err as Error).message}`)
      if (!this.#live && role === 'manager') {
        if (member) member.close()
        await this.#activate(live.state, live.tls)
      } else if (!this.#live) {
        this.#pendingState = state
        this.#localState = 'pending'
        this.#resumeSoon(tls.keyPem, 2000)
      }
      throw err
    }
    this.#log(`now a ${role}`)
  }

  /** POST /berth/renew on a manager: a certificate for the caller's current role (from its node object). */
  async #onRenew(req: IncomingMessage, res: ServerResponse, peer: NodeIdentity): Promise<void> {
    const live = this.#live
    if (!live || live.state.role !== 'manager') throw workerNotManager()
    const chunks: Buffer[] = []
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c)
    const { csrPem } = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { csrPem?: string }
    if (!csrPem) throw new EngineError('InvalidArgument', 'ERR_SWARM_RENEW', 'renew request needs a CSR')
    const n = await live.store.get('nodes', peer.nodeId)
    const ca = await live.store.getCa()
    if (!ca || peer.clusterId !== live.state.clusterId) throw new EngineError('Unauthorized', 'ERR_SWARM_CERT_IDENTITY', 'certificate does not name a swarm node')
    const issued = await issueNodeCertificate(await this.#getPki(), ca, { nodeId: n.id, role: n.spec.role, clusterId: live.state.clusterId }, { csrPem, extraAltNames: [n.status.addr] })
    const body = JSON.stringify({ certPem: issued.certPem })
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })
    res.end(body)
  }

  /** Managers re-seal their key when the unlock key changes (autolock turned on, off, or rotated). */
  async #watchCa(live: Live): Promise<{ cancel(): Promise<void> }> {
    const w = await live.client.watch().key(CA_KEY).create()
    w.on('data', (res) => {
      for (const e of res.events) {
        if (e.type !== 'Put') continue
        const ca = JSON.parse(e.kv.value.toString()) as CaRecord
        void this.#writeKey(live.tls.keyPem, ca.unlockKey).catch((err: Error) => this.#log(`re-sealing the node key: ${err.message}`))
      }
    })
    return { cancel: () => w.cancel() }
  }

  // ---- state files ----

  async #loadState(): Promise<NodeState | undefined> {
    try {
      return JSON.parse(await readFile(join(this.#dir, 'state.json'), 'utf8')) as NodeState
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined
      throw err
    }
  }

  async #saveState(s: NodeState): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 })
    const p = join(this.#dir, 'state.json')
    await writeFile(`${p}.tmp`, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 })
    await rename(`${p}.tmp`, p)
  }

  async #saveCerts(tls: EtcdTls, unlockKey: string | undefined): Promise<void> {
    const dir = join(this.#dir, 'certificates')
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await writeFile(join(dir, 'swarm-node.crt'), tls.certPem, { mode: 0o644 })
    await writeFile(join(dir, 'swarm-root-ca.crt'), tls.caPem, { mode: 0o644 })
    await this.#writeKey(tls.keyPem, unlockKey)
  }

  #keyWrites: Promise<unknown> = Promise.resolve()

  /** Write the node key, sealed under the unlock key when there is one (writes in order). */
  #writeKey(keyPem: string, unlockKey: string | undefined): Promise<void> {
    const p = join(this.#dir, 'certificates', 'swarm-node.key')
    const write = async () => {
      const tmp = `${p}.${process.pid}.tmp`
      await writeFile(tmp, unlockKey ? sealWithUnlockKey(unlockKey, keyPem) : keyPem, { mode: 0o600 })
      await rename(tmp, p)
    }
    const next = this.#keyWrites.then(write, write)
    this.#keyWrites = next.catch(() => undefined)
    return next
  }

  #inSwarm(): boolean {
    return !!this.#live || !!this.#pendingState
  }

  #requireManager(): Live {
    const live = this.#live
    if (!live) {
      if (this.#localState === 'locked') throw new EngineError('Unavailable', 'ERR_SWARM_LOCKED', SWARM_LOCKED_INFO)
      throw notAManager()
    }
    if (live.state.role !== 'manager') throw workerNotManager()
    return live
  }

  /** The `Swarm` header of /_ping, as dockerd sends it. */
  pingStatus(): string {
    const live = this.#live
    if (live) return `active/${live.state.role}`
    return this.#localState
  }

  // ---- SwarmLifecycle ----

  async info(): Promise<SwarmInfo> {
    const live = this.#live
    if (!live) {
      const s = this.#pendingState
      return {
        nodeId: this.#localState === 'locked' ? '' : s?.nodeId ?? '',
        nodeAddr: s?.advertiseAddr ?? '',
        localNodeState: this.#localState,
        controlAvailable: false,
        error: this.#localState === 'locked' ? SWARM_LOCKED_INFO : this.#error,
        remoteManagers: [],
      }
    }
    const base: SwarmInfo = {
      nodeId: live.state.nodeId,
      nodeAddr: live.state.advertiseAddr,
      localNodeState: 'active',
      controlAvailable: live.state.role === 'manager',
      error: '',
      remoteManagers: [],
    }
    try {
      const nodes = await withTimeout(live.store.list('nodes'), 3000)
      const managers = nodes.filter((n) => n.spec.role === 'manager')
      base.remoteManagers = managers.map((n) => ({ nodeId: n.id, addr: n.managerStatus?.addr ?? joinHostPort(n.status.addr, live.state.swarmPort) }))
      if (live.state.role === 'manager') {
        base.nodes = nodes.length
        base.managers = managers.length
        const cluster = await withTimeout(live.store.getCluster(), 3000)
        if (cluster) base.cluster = cluster
      }
    } catch (err) {
      base.error = (err as Error).message
    }
    return base
  }

  async inspect(): Promise<SwarmView> {
    const live = this.#requireManager()
    const [cluster, ca] = await Promise.all([live.store.getCluster(), live.store.getCa()])
    if (!cluster || !ca) throw notAManager()
    return { cluster, joinTokens: { ...ca.joinTokens } }
  }

  init(req: SwarmInitRequest): Promise<string> {
    return this.#exclusive(async () => {
      if (this.#inSwarm()) throw swarmExists()
      if (req.forceNewCluster) throw new EngineError('NotImplemented', 'ERR_SWARM_FORCE_NEW_CLUSTER', '--force-new-cluster is not supported by this berthd yet')
      const listen = parseListenAddr(req.listenAddr)
      const adv = chooseAdvertiseAddr(req.advertiseAddr, listen.host, (this.o.interfaces ?? networkInterfaces)(), this.o.localSubnets?.() ?? [])
      const swarmPort = adv.port ?? listen.port
      const dataPathAddr = req.dataPathAddr ? chooseAdvertiseAddr(req.dataPathAddr, '', (this.o.interfaces ?? networkInterfaces)()).ip : ''
      const spec = mergeSwarmSpec(defaultSwarmSpec(), req.spec)
      const pki = await this.#getPki()
      const nodeId = newId()
      const clusterId = newId()
      const ca = await newCaRecord(pki, { autolock: spec.encryptionConfig.autoLockManagers })
      const issued = await issueNodeCertificate(pki, ca, { nodeId, role: 'manager', clusterId }, { extraAltNames: [adv.ip] })
      const tls: EtcdTls = { certPem: issued.certPem, keyPem: issued.keyPem!, caPem: ca.rootCertPem }
      const state: NodeState = {
        nodeId, clusterId, role: 'manager',
        listenAddr: joinHostPort(listen.host, listen.port),
        advertiseAddr: adv.ip, swarmPort, dataPathAddr,
        dataPathPort: req.dataPathPort || DEFAULT_DATA_PATH_PORT,
        etcdEndpoints: [etcdClientUrl(adv.ip, swarmPort)],
      }
      await rm(this.#dir, { recursive: true, force: true })
      const member = await EtcdMember.init(this.o.dataRoot, { name: nodeId, clientUrl: etcdClientUrl(adv.ip, swarmPort), peerUrl: etcdPeerUrl(adv.ip, swarmPort) }, { tls, timeoutMs: 20_000 })
      try {
        const store = new ClusterStore(member.client)
        const now = new Date().toISOString()
        await store.putCa(ca, 0)
        const cluster: Cluster = {
          id: clusterId, version: { index: 0 }, createdAt: now, updatedAt: now, spec,
          rootRotationInProgress: false,
          dataPathPort: state.dataPathPort,
          defaultAddrPool: req.defaultAddrPool?.length ? req.defaultAddrPool : DEFAULT_ADDR_POOL,
          subnetSize: req.subnetSize || DEFAULT_SUBNET_SIZE,
        }
        await store.putCluster(cluster, 0)
        await store.create('nodes', this.#nodeObject(state, req.availability, { leader: true, etcdMemberId: member.id }))
        await this.#saveCerts(tls, ca.unlockKey)
        await this.#saveState(state)
        await this.#activate(state, tls, member)
      } catch (err) {
        await member.leave().catch(() => undefined)
        await rm(this.#dir, { recursive: true, force: true })
        throw err
      }
      this.#log(`initialised swarm ${clusterId}: node ${nodeId} advertising ${adv.ip}:${swarmPort}`)
      if (this.o.afterInit && this.#live) await this.o.afterInit(this.#live.ctx).catch((err: Error) => this.#log(`after init: ${err.message}`))
      return nodeId
    })
  }

  #nodeObject(s: NodeState, availability: SwarmInitRequest['availability'], mgr?: { leader: boolean; etcdMemberId?: string }): Node {
    const now = new Date().toISOString()
    return {
      id: s.nodeId,
      version: { index: 0 },
      createdAt: now,
      updatedAt: now,
      spec: { labels: {}, role: s.role, availability: availability ?? 'active' },
      description: this.o.description(),
      status: { state: 'unknown', addr: s.advertiseAddr, dataPathAddr: s.dataPathAddr || s.advertiseAddr },
      ...(mgr ? { managerStatus: { leader: mgr.leader, reachability: 'reachable' as const, addr: joinHostPort(s.advertiseAddr, s.swarmPort), ...(mgr.etcdMemberId ? { etcdMemberId: mgr.etcdMemberId } : {}) } } : {}),
    }
  }

  /** A manager answering POST /berth/join. */
  async #onJoin(b: JoinRequestBody, remoteAddr: string): Promise<JoinResponseBody> {
    const live = this.#live
    if (!live || live.state.role !== 'manager') throw workerNotManager()
    const ca = await live.store.getCa()
    if (!ca) throw notAManager()
    const role = roleForJoinToken(ca, b.token)
    const advertise = b.advertiseAddr || remoteAddr.replace(/^::ffff:/, '')
    if (!isIP(advertise)) throw badAdvertise()
    const pki = await this.#getPki()
    const nodeId = newId()
    const id: NodeIdentity = { nodeId, role, clusterId: live.state.clusterId }
    const issued = await issueNodeCertificate(pki, ca, id, { csrPem: b.csrPem, extraAltNames: [advertise] })
    const swarmPort = b.swarmPort || DEFAULT_SWARM_PORT
    const state: NodeState = { nodeId, clusterId: live.state.clusterId, role, listenAddr: '', advertiseAddr: advertise, swarmPort, dataPathAddr: b.dataPathAddr ?? '', dataPathPort: live.state.dataPathPort, etcdEndpoints: [] }
    const node = this.#nodeObject(state, b.availability, role === 'manager' ? { leader: false } : undefined)
    node.description = { ...b.description }
    await live.store.create('nodes', node)
    const nodes = await live.store.list('nodes')
    const members = live.member ? await live.member.members() : []
    return {
      nodeId,
      clusterId: live.state.clusterId,
      role,
      certPem: issued.certPem,
      caPem: ca.rootCertPem,
      etcdEndpoints: members.flatMap((m) => m.clientUrls),
      managers: nodes.filter((n) => n.spec.role === 'manager' && n.id !== nodeId).map((n) => ({ nodeId: n.id, addr: n.managerStatus?.addr ?? '' })),
    }
  }

  join(req: SwarmJoinRequest): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#inSwarm()) throw swarmExists()
      const token = parseJoinToken(req.joinToken)
      if (!req.remoteAddrs.length) throw new EngineError('InvalidArgument', 'ERR_SWARM_JOIN_REMOTE', 'at least 1 RemoteAddr is required to join')
      const listen = parseListenAddr(req.listenAddr)
      const pki = await this.#getPki()
      let lastErr: unknown
      for (const remote of req.remoteAddrs) {
        let caPem: string
        let localAddress: string
        try {
          ;({ caPem, localAddress } = await fetchRemoteCa(remote, token.caDigest))
        } catch (err) {
          lastErr = err
          if (err instanceof EngineError && err.code === 'ERR_SWARM_CA_MISMATCH') throw err
          continue
        }
        const adv = req.advertiseAddr
          ? chooseAdvertiseAddr(req.advertiseAddr, listen.host, (this.o.interfaces ?? networkInterfaces)(), this.o.localSubnets?.() ?? [])
          : listen.host && listen.host !== '0.0.0.0' && listen.host !== '::' && isIP(listen.host) ? { ip: listen.host } : { ip: localAddress }
        const swarmPort = adv.port ?? listen.port
        const csr = await pki.createCsr({ commonName: 'swarm-join' })
        this.#localState = 'pending'
        let resp: JoinResponseBody
        try {
          resp = await requestJoin(remote, caPem, {
            token: req.joinToken.trim(), csrPem: csr.csrPem, advertiseAddr: adv.ip, swarmPort,
            ...(req.dataPathAddr ? { dataPathAddr: req.dataPathAddr } : {}),
            description: this.o.description(),
            ...(req.availability ? { availability: req.availability } : {}),
          })
        } catch (err) {
          this.#localState = 'inactive'
          throw err
        }
        const tls: EtcdTls = { certPem: resp.certPem, keyPem: csr.keyPem, caPem: resp.caPem }
        const state: NodeState = {
          nodeId: resp.nodeId, clusterId: resp.clusterId, role: resp.role,
          listenAddr: joinHostPort(listen.host, listen.port),
          advertiseAddr: adv.ip, swarmPort, dataPathAddr: req.dataPathAddr ?? '',
          dataPathPort: DEFAULT_DATA_PATH_PORT,
          etcdEndpoints: resp.etcdEndpoints,
        }
        await rm(this.#dir, { recursive: true, force: true })
        let member: EtcdMember | undefined
        try {
          if (resp.role === 'manager') {
            member = await EtcdMember.join(this.o.dataRoot, { name: resp.nodeId, clientUrl: etcdClientUrl(adv.ip, swarmPort), peerUrl: etcdPeerUrl(adv.ip, swarmPort) }, resp.etcdEndpoints, { tls, timeoutMs: 30_000 })
            state.etcdEndpoints = [...new Set([member.config.clientUrl, ...resp.etcdEndpoints])]
          }
          const store = new ClusterStore(member?.client ?? etcdClient(resp.etcdEndpoints, tls))
          const cluster = await store.getCluster()
          if (cluster) state.dataPathPort = cluster.dataPathPort
          const ca = resp.role === 'manager' ? await store.getCa() : undefined
          if (member) await store.modify('nodes', resp.nodeId, (n) => ({ ...n, managerStatus: { ...(n.managerStatus ?? { leader: false, reachability: 'reachable', addr: joinHostPort(adv.ip, swarmPort) }), etcdMemberId: member!.id } }))
          if (!member) store.client.close()
          await this.#saveCerts(tls, ca?.unlockKey)
          await this.#saveState(state)
          await this.#activate(state, tls, member)
        } catch (err) {
          this.#localState = 'inactive'
          if (member) await member.leave().catch(() => undefined)
          await rm(this.#dir, { recursive: true, force: true })
          throw err
        }
        this.#log(`joined swarm ${resp.clusterId} as ${resp.role} ${resp.nodeId} (advertising ${adv.ip}:${swarmPort})`)
        return
      }
      throw new EngineError('Unavailable', 'ERR_SWARM_JOIN_UNREACHABLE', (lastErr as Error)?.message ?? 'could not reach any manager', { cause: lastErr })
    })
  }

  leave(force: boolean): Promise<void> {
    return this.#exclusive(async () => {
      const live = this.#live
      if (!live && !this.#pendingState) throw notInSwarm()
      if (!live && this.#localState === 'locked' && !force) throw new EngineError('Unavailable', 'ERR_SWARM_LOCKED', SWARM_LOCKED)
      const role = live?.state.role ?? this.#pendingState?.role
      if (role === 'manager' && !force) {
        let msg = LEAVE_MANAGER
        if (live) {
          const nodes = await live.store.list('nodes').catch(() => undefined)
          if (nodes) {
            const managers = nodes.filter((n) => n.spec.role === 'manager')
            const reachable = managers.filter((n) => n.status.state !== 'down').length
            const unreachable = managers.length - reachable
            if (reachable - 2 <= unreachable) {
              if (reachable === 1 && unreachable === 0) throw new EngineError('Unavailable', 'ERR_SWARM_LEAVE_MANAGER', msg + LEAVE_LAST)
              msg += `Removing this node leaves ${reachable - 1} managers out of ${reachable + unreachable}. Without a Raft quorum your swarm will be inaccessible. `
            }
          }
        } else {
          msg += 'Doing so may lose the consensus of your cluster. '
        }
        throw new EngineError('Unavailable', 'ERR_SWARM_LEAVE_MANAGER', msg + LEAVE_TAIL)
      }
      if (this.#retry) clearTimeout(this.#retry)
      const nodeId = live?.state.nodeId ?? this.#pendingState?.nodeId ?? ''
      this.#live = undefined
      this.#pendingState = undefined
      if (live) {
        await this.#deactivate(live, { revoke: true })
        if (live.member) await live.member.leave().catch((err: Error) => this.#log(`leaving the cluster store: ${err.message}`))
      } else if (role === 'manager' && (await EtcdMember.exists(this.o.dataRoot))) {
        // A locked or unreachable manager: stop its member and drop its data.
        const m = await EtcdMember.restart(this.o.dataRoot, { timeoutMs: 1000 }).catch(() => undefined)
        if (m) await m.stop()
      }
      await rm(this.#dir, { recursive: true, force: true })
      this.#localState = 'inactive'
      this.#error = ''
      if (nodeId && this.o.removeTaskContainers) await this.o.removeTaskContainers(nodeId).catch((err: Error) => this.#log(`removing task containers: ${err.message}`))
      this.#log(`left the swarm (node ${nodeId})`)
    })
  }

  async update(spec: SwarmSpec, flags: SwarmUpdateFlags): Promise<void> {
    const live = this.#requireManager()
    const cluster = await live.store.getCluster()
    if (!cluster) throw notAManager()
    const next = mergeSwarmSpec(defaultSwarmSpec(), spec)
    // `swarm ca --rotate` asks a new root by bumping ForceRotate: refused until it is built, so
    // the CLI's wait for the rotation ends with this error instead of never.
    if (next.caConfig.forceRotate !== cluster.spec.caConfig.forceRotate) {
      throw new EngineError('NotImplemented', 'ERR_SWARM_CA_ROTATE', 'rotating the swarm root CA (swarm ca --rotate) is not supported by this berthd yet')
    }
    await live.store.putCluster({ ...cluster, spec: next, updatedAt: new Date().toISOString() }, flags.version)
    for (let i = 0; ; i++) {
      const ca = (await live.store.getCa())!
      let c: CaRecord = { ...ca }
      if (flags.rotateWorkerToken) c = rotateJoinToken(c, 'worker')
      if (flags.rotateManagerToken) c = rotateJoinToken(c, 'manager')
      const lock = next.encryptionConfig.autoLockManagers
      if (lock && (!c.unlockKey || flags.rotateManagerUnlockKey)) c.unlockKey = generateUnlockKey()
      if (!lock) delete c.unlockKey
      if (c.joinTokens.worker === ca.joinTokens.worker && c.joinTokens.manager === ca.joinTokens.manager && c.unlockKey === ca.unlockKey) return
      try {
        await live.store.putCa(c, ca.version.index)
        await this.#writeKey(live.tls.keyPem, c.unlockKey)
        return
      } catch (err) {
        if (!(err instanceof EngineError && err.code === 'ERR_SWARM_OUT_OF_SEQUENCE') || i > 10) throw err
      }
    }
  }

  async unlockKey(): Promise<string> {
    const live = this.#requireManager()
    return (await live.store.getCa())?.unlockKey ?? ''
  }

  unlock(key: string): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#live) throw new EngineError('Conflict', 'ERR_SWARM_NOT_LOCKED', 'swarm is not locked')
      const state = this.#pendingState
      // dockerd's errNoManager: outside swarm mode the manager 503.
      if (!state) throw notAManager()
      if (this.#localState !== 'locked') throw new EngineError('Conflict', 'ERR_SWARM_NOT_LOCKED', 'swarm is not locked')
      parseUnlockKey(key)
      const sealed = await readFile(join(this.#dir, 'certificates', 'swarm-node.key'), 'utf8')
      const keyPem = openWithUnlockKey(key, sealed)
      this.#localState = 'pending'
      try {
        await this.#resume(state, keyPem)
      } catch (err) {
        this.#error = (err as Error).message
        this.#resumeSoon(keyPem, 2000)
      }
    })
  }
}

/**
 * The engine of a node without one (berthd before the task runner is wired): lists nothing and
 * refuses to create task containers, so the agent keeps the heartbeat and reports tasks rejected.
 */
export const NO_TASKS_ENGINE: AgentEngine = {
  listContainers: async () => [],
  createContainer: async () => {
    throw new EngineError('NotImplemented', 'ERR_SWARM_NO_TASK_ENGINE', 'running swarm tasks is not supported by this berthd yet')
  },
  startContainer: async () => undefined,
  stopContainer: async () => undefined,
  removeContainer: async () => undefined,
  inspectContainer: async () => undefined,
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error('the swarm store did not answer in time')), ms)))])
  } finally {
    if (t) clearTimeout(t)
  }
}

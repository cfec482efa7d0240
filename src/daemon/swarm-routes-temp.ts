// MERGE: this whole file is dropped when sapi's src/api/routes/swarm.ts (swarmRoutes) lands; it
// serves just the swarm lifecycle (and a read-only GET /nodes, /nodes/{id} from the store) so the
// end-to-end tests can drive the real docker CLI before then.
import type { ClusterBackend, NodeAvailability, SwarmSpec } from '../api/backend.js'
import type { Router } from '../api/router.js'
import { readJsonBody } from '../api/http.js'
import { toWireClusterInfo } from '../api/routes/system.js'
import type { SwarmNode } from '../cluster/node.js'
import type { Node } from '../cluster/types.js'
import { EngineError, invalid } from '../lib/errors.js'
import { requireManager } from '../cluster/context.js'

type Wire = Record<string, unknown>

function num(v: unknown): number | undefined {
  return typeof v === 'number' && v !== 0 ? v : undefined
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** PascalCase Spec → the parts of SwarmSpec it sets (zero values are "unset", as dockerd reads them). */
export function fromWireSwarmSpec(w: Wire | undefined): Partial<SwarmSpec> {
  if (!w) return {}
  const o = (w.Orchestration ?? {}) as Wire
  const r = (w.Raft ?? {}) as Wire
  const d = (w.Dispatcher ?? {}) as Wire
  const ca = (w.CAConfig ?? {}) as Wire
  const e = (w.EncryptionConfig ?? {}) as Wire
  const td = (w.TaskDefaults ?? {}) as Wire
  const ld = td.LogDriver as Wire | undefined
  const out: Partial<SwarmSpec> = {}
  if (typeof w.Name === 'string' && w.Name) out.name = w.Name
  if (w.Labels && typeof w.Labels === 'object') out.labels = w.Labels as Record<string, string>
  if (num(o.TaskHistoryRetentionLimit) !== undefined) out.orchestration = { taskHistoryRetentionLimit: num(o.TaskHistoryRetentionLimit)! }
  const raft = defined({ snapshotInterval: num(r.SnapshotInterval), keepOldSnapshots: num(r.KeepOldSnapshots), logEntriesForSlowFollowers: num(r.LogEntriesForSlowFollowers), electionTick: num(r.ElectionTick), heartbeatTick: num(r.HeartbeatTick) })
  if (Object.keys(raft).length) out.raft = raft as SwarmSpec['raft']
  if (num(d.HeartbeatPeriod) !== undefined) out.dispatcher = { heartbeatPeriod: num(d.HeartbeatPeriod)! }
  const caConfig = defined({ nodeCertExpiry: num(ca.NodeCertExpiry), forceRotate: num(ca.ForceRotate) })
  if (Object.keys(caConfig).length) out.caConfig = caConfig as SwarmSpec['caConfig']
  out.encryptionConfig = { autoLockManagers: e.AutoLockManagers === true }
  if (ld && typeof ld.Name === 'string') out.taskDefaults = { logDriver: { name: ld.Name, ...(ld.Options ? { options: ld.Options as Record<string, string> } : {}) } }
  return out
}

function toWireNode(n: Node): Wire {
  return {
    ID: n.id,
    Version: { Index: n.version.index },
    CreatedAt: n.createdAt,
    UpdatedAt: n.updatedAt,
    Spec: { ...(n.spec.name ? { Name: n.spec.name } : {}), Labels: n.spec.labels, Role: n.spec.role, Availability: n.spec.availability },
    Description: {
      Hostname: n.description.hostname,
      Platform: { Architecture: n.description.platform.architecture, OS: n.description.platform.os },
      Resources: { NanoCPUs: n.description.resources.nanoCPUs, MemoryBytes: n.description.resources.memoryBytes },
      Engine: { EngineVersion: n.description.engine.engineVersion, ...(Object.keys(n.description.engine.labels).length ? { Labels: n.description.engine.labels } : {}), Plugins: [] },
      TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' },
    },
    Status: { State: n.status.state, ...(n.status.message ? { Message: n.status.message } : {}), Addr: n.status.addr },
    ...(n.managerStatus ? { ManagerStatus: { ...(n.managerStatus.leader ? { Leader: true } : {}), Reachability: n.managerStatus.reachability, Addr: n.managerStatus.addr } } : {}),
  }
}

function bool(q: URLSearchParams, k: string): boolean {
  const v = q.get(k)
  return v === '1' || v === 'true' || v === 'True'
}

export function swarmLifecycleRoutesTemp(r: Router, cluster: ClusterBackend, node: SwarmNode): void {
  r.add('GET', '/swarm', async () => {
    const v = await cluster.inspect()
    return { ...toWireClusterInfo(v.cluster), JoinTokens: { Worker: v.joinTokens.worker, Manager: v.joinTokens.manager } }
  })
  r.add('POST', '/swarm/init', async (ctx) => {
    const b = (await readJsonBody<Wire>(ctx.req)) ?? {}
    const id = await cluster.init({
      listenAddr: (b.ListenAddr as string) || '0.0.0.0:2377',
      ...(b.AdvertiseAddr ? { advertiseAddr: b.AdvertiseAddr as string } : {}),
      ...(b.DataPathAddr ? { dataPathAddr: b.DataPathAddr as string } : {}),
      ...(b.DataPathPort ? { dataPathPort: b.DataPathPort as number } : {}),
      ...(Array.isArray(b.DefaultAddrPool) && b.DefaultAddrPool.length ? { defaultAddrPool: b.DefaultAddrPool as string[] } : {}),
      ...(b.SubnetSize ? { subnetSize: b.SubnetSize as number } : {}),
      ...(b.ForceNewCluster ? { forceNewCluster: true } : {}),
      spec: fromWireSwarmSpec(b.Spec as Wire | undefined),
      ...(b.Availability ? { availability: b.Availability as NodeAvailability } : {}),
    })
    return id
  })
  r.add('POST', '/swarm/join', async (ctx) => {
    const b = (await readJsonBody<Wire>(ctx.req)) ?? {}
    if (!Array.isArray(b.RemoteAddrs) || !b.RemoteAddrs.length) throw invalid('ERR_SWARM_JOIN_REMOTE', 'at least 1 RemoteAddr is required to join')
    await cluster.join({
      listenAddr: (b.ListenAddr as string) || '0.0.0.0:2377',
      ...(b.AdvertiseAddr ? { advertiseAddr: b.AdvertiseAddr as string } : {}),
      ...(b.DataPathAddr ? { dataPathAddr: b.DataPathAddr as string } : {}),
      remoteAddrs: b.RemoteAddrs as string[],
      joinToken: (b.JoinToken as string) ?? '',
      ...(b.Availability ? { availability: b.Availability as NodeAvailability } : {}),
    })
    ctx.res.writeHead(200, { 'Content-Length': '0' })
    ctx.res.end()
  })
  r.add('POST', '/swarm/leave', async (ctx) => {
    ctx.req.resume()
    await cluster.leave(bool(ctx.query, 'force'))
    ctx.res.writeHead(200, { 'Content-Length': '0' })
    ctx.res.end()
  })
  r.add('POST', '/swarm/update', async (ctx) => {
    const b = (await readJsonBody<Wire>(ctx.req)) ?? {}
    const version = Number(ctx.query.get('version'))
    if (!ctx.query.get('version') || !Number.isInteger(version)) throw invalid('ERR_SWARM_VERSION', `invalid swarm version '${ctx.query.get('version') ?? ''}': strconv.ParseUint: parsing "${ctx.query.get('version') ?? ''}": invalid syntax`)
    const cur = await cluster.inspect()
    const spec = { ...cur.cluster.spec, ...fromWireSwarmSpec(b) }
    await cluster.update(spec, {
      version,
      rotateWorkerToken: bool(ctx.query, 'rotateWorkerToken'),
      rotateManagerToken: bool(ctx.query, 'rotateManagerToken'),
      rotateManagerUnlockKey: bool(ctx.query, 'rotateManagerUnlockKey'),
    })
    ctx.res.writeHead(200, { 'Content-Length': '0' })
    ctx.res.end()
  })
  r.add('GET', '/swarm/unlockkey', async () => ({ UnlockKey: await cluster.unlockKey() }))
  r.add('POST', '/swarm/unlock', async (ctx) => {
    const b = (await readJsonBody<Wire>(ctx.req)) ?? {}
    await cluster.unlock((b.UnlockKey as string) ?? '')
    ctx.res.writeHead(200, { 'Content-Length': '0' })
    ctx.res.end()
  })
  r.add('GET', '/nodes', async () => {
    const c = requireManager(() => node.context())
    return (await c.store.list('nodes')).map(toWireNode)
  })
  const findNode = async (ref: string): Promise<Node> => {
    const c = requireManager(() => node.context())
    const nodes = await c.store.list('nodes')
    const n = nodes.find((x) => x.id === ref) ?? nodes.find((x) => x.description.hostname === ref) ?? nodes.find((x) => x.id.startsWith(ref))
    if (!n) throw new EngineError('NotFound', 'ERR_SWARM_NODE_NOT_FOUND', `node ${ref} not found`)
    return n
  }
  r.add('GET', '/nodes/{id}', async (ctx) => toWireNode(await findNode(ctx.params[0]!)))
  // Role and availability only: enough for `docker node promote|demote|update --availability`.
  r.add('POST', '/nodes/{id}/update', async (ctx) => {
    const b = (await readJsonBody<Wire>(ctx.req)) ?? {}
    const n = await findNode(ctx.params[0]!)
    const c = requireManager(() => node.context())
    const version = Number(ctx.query.get('version'))
    const spec = { ...n.spec, ...(b.Name !== undefined ? { name: b.Name as string } : {}), labels: (b.Labels as Record<string, string>) ?? {}, role: ((b.Role as string) || n.spec.role) as Node['spec']['role'], availability: ((b.Availability as string) || n.spec.availability) as Node['spec']['availability'] }
    await c.store.update('nodes', { ...n, spec, updatedAt: new Date().toISOString() }, version)
    ctx.res.writeHead(200, { 'Content-Length': '0' })
    ctx.res.end()
  })
}

import type { ClusterBackend, SwarmNetwork, SwarmSpec, Task } from '../backend.js'
import { EngineError, invalid } from '../../lib/errors.js'
import { Filters } from '../../lib/filters.js'
import { defined } from '../filters.js'
import { boolParam, readJsonBody, sendJson, type Ctx } from '../http.js'
import type { Router } from '../router.js'
import { logsOptions, sendLogs } from './logs.js'
import {
  fromWireNodeSpec, fromWireSecretSpec, fromWireServiceSpec, mergeWireSwarmSpec, toWireConfig, toWireNode, toWireSecret,
  toWireService, toWireSwarm, toWireTask, type Wire,
} from '../wire-swarm.js'
import { decodeRegistryAuthHeader } from './registry.js'

/**
 * The swarm API (moby's api/server/router/swarm): /swarm, /nodes, /services, /tasks, /secrets,
 * /configs, over the ClusterBackend. Outside swarm mode the backend answers Docker's 503s; a
 * request whose body is malformed still gets the 503 first, as moby checks the node's state
 * before it converts the spec.
 */

export const NOT_A_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'
export const WORKER_NOT_MANAGER = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager."
export const SWARM_LOCKED = 'Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.'

/** Docker's 503 for a node that cannot serve manager requests, from the lifecycle's view of this node. */
async function ensureManager(cluster: ClusterBackend): Promise<void> {
  const i = await cluster.info()
  if (i.localNodeState === 'locked') throw new EngineError('Unavailable', 'ERR_SWARM_LOCKED', SWARM_LOCKED)
  if (i.localNodeState !== 'active') throw new EngineError('Unavailable', 'ERR_SWARM_NOT_MANAGER', NOT_A_MANAGER)
  if (!i.controlAvailable) throw new EngineError('Unavailable', 'ERR_SWARM_WORKER', WORKER_NOT_MANAGER)
}

/** A body conversion whose error is only shown to a manager (others get the 503). */
async function convert<T>(cluster: ClusterBackend, fn: () => T): Promise<T> {
  try {
    return fn()
  } catch (err) {
    await ensureManager(cluster)
    throw err
  }
}

/** `?version=` as moby reads it (strconv.ParseUint), with its words: `invalid service version 'x': strconv.ParseUint: parsing "x": invalid syntax`. */
export function parseVersion(q: URLSearchParams, what: string): number {
  const raw = q.get('version') ?? ''
  let why: string | undefined
  if (!/^\d+$/.test(raw)) why = 'invalid syntax'
  else if (BigInt(raw) > 18446744073709551615n) why = 'value out of range'
  if (why) throw invalid('ERR_SWARM_BAD_VERSION', `invalid ${what} version '${raw}': strconv.ParseUint: parsing ${JSON.stringify(raw)}: ${why}`)
  return Number(raw)
}

/** strconv.ParseBool of an optional query flag, moby's words when it is not one. */
function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name)
  if (v === null || v === '') return false
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
  throw invalid('ERR_SWARM_BAD_FLAG', `invalid value for ${name}: ${v}`)
}

function ok(ctx: Ctx, status = 200): void {
  ctx.res.writeHead(status)
  ctx.res.end()
}

const body = async (ctx: Ctx): Promise<Wire> => ((await readJsonBody<Wire>(ctx.req)) ?? {}) as Wire

const opt = (f: Filters, k: string) => f.opt(k)

/** Local stand-in for swarmkit's default cluster spec (the base `swarm init` merges its Spec into). */
function defaultSpec(): SwarmSpec {
  return {
    name: 'default', labels: {},
    orchestration: { taskHistoryRetentionLimit: 5 },
    raft: { snapshotInterval: 10000, keepOldSnapshots: 0, logEntriesForSlowFollowers: 500, electionTick: 10, heartbeatTick: 1 },
    dispatcher: { heartbeatPeriod: 5_000_000_000 },
    caConfig: { nodeCertExpiry: 7_776_000_000_000_000, forceRotate: 0 },
    encryptionConfig: { autoLockManagers: false },
    taskDefaults: {},
  }
}

async function wireTasks(cluster: ClusterBackend, tasks: Task[]): Promise<Wire[]> {
  let nets = new Map<string, SwarmNetwork>()
  if (tasks.some((t) => t.networksAttachments?.length)) {
    try {
      nets = new Map((await cluster.listSwarmNetworks()).map((n) => [n.id, n]))
    } catch { /* attachments then show the network's ID only */ }
  }
  return tasks.map((t) => toWireTask(t, nets))
}

export function swarmRoutes(r: Router, cluster: ClusterBackend): void {
  // ---- swarm
  r.add('GET', '/swarm', async () => toWireSwarm(await cluster.inspect()))

  r.add('POST', '/swarm/init', async (ctx) => {
    const b = await body(ctx)
    const id = await cluster.init(defined({
      listenAddr: typeof b.ListenAddr === 'string' && b.ListenAddr ? b.ListenAddr : '0.0.0.0:2377',
      advertiseAddr: typeof b.AdvertiseAddr === 'string' && b.AdvertiseAddr ? b.AdvertiseAddr : undefined,
      dataPathAddr: typeof b.DataPathAddr === 'string' && b.DataPathAddr ? b.DataPathAddr : undefined,
      dataPathPort: typeof b.DataPathPort === 'number' && b.DataPathPort ? b.DataPathPort : undefined,
      defaultAddrPool: Array.isArray(b.DefaultAddrPool) && b.DefaultAddrPool.length ? b.DefaultAddrPool.map(String) : undefined,
      subnetSize: typeof b.SubnetSize === 'number' && b.SubnetSize ? b.SubnetSize : undefined,
      forceNewCluster: b.ForceNewCluster === true || undefined,
      spec: mergeWireSwarmSpec(b.Spec, defaultSpec()),
      availability: ['active', 'pause', 'drain'].includes(b.Availability) ? b.Availability : undefined,
    }))
    sendJson(ctx.res, 200, id)
  })

  r.add('POST', '/swarm/join', async (ctx) => {
    const b = await body(ctx)
    await cluster.join(defined({
      listenAddr: typeof b.ListenAddr === 'string' && b.ListenAddr ? b.ListenAddr : '0.0.0.0:2377',
      advertiseAddr: typeof b.AdvertiseAddr === 'string' && b.AdvertiseAddr ? b.AdvertiseAddr : undefined,
      dataPathAddr: typeof b.DataPathAddr === 'string' && b.DataPathAddr ? b.DataPathAddr : undefined,
      remoteAddrs: Array.isArray(b.RemoteAddrs) ? b.RemoteAddrs.map(String) : [],
      joinToken: typeof b.JoinToken === 'string' ? b.JoinToken : '',
      availability: ['active', 'pause', 'drain'].includes(b.Availability) ? b.Availability : undefined,
    }))
    ok(ctx)
  })

  r.add('POST', '/swarm/leave', async (ctx) => {
    ctx.req.resume()
    await cluster.leave(boolParam(ctx.query, 'force'))
    ok(ctx)
  })

  r.add('POST', '/swarm/update', async (ctx) => {
    // As moby: the body is decoded first, then the query.
    const b = await body(ctx)
    const version = parseVersion(ctx.query, 'swarm')
    const flags = {
      version,
      rotateWorkerToken: flag(ctx.query, 'rotateWorkerToken'),
      rotateManagerToken: flag(ctx.query, 'rotateManagerToken'),
      rotateManagerUnlockKey: flag(ctx.query, 'rotateManagerUnlockKey'),
    }
    const cur = await cluster.inspect()
    await cluster.update(mergeWireSwarmSpec(b, cur.cluster.spec), flags)
    ok(ctx)
  })

  r.add('GET', '/swarm/unlockkey', async () => ({ UnlockKey: await cluster.unlockKey() }))

  r.add('POST', '/swarm/unlock', async (ctx) => {
    const b = await body(ctx)
    await cluster.unlock(typeof b.UnlockKey === 'string' ? b.UnlockKey : '')
    ok(ctx)
  })

  // ---- nodes
  r.add('GET', '/nodes', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters')).validate(['id', 'label', 'name', 'node.label', 'membership', 'role'])
    for (const v of f.get('role')) if (v !== '' && v !== 'manager' && v !== 'worker') throw invalid('ERR_SWARM_BAD_FILTER', `Invalid role filter value: ${v}`)
    for (const v of f.get('membership')) if (v !== '' && v !== 'accepted' && v !== 'pending') throw invalid('ERR_SWARM_BAD_FILTER', `Invalid membership filter value: ${v}`)
    const nodes = await cluster.listNodes(defined({ id: opt(f, 'id'), label: opt(f, 'label'), name: opt(f, 'name'), 'node.label': opt(f, 'node.label'), membership: opt(f, 'membership'), role: opt(f, 'role') }))
    return nodes.map(toWireNode)
  })
  r.add('GET', '/nodes/{id}', async (ctx) => toWireNode(await cluster.inspectNode(ctx.params[0]!)))
  r.add('DELETE', '/nodes/{id}', async (ctx) => {
    await cluster.removeNode(ctx.params[0]!, boolParam(ctx.query, 'force'))
    ok(ctx)
  })
  r.add('POST', '/nodes/{id}/update', async (ctx) => {
    const b = await body(ctx)
    const version = parseVersion(ctx.query, 'node')
    const spec = await convert(cluster, () => fromWireNodeSpec(b))
    await cluster.updateNode(ctx.params[0]!, version, spec)
    ok(ctx)
  })

  // ---- services
  r.add('GET', '/services', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters')).validate(['id', 'label', 'mode', 'name', 'runtime'])
    for (const m of f.get('mode')) {
      if (!['replicated', 'global', 'replicated-job', 'global-job'].includes(m)) throw invalid('ERR_SWARM_BAD_FILTER', `Invalid filter: 'mode'='${m}'`)
    }
    const list = await cluster.listServices(defined({ id: opt(f, 'id'), label: opt(f, 'label'), mode: opt(f, 'mode'), name: opt(f, 'name'), runtime: opt(f, 'runtime') }), boolParam(ctx.query, 'status'))
    return list.map((v) => toWireService(v))
  })

  r.add('POST', '/services/create', async (ctx) => {
    const b = await body(ctx)
    const auth = decodeRegistryAuthHeader(ctx.req.headers['x-registry-auth'])
    const spec = await convert(cluster, () => fromWireServiceSpec(b))
    const out = await cluster.createService(spec, auth ? { registryAuth: auth } : {})
    sendJson(ctx.res, 201, { ID: out.id, ...(out.warnings.length ? { Warnings: out.warnings } : {}) })
  })

  r.add('GET', '/services/{id}', async (ctx) => toWireService(await cluster.inspectService(ctx.params[0]!), { insertDefaults: boolParam(ctx.query, 'insertDefaults') }))

  r.add('DELETE', '/services/{id}', async (ctx) => {
    await cluster.removeService(ctx.params[0]!)
    ok(ctx)
  })

  r.add('POST', '/services/{id}/update', async (ctx) => {
    const b = await body(ctx)
    const version = parseVersion(ctx.query, 'service')
    const from = ctx.query.get('registryAuthFrom') ?? ''
    if (!['', 'spec', 'previous-spec'].includes(from)) throw invalid('ERR_SWARM_BAD_FLAG', 'unsupported registryAuthFrom value')
    const rb = ctx.query.get('rollback') ?? ''
    if (!['', 'none', 'previous'].includes(rb)) throw invalid('ERR_SWARM_BAD_FLAG', `unrecognized rollback option ${rb}`)
    const auth = decodeRegistryAuthHeader(ctx.req.headers['x-registry-auth'])
    const spec = await convert(cluster, () => fromWireServiceSpec(b))
    const out = await cluster.updateService(ctx.params[0]!, spec, defined({
      version,
      rollback: rb === 'previous' || undefined,
      registryAuthFrom: from === 'previous-spec' ? 'previous-spec' as const : from === 'spec' ? 'spec' as const : undefined,
      registryAuth: auth,
    }))
    return out.warnings.length ? { Warnings: out.warnings } : {}
  })

  r.add('GET', '/services/{id}/logs', async (ctx) => {
    const o = logsOptions(ctx)
    await sendLogs(ctx, await cluster.serviceLogs(ctx.params[0]!, o))
  })

  // ---- tasks
  r.add('GET', '/tasks', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters')).validate(['_up-to-date', 'id', 'label', 'name', 'node', 'service', 'desired-state', 'runtime'])
    const tasks = await cluster.listTasks(defined({
      id: opt(f, 'id'), label: opt(f, 'label'), name: opt(f, 'name'), node: opt(f, 'node'), service: opt(f, 'service'),
      'desired-state': opt(f, 'desired-state'), runtime: opt(f, 'runtime'), '_up-to-date': opt(f, '_up-to-date'),
    }))
    return wireTasks(cluster, tasks)
  })
  r.add('GET', '/tasks/{id}', async (ctx) => (await wireTasks(cluster, [await cluster.inspectTask(ctx.params[0]!)]))[0])
  r.add('GET', '/tasks/{id}/logs', async (ctx) => {
    const o = logsOptions(ctx)
    await sendLogs(ctx, await cluster.taskLogs(ctx.params[0]!, o))
  })

  // ---- secrets and configs
  for (const kind of ['secrets', 'configs'] as const) {
    const what = kind === 'secrets' ? 'secret' : 'config'
    // Looked up per call: the routes are registered before (and without) a backend in tests.
    const secrets = kind === 'secrets'
    const list: ClusterBackend['listSecrets'] = (f) => secrets ? cluster.listSecrets(f) : cluster.listConfigs(f)
    const inspect: ClusterBackend['inspectSecret'] = (id) => secrets ? cluster.inspectSecret(id) : cluster.inspectConfig(id)
    const create: ClusterBackend['createSecret'] = (spec) => secrets ? cluster.createSecret(spec) : cluster.createConfig(spec)
    const update: ClusterBackend['updateSecret'] = (id, v, spec) => secrets ? cluster.updateSecret(id, v, spec) : cluster.updateConfig(id, v, spec)
    const remove: ClusterBackend['removeSecret'] = (id) => secrets ? cluster.removeSecret(id) : cluster.removeConfig(id)
    const wire = kind === 'secrets' ? toWireSecret : toWireConfig

    r.add('GET', `/${kind}`, async (ctx) => {
      const f = Filters.parse(ctx.query.get('filters')).validate(['names', 'name', 'id', 'label'])
      return (await list(defined({ id: opt(f, 'id'), label: opt(f, 'label'), name: opt(f, 'name'), names: opt(f, 'names') }))).map(wire)
    })
    r.add('POST', `/${kind}/create`, async (ctx) => {
      const id = await create(fromWireSecretSpec(await body(ctx)))
      sendJson(ctx.res, 201, { ID: id })
    })
    r.add('GET', `/${kind}/{id}`, async (ctx) => wire(await inspect(ctx.params[0]!)))
    r.add('DELETE', `/${kind}/{id}`, async (ctx) => {
      await remove(ctx.params[0]!)
      ok(ctx, 204)
    })
    r.add('POST', `/${kind}/{id}/update`, async (ctx) => {
      const b = await body(ctx)
      const version = parseVersion(ctx.query, what)
      await update(ctx.params[0]!, version, fromWireSecretSpec(b))
      ok(ctx)
    })
  }
}

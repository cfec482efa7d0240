import type {
  NodeListFilters, SecretListFilters, ServiceListFilters, ServiceUpdateOptions, ServiceView, ServiceWriteOptions,
  SwarmObjects, TaskListFilters,
} from '../api/backend.js'
import { EngineError } from '../lib/errors.js'
import { matchLabels } from '../lib/filters.js'
import { generateName } from '../engine/containers/names.js'
import { parseConstraints } from './constraints.js'
import { requireManager, type SwarmContextSource } from './context.js'
import { newId } from './ids.js'
import type { ClusterStore, Kind, KindMap } from './store.js'
import type { Config, ConfigSpec, EndpointPortConfig, Node, NodeSpec, Secret, SecretSpec, Service, ServiceSpec, Task, TaskSpec } from './types.js'

/**
 * The swarm's objects as the Engine API manages them (swarmkit's controlapi and moby's
 * daemon/cluster lookups), over the ClusterStore of this manager: lookups by ID, ID prefix or
 * name, swarmkit's validations and words, published-port allocation, spec revisions and
 * rollback. The orchestrator (manager.ts) reacts to what is written here.
 */

type GrpcCode = 'InvalidArgument' | 'FailedPrecondition' | 'Unimplemented' | 'AlreadyExists' | 'Unknown'

/** An error as moby relays one from swarmkit: `rpc error: code = X desc = ...`, with moby's HTTP status for the code. */
export function rpcError(code: GrpcCode, desc: string): EngineError {
  const msg = `rpc error: code = ${code} desc = ${desc}`
  switch (code) {
    case 'InvalidArgument': return new EngineError('InvalidArgument', 'ERR_SWARM_INVALID_ARGUMENT', msg)
    case 'FailedPrecondition': return new EngineError('InvalidArgument', 'ERR_SWARM_FAILED_PRECONDITION', msg)
    case 'Unimplemented': return new EngineError('NotImplemented', 'ERR_SWARM_UNIMPLEMENTED', msg)
    case 'AlreadyExists': return new EngineError('Conflict', 'ERR_SWARM_NAME_CONFLICT', msg)
    default: return new EngineError('Internal', 'ERR_SWARM_RPC_UNKNOWN', msg)
  }
}

const WHAT: Record<Kind, string> = { nodes: 'node', services: 'service', tasks: 'task', networks: 'network', secrets: 'secret', configs: 'config' }

function notFound(kind: Kind, ref: string): EngineError {
  return new EngineError('NotFound', `ERR_SWARM_${WHAT[kind].toUpperCase()}_NOT_FOUND`, `${WHAT[kind]} ${ref} not found`)
}

/** Ingress ports without a published port get one from swarmkit's dynamic range. */
export const DYNAMIC_PORT_START = 30000
export const DYNAMIC_PORT_END = 32767

const DNS_NAME = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/
const SECRET_NAME = /^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/
/** Docker's reference grammar, enough to refuse what ParseNormalizedNamed refuses. */
const IMAGE_REF = /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?|\[[0-9a-fA-F:]+\](?::[0-9]+)?)\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$/
export const MAX_SECRET_SIZE = 500 * 1024
export const MAX_CONFIG_SIZE = 1000 * 1024

const TASK_STATES = ['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']

const stable = (v: unknown): string => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x))
const prefixed = (value: string, prefixes: string[] | undefined) => !prefixes || prefixes.some((p) => value.startsWith(p))
const nowIso = () => new Date().toISOString()
const taskShape = (s: ServiceSpec) => stable([s.taskTemplate, s.endpointSpec ?? null])

function modeName(s: ServiceSpec): string {
  const m = s.mode
  return 'replicated' in m ? 'replicated' : 'global' in m ? 'global' : 'replicatedJob' in m ? 'replicated-job' : 'global-job'
}

/** A task's name as swarmkit's naming.Task: `<service>.<slot or node>.<task id>`. */
export function taskName(t: Task): string {
  return t.name || `${t.serviceName}.${t.slot || t.nodeId}.${t.id}`
}

export class ClusterObjects implements SwarmObjects {
  constructor(private readonly ctx: SwarmContextSource) {}

  #store(): ClusterStore {
    return requireManager(this.ctx).store
  }

  /** moby's lookup: full ID, then exact name (case-insensitive, as swarmkit's index), then unique ID prefix. */
  async #resolve<K extends Kind>(store: ClusterStore, kind: K, ref: string, names: (o: KindMap[K]) => string[] = () => []): Promise<KindMap[K]> {
    if (ref === '') throw notFound(kind, ref)
    const direct = await store.find(kind, ref)
    if (direct) return direct
    const all = await store.list(kind)
    const lower = ref.toLowerCase()
    let matches = all.filter((o) => names(o).some((n) => n.toLowerCase() === lower))
    if (matches.length === 0) matches = all.filter((o) => o.id.startsWith(ref))
    if (matches.length === 0) throw notFound(kind, ref)
    if (matches.length > 1) throw new EngineError('InvalidArgument', 'ERR_SWARM_AMBIGUOUS', `${WHAT[kind]} ${ref} is ambiguous (${matches.length} matches found)`)
    return matches[0]!
  }

  /** Store writes with swarmkit's words for what they refuse. */
  async #write<T>(fn: () => Promise<T>, conflict?: string): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if (err instanceof EngineError && err.code === 'ERR_SWARM_OUT_OF_SEQUENCE') throw rpcError('Unknown', 'update out of sequence')
      if (err instanceof EngineError && err.code === 'ERR_SWARM_NAME_CONFLICT') throw rpcError('AlreadyExists', conflict ?? err.message)
      throw err
    }
  }

  // ---- nodes

  async listNodes(f: NodeListFilters): Promise<Node[]> {
    const nodes = await this.#store().list('nodes')
    const byName = (n: Node) => n.spec.name || n.description.hostname
    return nodes.filter((n) =>
      prefixed(n.id, f.id) && prefixed(byName(n), f.name) &&
      (!f.role || f.role.includes(n.spec.role)) &&
      (!f.membership || f.membership.includes('accepted')) &&
      matchLabels(f.label ?? [], n.description.engine.labels) &&
      matchLabels(f['node.label'] ?? [], n.spec.labels))
  }

  async inspectNode(idOrName: string): Promise<Node> {
    const store = this.#store()
    return this.#resolve(store, 'nodes', idOrName, (n) => [n.spec.name ?? '', n.description.hostname].filter(Boolean))
  }

  async updateNode(idOrName: string, version: number, spec: NodeSpec): Promise<void> {
    const store = this.#store()
    const node = await this.#resolve(store, 'nodes', idOrName, (n) => [n.spec.name ?? '', n.description.hostname].filter(Boolean))
    if (node.spec.role === 'manager' && spec.role === 'worker') {
      const managers = (await store.list('nodes')).filter((n) => n.spec.role === 'manager')
      if (managers.length <= 1) throw rpcError('FailedPrecondition', 'attempting to demote the last manager of the swarm')
    }
    const next: Node = { ...node, spec: { ...spec, labels: spec.labels ?? {} }, updatedAt: nowIso() }
    if (!spec.name) delete next.spec.name
    await this.#write(() => store.update('nodes', next, version))
  }

  async removeNode(idOrName: string, force: boolean): Promise<void> {
    const store = this.#store()
    const node = await this.#resolve(store, 'nodes', idOrName, (n) => [n.spec.name ?? '', n.description.hostname].filter(Boolean))
    if (node.spec.role === 'manager' || node.managerStatus) {
      throw rpcError('FailedPrecondition', `node ${node.id} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`)
    }
    if (!force && node.status.state === 'ready') throw rpcError('FailedPrecondition', `node ${node.id} is not down and can't be removed`)
    await this.#write(() => store.remove('nodes', node.id))
  }

  // ---- services

  async listServices(f: ServiceListFilters, status: boolean): Promise<ServiceView[]> {
    const store = this.#store()
    const services = (await store.list('services')).filter((s) =>
      prefixed(s.id, f.id) && prefixed(s.spec.name, f.name) &&
      matchLabels(f.label ?? [], s.spec.labels) &&
      (!f.mode || f.mode.includes(modeName(s.spec))) &&
      (!f.runtime || f.runtime.includes('container') || f.runtime.includes('')))
    if (!status) return services.map((service) => ({ service }))
    const [tasks, nodes] = await Promise.all([store.list('tasks'), store.list('nodes')])
    return services.map((service) => ({ service, serviceStatus: serviceStatus(service, tasks, nodes) }))
  }

  async inspectService(idOrName: string): Promise<ServiceView> {
    const store = this.#store()
    return { service: await this.#resolve(store, 'services', idOrName, (s) => [s.spec.name]) }
  }

  async createService(spec: ServiceSpec, o: ServiceWriteOptions): Promise<{ id: string; warnings: string[] }> {
    const store = this.#store()
    const services = await store.list('services')
    const s = structuredClone(spec)
    // moby names a service left unnamed as it names containers.
    if (!s.name) s.name = generateName((n) => services.some((x) => x.spec.name.toLowerCase() === n))
    validateServiceSpec(s)
    await this.#resolveRefs(store, s)
    const id = newId()
    const ports = allocatePorts(s, undefined, services)
    const at = nowIso()
    const service: Service = {
      id, version: { index: 0 }, createdAt: at, updatedAt: at,
      spec: s, specRevision: 1,
      endpoint: { spec: s.endpointSpec ?? { mode: 'vip' }, ports, virtualIPs: [] },
      ...(o.registryAuth ? { registryAuth: o.registryAuth } : {}),
    }
    await this.#write(() => store.create('services', service))
    return { id, warnings: [] }
  }

  async updateService(idOrName: string, spec: ServiceSpec, o: ServiceUpdateOptions): Promise<{ warnings: string[] }> {
    const store = this.#store()
    const cur = await this.#resolve(store, 'services', idOrName, (s) => [s.spec.name])
    const s = structuredClone(spec)
    validateServiceSpec(s)
    await this.#resolveRefs(store, s)
    if (modeName(cur.spec) !== modeName(s)) throw rpcError('Unimplemented', 'service mode change is not allowed')
    if (cur.spec.name !== s.name) throw rpcError('Unimplemented', 'renaming services is not supported')
    const next: Service = structuredClone(cur)
    next.updatedAt = nowIso()
    if (o.rollback) {
      if (!cur.previousSpec) throw rpcError('FailedPrecondition', `service ${cur.id} does not have a previous spec`)
      next.spec = structuredClone(cur.previousSpec)
      next.previousSpec = structuredClone(cur.spec)
      next.updateStatus = { state: 'rollback_started', startedAt: next.updatedAt, message: 'manually requested rollback' }
      if (cur.previousRegistryAuth || cur.registryAuth) {
        next.registryAuth = cur.previousRegistryAuth
        next.previousRegistryAuth = cur.registryAuth
        if (!next.registryAuth) delete next.registryAuth
        if (!next.previousRegistryAuth) delete next.previousRegistryAuth
      }
    } else {
      next.previousSpec = structuredClone(cur.spec)
      next.spec = s
      delete next.updateStatus
      // Credentials: the request's, else the ones registryAuthFrom names (moby's default: the spec's).
      const auth = o.registryAuth ?? (o.registryAuthFrom === 'previous-spec' ? cur.previousRegistryAuth : cur.registryAuth)
      if (cur.registryAuth) next.previousRegistryAuth = cur.registryAuth
      if (auth) next.registryAuth = auth
      else delete next.registryAuth
    }
    const others = (await store.list('services')).filter((x) => x.id !== cur.id)
    if (stable(next.spec.endpointSpec) !== stable(cur.spec.endpointSpec) || o.rollback) checkPortConflicts(next.spec, others)
    next.endpoint = { spec: next.spec.endpointSpec ?? { mode: 'vip' }, ports: allocatePorts(next.spec, cur, others), virtualIPs: cur.endpoint?.virtualIPs ?? [] }
    // A new revision (tasks to replace) when what the tasks run changes, as swarmkit's IsTaskDirty:
    // the task template (ForceUpdate included) or the endpoint; scaling or relabelling the service replaces nothing.
    if (taskShape(next.spec) !== taskShape(cur.spec)) next.specRevision = cur.specRevision + 1
    await this.#write(() => store.update('services', next, o.version))
    return { warnings: [] }
  }

  async removeService(idOrName: string): Promise<void> {
    const store = this.#store()
    const s = await this.#resolve(store, 'services', idOrName, (x) => [x.spec.name])
    // The orchestrator shuts down, then deletes, the tasks of a service that is gone.
    await this.#write(() => store.remove('services', s.id))
  }

  /** Network targets (name or ID) to IDs, secret and config references to existing objects (swarmkit's checks). */
  async #resolveRefs(store: ClusterStore, s: ServiceSpec): Promise<void> {
    const t = s.taskTemplate
    for (const n of t.networks ?? []) {
      const net = await this.#resolve(store, 'networks', n.target, (x) => [x.spec.name]).catch((err: unknown) => {
        if (err instanceof EngineError && err.kind === 'NotFound') throw new EngineError('NotFound', 'ERR_SWARM_NETWORK_NOT_FOUND', `network ${n.target} not found`)
        throw err
      })
      if (net.spec.ingress) throw rpcError('InvalidArgument', `Service cannot be explicitly attached to the ingress network "${net.spec.name}"`)
      n.target = net.id
    }
    const cs = t.containerSpec
    const missing = async <K extends 'secrets' | 'configs'>(kind: K, refs: Array<{ id: string; name: string; set: (id: string, name: string) => void }>) => {
      const failed: string[] = []
      for (const r of refs) {
        let obj = r.id ? await store.find(kind, r.id) : undefined
        if (!obj && r.name) {
          const id = await store.idByName(kind, r.name)
          obj = id ? await store.find(kind, id) : undefined
        }
        if (!obj || (r.name && obj.spec.name !== r.name)) failed.push(r.name || r.id)
        else r.set(obj.id, obj.spec.name)
      }
      if (failed.length) throw rpcError('InvalidArgument', `${WHAT[kind]}${failed.length > 1 ? 's' : ''} not found: ${failed.join(', ')}`)
    }
    await missing('secrets', (cs.secrets ?? []).map((r) => ({ id: r.secretId, name: r.secretName, set: (id, name) => { r.secretId = id; r.secretName = name } })))
    await missing('configs', (cs.configs ?? []).map((r) => ({ id: r.configId, name: r.configName, set: (id, name) => { r.configId = id; r.configName = name } })))
  }

  // ---- tasks

  async listTasks(f: TaskListFilters): Promise<Task[]> {
    const store = this.#store()
    // moby resolves service and node filters (name, ID or prefix) to IDs first; an unknown one is its 404.
    const serviceIds = f.service ? await Promise.all(f.service.map(async (s) => (await this.#resolve(store, 'services', s, (x) => [x.spec.name])).id)) : undefined
    const nodeIds = f.node ? await Promise.all(f.node.map(async (n) => (await this.#resolve(store, 'nodes', n, (x) => [x.spec.name ?? '', x.description.hostname].filter(Boolean))).id)) : undefined
    for (const d of f['desired-state'] ?? []) {
      if (d !== '' && !TASK_STATES.includes(d.toLowerCase())) throw new EngineError('InvalidArgument', 'ERR_SWARM_BAD_FILTER', `Invalid task desired state: ${d}`)
    }
    const desired = f['desired-state']?.filter(Boolean).map((d) => d.toLowerCase())
    const upToDate = f['_up-to-date'] !== undefined && f['_up-to-date'].length > 0
    const tasks = await store.list('tasks')
    const services = upToDate ? new Map((await store.list('services')).map((s) => [s.id, s])) : undefined
    return tasks.filter((t) =>
      prefixed(t.id, f.id) &&
      (!f.name || f.name.some((n) => taskName(t).startsWith(n))) &&
      (!serviceIds || serviceIds.includes(t.serviceId)) &&
      (!nodeIds || nodeIds.includes(t.nodeId)) &&
      (!desired || desired.length === 0 || desired.includes(t.desiredState)) &&
      matchLabels(f.label ?? [], t.labels) &&
      (!f.runtime || f.runtime.includes('container') || f.runtime.includes('')) &&
      (!services || services.get(t.serviceId)?.specRevision === t.specRevision))
  }

  async inspectTask(id: string): Promise<Task> {
    const store = this.#store()
    return this.#resolve(store, 'tasks', id, (t) => [taskName(t)])
  }

  // ---- secrets and configs

  listSecrets(f: SecretListFilters): Promise<Secret[]> {
    return this.#listNamed('secrets', f)
  }
  inspectSecret(idOrName: string): Promise<Secret> {
    const store = this.#store()
    return this.#resolve(store, 'secrets', idOrName, (s) => [s.spec.name])
  }
  createSecret(spec: SecretSpec): Promise<string> {
    return this.#createNamed('secrets', spec)
  }
  updateSecret(idOrName: string, version: number, spec: SecretSpec): Promise<void> {
    return this.#updateNamed('secrets', idOrName, version, spec)
  }
  removeSecret(idOrName: string): Promise<void> {
    return this.#removeNamed('secrets', idOrName)
  }

  listConfigs(f: SecretListFilters): Promise<Config[]> {
    return this.#listNamed('configs', f)
  }
  inspectConfig(idOrName: string): Promise<Config> {
    const store = this.#store()
    return this.#resolve(store, 'configs', idOrName, (s) => [s.spec.name])
  }
  createConfig(spec: ConfigSpec): Promise<string> {
    return this.#createNamed('configs', spec)
  }
  updateConfig(idOrName: string, version: number, spec: ConfigSpec): Promise<void> {
    return this.#updateNamed('configs', idOrName, version, spec)
  }
  removeConfig(idOrName: string): Promise<void> {
    return this.#removeNamed('configs', idOrName)
  }

  async #listNamed<K extends 'secrets' | 'configs'>(kind: K, f: SecretListFilters): Promise<KindMap[K][]> {
    const all = await this.#store().list(kind)
    return all.filter((s) =>
      prefixed(s.id, f.id) && prefixed(s.spec.name, f.name) &&
      (!f.names || f.names.includes(s.spec.name)) &&
      matchLabels(f.label ?? [], s.spec.labels))
  }

  async #createNamed<K extends 'secrets' | 'configs'>(kind: K, spec: SecretSpec): Promise<string> {
    const store = this.#store()
    validateSecretSpec(kind, spec)
    const at = nowIso()
    const obj = { id: newId(), version: { index: 0 }, createdAt: at, updatedAt: at, spec: { name: spec.name, labels: spec.labels ?? {}, data: spec.data } }
    await this.#write(() => store.create(kind, obj as KindMap[K]), `${WHAT[kind]} ${spec.name} already exists`)
    return obj.id
  }

  async #updateNamed<K extends 'secrets' | 'configs'>(kind: K, idOrName: string, version: number, spec: SecretSpec): Promise<void> {
    const store = this.#store()
    const cur = await this.#resolve(store, kind, idOrName, (s) => [s.spec.name])
    // swarmkit: only the labels of a secret or config may change.
    if (cur.spec.name !== spec.name || (spec.data && spec.data !== cur.spec.data)) throw rpcError('InvalidArgument', 'only updates to Labels are allowed')
    const next = { ...cur, updatedAt: nowIso(), spec: { ...cur.spec, labels: spec.labels ?? {} } }
    await this.#write(() => store.update(kind, next as KindMap[K], version))
  }

  async #removeNamed(kind: 'secrets' | 'configs', idOrName: string): Promise<void> {
    const store = this.#store()
    const cur = await this.#resolve(store, kind, idOrName, (s) => [s.spec.name])
    const users = (await store.list('services')).filter((s) => {
      const cs = s.spec.taskTemplate.containerSpec
      return kind === 'secrets' ? cs.secrets?.some((r) => r.secretId === cur.id) : cs.configs?.some((r) => r.configId === cur.id)
    }).map((s) => s.spec.name)
    if (users.length) {
      throw rpcError('InvalidArgument', `${WHAT[kind]} '${cur.spec.name}' is in use by the following service${users.length > 1 ? 's' : ''}: ${users.join(', ')}`)
    }
    await this.#write(() => store.remove(kind, cur.id))
  }
}

// ---- swarmkit's validations (controlapi), in its words

function validateServiceSpec(s: ServiceSpec): void {
  if (!s.name) throw rpcError('InvalidArgument', 'meta: name must be provided')
  if (!DNS_NAME.test(s.name)) throw rpcError('InvalidArgument', 'name must be valid as a DNS name component')
  if (s.name.length > 63) throw rpcError('InvalidArgument', 'name must be 63 characters or fewer')
  validateTaskSpec(s.taskTemplate)
  if ('replicated' in s.mode && s.mode.replicated.replicas < 0) throw rpcError('InvalidArgument', 'Number of replicas must be non-negative')
  if ('replicatedJob' in s.mode) {
    if (s.mode.replicatedJob.maxConcurrent < 0) throw rpcError('InvalidArgument', 'Maximum concurrent jobs must not be negative')
    if (s.mode.replicatedJob.totalCompletions < 0) throw rpcError('InvalidArgument', 'Total completed jobs must not be negative')
  }
  for (const uc of [s.updateConfig]) {
    if (!uc) continue
    if ((uc.delay ?? 0) < 0) throw rpcError('InvalidArgument', 'TaskSpec: update-delay cannot be negative')
    if ((uc.monitor ?? 0) < 0) throw rpcError('InvalidArgument', 'TaskSpec: update-monitor cannot be negative')
    const r = uc.maxFailureRatio ?? 0
    if (r < 0 || r > 1) throw rpcError('InvalidArgument', 'TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1')
  }
  const ep = s.endpointSpec
  if (ep) {
    const seen = new Set<string>()
    for (const p of ep.ports ?? []) {
      if (ep.mode === 'dnsrr' && p.publishMode === 'ingress') throw rpcError('InvalidArgument', "EndpointSpec: port published with ingress mode can't be used with dnsrr mode")
      if (!p.publishedPort) continue
      const k = `${p.publishedPort}/${p.protocol}`
      if (seen.has(k)) throw rpcError('InvalidArgument', 'EndpointSpec: duplicate published ports provided')
      seen.add(k)
    }
  }
}

function validateTaskSpec(t: TaskSpec): void {
  for (const r of [t.resources?.limits, t.resources?.reservations]) {
    if (!r) continue
    if (r.nanoCPUs && r.nanoCPUs < 1e6) throw rpcError('InvalidArgument', `invalid cpu value ${r.nanoCPUs / 1e9}: Must be at least 0.001`)
    if (r.memoryBytes && r.memoryBytes < 4 * 1024 * 1024) throw rpcError('InvalidArgument', `invalid memory value ${r.memoryBytes}: Must be at least 4MiB`)
  }
  if ((t.restartPolicy?.delay ?? 0) < 0) throw rpcError('InvalidArgument', 'TaskSpec: restart-delay cannot be negative')
  if ((t.restartPolicy?.window ?? 0) < 0) throw rpcError('InvalidArgument', 'TaskSpec: restart-window cannot be negative')
  try {
    parseConstraints(t.placement?.constraints)
  } catch (err) {
    throw rpcError('InvalidArgument', (err as Error).message)
  }
  const c = t.containerSpec
  const files = new Map<string, string>()
  for (const r of c.secrets ?? []) {
    if (!r.secretId && !r.secretName) throw rpcError('InvalidArgument', 'malformed secret reference')
    if (!r.file) throw rpcError('InvalidArgument', 'malformed secret reference, no target provided')
    if (!r.file.name) throw rpcError('InvalidArgument', 'malformed file secret reference, invalid target file name provided')
    const prev = files.get(r.file.name)
    if (prev !== undefined) throw rpcError('InvalidArgument', `secret references '${prev}' and '${r.secretName}' have a conflicting target: '${r.file.name}'`)
    files.set(r.file.name, r.secretName)
  }
  files.clear()
  for (const r of c.configs ?? []) {
    if (!r.configId && !r.configName) throw rpcError('InvalidArgument', 'malformed config reference')
    if (!r.file) throw rpcError('InvalidArgument', 'malformed config reference, no target provided')
    if (!r.file.name) throw rpcError('InvalidArgument', 'malformed file config reference, invalid target file name provided')
    const prev = files.get(r.file.name)
    if (prev !== undefined) throw rpcError('InvalidArgument', `config references '${prev}' and '${r.configName}' have a conflicting target: '${r.file.name}'`)
    files.set(r.file.name, r.configName)
  }
  if (!c.image) throw rpcError('InvalidArgument', 'ContainerSpec: image reference must be provided')
  if (!IMAGE_REF.test(c.image)) throw rpcError('InvalidArgument', `ContainerSpec: ${JSON.stringify(c.image)} is not a valid repository/tag`)
  const targets = new Set<string>()
  for (const m of c.mounts ?? []) {
    if (targets.has(m.target)) throw rpcError('InvalidArgument', `ContainerSpec: duplicate mount point: ${m.target}`)
    targets.add(m.target)
  }
  const h = c.healthCheck
  if (h) {
    for (const [k, v] of [['Interval', h.interval], ['Timeout', h.timeout], ['StartPeriod', h.startPeriod]] as const) {
      if (v && v < 1_000_000) throw rpcError('InvalidArgument', `ContainerSpec: ${k} in HealthConfig cannot be less than 1ms`)
    }
    if ((h.retries ?? 0) < 0) throw rpcError('InvalidArgument', 'ContainerSpec: Retries in HealthConfig cannot be negative')
  }
}

function validateSecretSpec(kind: 'secrets' | 'configs', spec: SecretSpec): void {
  if (!spec.name || spec.name.length > 64 || !SECRET_NAME.test(spec.name)) {
    throw rpcError('InvalidArgument', 'invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]')
  }
  const size = Buffer.from(spec.data ?? '', 'base64').length
  const max = kind === 'secrets' ? MAX_SECRET_SIZE : MAX_CONFIG_SIZE
  if (size < 1 || size >= max) throw rpcError('InvalidArgument', `${WHAT[kind]} data must be larger than 0 and less than ${max} bytes`)
}

// ---- published ports

interface PortUse { port: number; protocol: string; mode: 'ingress' | 'host'; service: Service }

function portsInUse(services: Service[]): PortUse[] {
  const out: PortUse[] = []
  for (const s of services) {
    for (const p of [...(s.spec.endpointSpec?.ports ?? []), ...(s.endpoint?.ports ?? [])]) {
      if (p.publishedPort) out.push({ port: p.publishedPort, protocol: p.protocol, mode: p.publishMode, service: s })
    }
  }
  return out
}

/** swarmkit's checkPortConflicts: an ingress port is the swarm's; a host port clashes only with an ingress one. */
function checkPortConflicts(spec: ServiceSpec, others: Service[]): void {
  const mine = (spec.endpointSpec?.ports ?? []).filter((p) => p.publishedPort)
  if (mine.length === 0) return
  const ingress = new Set(mine.filter((p) => p.publishMode === 'ingress').map((p) => `${p.publishedPort}/${p.protocol}`))
  const host = new Set(mine.filter((p) => p.publishMode === 'host').map((p) => `${p.publishedPort}/${p.protocol}`))
  for (const u of portsInUse(others)) {
    const k = `${u.port}/${u.protocol}`
    if (u.mode === 'host' && ingress.has(k)) {
      throw rpcError('InvalidArgument', `port '${u.port}' is already in use by service '${u.service.spec.name}' (${u.service.id}) as a host-published port`)
    }
    if (u.mode === 'ingress' && (ingress.has(k) || host.has(k))) {
      throw rpcError('InvalidArgument', `port '${u.port}' is already in use by service '${u.service.spec.name}' (${u.service.id}) as an ingress port`)
    }
  }
}

/**
 * The endpoint's ports: as the spec asks, ingress ones without a published port given the one
 * they had (same target and protocol) or the lowest free one of 30000-32767 (a published port is
 * unique per protocol across the swarm's ingress ports).
 */
function allocatePorts(spec: ServiceSpec, cur: Service | undefined, others: Service[]): EndpointPortConfig[] {
  if (!cur) checkPortConflicts(spec, others)
  const ports = spec.endpointSpec?.ports ?? []
  const used = new Set(portsInUse(others).filter((u) => u.mode === 'ingress').map((u) => `${u.port}/${u.protocol}`))
  for (const p of ports) if (p.publishedPort && p.publishMode === 'ingress') used.add(`${p.publishedPort}/${p.protocol}`)
  const previous = (cur?.endpoint?.ports ?? []).filter((p) => p.publishMode === 'ingress' && p.publishedPort)
  const out: EndpointPortConfig[] = []
  for (const p of ports) {
    if (p.publishMode !== 'ingress' || p.publishedPort) {
      out.push({ ...p })
      continue
    }
    const had = previous.find((q) => q.targetPort === p.targetPort && q.protocol === p.protocol && !used.has(`${q.publishedPort}/${q.protocol}`))
    let port = had?.publishedPort
    if (port === undefined) {
      for (let n = DYNAMIC_PORT_START; n <= DYNAMIC_PORT_END; n++) if (!used.has(`${n}/${p.protocol}`)) { port = n; break }
    }
    if (port === undefined) throw rpcError('InvalidArgument', 'could not find an available port in the dynamic port range')
    used.add(`${port}/${p.protocol}`)
    if (had) previous.splice(previous.indexOf(had), 1)
    out.push({ ...p, publishedPort: port })
  }
  return out
}

// ---- ServiceStatus

/** Running tasks; desired: replicas, or for global services the tasks desired running (one per eligible node); completed: job tasks that finished. */
export function serviceStatus(s: Service, tasks: Task[], nodes: Node[]): { runningTasks: number; desiredTasks: number; completedTasks: number } {
  const mine = tasks.filter((t) => t.serviceId === s.id)
  const ready = new Set(nodes.filter((n) => n.status.state !== 'down').map((n) => n.id))
  const running = mine.filter((t) => t.status.state === 'running' && t.desiredState === 'running' && (t.nodeId === '' || ready.has(t.nodeId))).length
  const completed = mine.filter((t) => t.status.state === 'complete').length
  const m = s.spec.mode
  let desired: number
  if ('replicated' in m) desired = m.replicated.replicas
  else if ('replicatedJob' in m) desired = m.replicatedJob.maxConcurrent
  else if ('global' in m) desired = mine.filter((t) => t.desiredState === 'running').length
  else desired = mine.filter((t) => t.desiredState === 'running' || t.desiredState === 'complete').length
  return { runningTasks: running, desiredTasks: desired, completedTasks: completed }
}

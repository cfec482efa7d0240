import type { Etcd3, IKeyValue, Watcher } from 'etcd3'
import { EngineError } from '../lib/errors.js'
import type { Node, Service, Task, Network, Secret, Config, Cluster, CaRecord, ObjectVersion } from './types.js'

/**
 * The cluster state in etcd. Every object is one JSON value under /berth/swarm/<kind>/<id>;
 * its `version.index` is the etcd modification revision of that key (never stored in the
 * value), so an update that carries a stale version fails in the same transaction that would
 * have written it: Docker's "update out of sequence". Names of services, networks, secrets and
 * configs are unique (case-insensitively, as swarmkit) through index keys
 * /berth/swarm/names/<kind>/<name> written in the same transaction as the object.
 *
 * Writers that read-modify-write (orchestrator, agent) use `modify`, which retries on a
 * conflicting write; the API passes the client's version to `update`, which never retries.
 * `commit` applies a whole plan (several puts and deletes) in one transaction, all or nothing.
 */

export const PREFIX = '/berth/swarm/'

export interface KindMap {
  nodes: Node
  services: Service
  tasks: Task
  networks: Network
  secrets: Secret
  configs: Config
}
export type Kind = keyof KindMap
export const KINDS: readonly Kind[] = ['nodes', 'services', 'tasks', 'networks', 'secrets', 'configs']

const NAMED: Partial<Record<Kind, string>> = { services: 'service', networks: 'network', secrets: 'secret', configs: 'config' }

export function objectKey(kind: Kind, id: string): string {
  return `${PREFIX}${kind}/${id}`
}
function nameKey(kind: Kind, name: string): string {
  return `${PREFIX}names/${kind}/${name.toLowerCase()}`
}
export const CLUSTER_KEY = `${PREFIX}cluster`
export const CA_KEY = `${PREFIX}ca`
export const ALIVE_PREFIX = `${PREFIX}alive/`
export const ELECTION = 'berth-swarm-leader'

function nameOf(kind: Kind, obj: KindMap[Kind]): string | undefined {
  if (!NAMED[kind]) return undefined
  return (obj as { spec: { name: string } }).spec.name
}

export function outOfSequence(): EngineError {
  return new EngineError('Conflict', 'ERR_SWARM_OUT_OF_SEQUENCE', 'update out of sequence')
}

function nameConflict(kind: Kind, name: string): EngineError {
  return new EngineError('Conflict', 'ERR_SWARM_NAME_CONFLICT', `name conflicts with an existing object: ${NAMED[kind]} ${name} already exists`)
}

function notFound(kind: Kind, id: string): EngineError {
  const what = { nodes: 'node', services: 'service', tasks: 'task', networks: 'network', secrets: 'secret', configs: 'config' }[kind]
  return new EngineError('NotFound', `ERR_SWARM_${what.toUpperCase()}_NOT_FOUND`, `${what} ${id} not found`)
}

function decode<T extends { version: ObjectVersion }>(kv: IKeyValue): T {
  const obj = JSON.parse(kv.value.toString()) as T
  obj.version = { index: Number(kv.mod_revision) }
  return obj
}

function encode(obj: { version?: ObjectVersion }): string {
  const { version: _v, ...rest } = obj
  return JSON.stringify(rest)
}

/** One step of a plan applied by `commit`. `expect` is the version the writer read (0: must not exist). */
export type StoreOp =
  | { op: 'put'; kind: Kind; obj: KindMap[Kind]; expect?: number }
  | { op: 'delete'; kind: Kind; id: string; expect?: number }

export interface WatchEvent {
  kind: Kind | 'cluster' | 'ca' | 'alive'
  type: 'put' | 'delete'
  id: string
  /** The object after a put (with its new version), undefined on delete. */
  obj?: unknown
  revision: number
}

export class ClusterStore {
  constructor(readonly client: Etcd3) {}

  async get<K extends Kind>(kind: K, id: string): Promise<KindMap[K]> {
    const res = await this.client.get(objectKey(kind, id)).exec()
    const kv = res.kvs[0]
    if (!kv) throw notFound(kind, id)
    return decode<KindMap[K]>(kv)
  }

  async find<K extends Kind>(kind: K, id: string): Promise<KindMap[K] | undefined> {
    const res = await this.client.get(objectKey(kind, id)).exec()
    return res.kvs[0] ? decode<KindMap[K]>(res.kvs[0]) : undefined
  }

  /** The ID under which a named object (service, network, secret, config) is stored. */
  async idByName(kind: Kind, name: string): Promise<string | undefined> {
    return (await this.client.get(nameKey(kind, name)).string()) ?? undefined
  }

  async list<K extends Kind>(kind: K): Promise<KindMap[K][]> {
    return (await this.listAt(kind)).items
  }

  /** All objects of a kind and the store revision they were read at (to watch from revision + 1). */
  async listAt<K extends Kind>(kind: K): Promise<{ items: KindMap[K][]; revision: number }> {
    const res = await this.client.getAll().prefix(`${PREFIX}${kind}/`).exec()
    return { items: res.kvs.map((kv) => decode<KindMap[K]>(kv)), revision: Number(res.header.revision) }
  }

  /** Create an object; its name (for named kinds) must be free and its ID unused. */
  async create<K extends Kind>(kind: K, obj: KindMap[K]): Promise<KindMap[K]> {
    await this.commit([{ op: 'put', kind, obj, expect: 0 }])
    return this.get(kind, obj.id)
  }

  /**
   * Replace an object the caller read at `version` (the API's `?version=`): fails with
   * "update out of sequence" when someone wrote it since.
   */
  async update<K extends Kind>(kind: K, obj: KindMap[K], version: number): Promise<KindMap[K]> {
    await this.commit([{ op: 'put', kind, obj, expect: version }])
    return this.get(kind, obj.id)
  }

  /** Read-modify-write with retry on concurrent writes. `fn` returns undefined to write nothing. */
  async modify<K extends Kind>(kind: K, id: string, fn: (cur: KindMap[K]) => KindMap[K] | undefined, attempts = 20): Promise<KindMap[K]> {
    for (let i = 0; ; i++) {
      const cur = await this.get(kind, id)
      const next = fn(structuredClone(cur))
      if (!next) return cur
      try {
        return await this.update(kind, next, cur.version.index)
      } catch (err) {
        if (!(err instanceof EngineError && err.code === 'ERR_SWARM_OUT_OF_SEQUENCE') || i >= attempts) throw err
      }
    }
  }

  async remove(kind: Kind, id: string, version?: number): Promise<void> {
    await this.commit([{ op: 'delete', kind, id, ...(version !== undefined ? { expect: version } : {}) }])
  }

  /**
   * Apply several writes atomically. A put with `expect: 0` must create, one with a version must
   * match it; a named object's name index moves with it. Throws "update out of sequence" (or a
   * name conflict, or not found) and writes nothing when any condition fails.
   */
  async commit(ops: StoreOp[], opts: { guardKey?: string } = {}): Promise<number> {
    if (ops.length === 0) return 0
    // Names: look up the current records of renamed or deleted named objects to move their index.
    const prevs = new Map<string, KindMap[Kind] | undefined>()
    for (const o of ops) {
      const id = o.op === 'put' ? o.obj.id : o.id
      if (NAMED[o.kind] && !(o.op === 'put' && o.expect === 0)) prevs.set(objectKey(o.kind, id), await this.find(o.kind, id))
    }
    const conds: [string, 'Create' | 'Mod', '==' | '>', number][] = []
    const txn = { and: (k: string, col: 'Create' | 'Mod', cmp: '==' | '>', v: number) => conds.push([k, col, cmp, v]) }
    const then: ReturnType<Etcd3['put']>[] = []
    const dels: ReturnType<Etcd3['delete']>[] = []
    for (const o of ops) {
      const id = o.op === 'put' ? o.obj.id : o.id
      const key = objectKey(o.kind, id)
      const prev = prevs.get(key)
      if (o.expect === 0) txn.and(key, 'Create', '==', 0)
      else if (o.expect !== undefined) txn.and(key, 'Mod', '==', o.expect)
      else if (prev) txn.and(key, 'Mod', '==', prev.version.index)
      else if (o.op === 'delete') txn.and(key, 'Create', '>', 0)
      if (o.op === 'put') {
        then.push(this.client.put(key).value(encode(o.obj)))
        const name = nameOf(o.kind, o.obj)
        const prevName = prev ? nameOf(o.kind, prev) : undefined
        if (name !== undefined && name.toLowerCase() !== prevName?.toLowerCase()) {
          txn.and(nameKey(o.kind, name), 'Create', '==', 0)
          then.push(this.client.put(nameKey(o.kind, name)).value(id))
          if (prevName !== undefined) dels.push(this.client.delete().key(nameKey(o.kind, prevName)))
        }
      } else {
        dels.push(this.client.delete().key(key))
        const prevName = prev ? nameOf(o.kind, prev) : undefined
        if (prevName !== undefined) dels.push(this.client.delete().key(nameKey(o.kind, prevName)))
      }
    }
    // Fencing: a leader's writes only apply while its election key exists.
    if (opts.guardKey) conds.push([opts.guardKey, 'Create', '>', 0])
    if (conds.length === 0) conds.push([CLUSTER_KEY, 'Create', '>', -1]) // always true
    const [first, ...more] = conds
    const t = this.client.if(...first!)
    for (const c of more) t.and(...c)
    const res = await t.then(...then, ...dels).commit()
    if (res.succeeded) return Number(res.header.revision)
    if (opts.guardKey && (await this.client.get(opts.guardKey).exec()).kvs.length === 0) {
      throw new EngineError('Unavailable', 'ERR_SWARM_NOT_LEADER', 'this manager is no longer the leader')
    }
    throw await this.explainFailure(ops, prevs)
  }

  private async explainFailure(ops: StoreOp[], prevs: Map<string, KindMap[Kind] | undefined>): Promise<EngineError> {
    for (const o of ops) {
      const id = o.op === 'put' ? o.obj.id : o.id
      const cur = await this.find(o.kind, id)
      if (o.op === 'put' && o.expect === 0 && cur) return new EngineError('Conflict', 'ERR_SWARM_ID_CONFLICT', `${o.kind.slice(0, -1)} ${id} already exists`)
      if (o.op === 'delete' && !cur) return notFound(o.kind, id)
      if (o.op === 'put' && o.expect && !cur) return notFound(o.kind, id)
      if (o.op === 'put') {
        const name = nameOf(o.kind, o.obj)
        const prev = prevs.get(objectKey(o.kind, id))
        if (name !== undefined && (!prev || nameOf(o.kind, prev)?.toLowerCase() !== name.toLowerCase())) {
          const holder = await this.idByName(o.kind, name)
          if (holder && holder !== id) return nameConflict(o.kind, name)
        }
      }
    }
    return outOfSequence()
  }

  async getCluster(): Promise<Cluster | undefined> {
    const kv = (await this.client.get(CLUSTER_KEY).exec()).kvs[0]
    return kv ? decode<Cluster>(kv) : undefined
  }

  /** Write the cluster object; `version` 0 creates it (swarm init), otherwise must match. */
  async putCluster(c: Cluster, version: number): Promise<Cluster> {
    const txn = this.client.if(CLUSTER_KEY, version === 0 ? 'Create' : 'Mod', '==', version)
    const res = await txn.then(this.client.put(CLUSTER_KEY).value(encode(c))).commit()
    if (!res.succeeded) {
      if (version === 0) throw new EngineError('Unavailable', 'ERR_SWARM_EXISTS', 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.')
      throw outOfSequence()
    }
    return (await this.getCluster())!
  }

  async getCa(): Promise<CaRecord | undefined> {
    const kv = (await this.client.get(CA_KEY).exec()).kvs[0]
    return kv ? decode<CaRecord>(kv) : undefined
  }

  async putCa(ca: CaRecord, version: number): Promise<CaRecord> {
    const txn = this.client.if(CA_KEY, version === 0 ? 'Create' : 'Mod', '==', version)
    const res = await txn.then(this.client.put(CA_KEY).value(encode(ca))).commit()
    if (!res.succeeded) throw outOfSequence()
    return (await this.getCa())!
  }

  /**
   * Watch every change under the swarm prefix from `fromRevision` (inclusive), in order, one
   * callback per etcd watch response (a transaction's writes arrive together). Returns the
   * watcher; `cancel()` it when done.
   */
  async watch(fromRevision: number | undefined, onEvents: (events: WatchEvent[]) => void, onError?: (err: Error) => void): Promise<Watcher> {
    let b = this.client.watch().prefix(PREFIX)
    if (fromRevision !== undefined) b = b.startRevision(String(fromRevision))
    const w = await b.create()
    w.on('data', (res) => {
      const out: WatchEvent[] = []
      for (const e of res.events) {
        const ev = toEvent(e.type === 'Delete' ? 'delete' : 'put', e.kv)
        if (ev) out.push(ev)
      }
      if (out.length) onEvents(out)
    })
    if (onError) w.on('error', onError)
    return w
  }
}

function toEvent(type: 'put' | 'delete', kv: IKeyValue): WatchEvent | undefined {
  const key = kv.key.toString()
  if (!key.startsWith(PREFIX)) return undefined
  const rest = key.slice(PREFIX.length)
  const revision = Number(kv.mod_revision)
  if (rest === 'cluster' || rest === 'ca') {
    return { kind: rest, type, id: rest, revision, ...(type === 'put' ? { obj: decode(kv) } : {}) }
  }
  const slash = rest.indexOf('/')
  const head = rest.slice(0, slash)
  const id = rest.slice(slash + 1)
  if (head === 'alive') return { kind: 'alive', type, id, revision, ...(type === 'put' ? { obj: JSON.parse(kv.value.toString()) } : {}) }
  if (!(KINDS as readonly string[]).includes(head)) return undefined
  return { kind: head as Kind, type, id, revision, ...(type === 'put' ? { obj: decode(kv) } : {}) }
}

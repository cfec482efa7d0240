import type { Plan } from './plan.js'
import type { StoreOp, Kind, KindMap } from './store.js'
import type { Network, Node, Service, Task } from './types.js'

/**
 * Turns a plan into store writes: each touched object is copied once, every action on it is
 * applied to the copy, and the write expects the version the plan was computed from. The
 * manager commits the result in one transaction; the in-memory simulator of the tests applies
 * the same writes, so both follow one set of rules.
 */
export interface ObjectLookup {
  task(id: string): Task | undefined
  service(id: string): Service | undefined
  node(id: string): Node | undefined
  network?(id: string): Network | undefined
}

export function planToOps(plan: Plan, lookup: ObjectLookup, now: number): StoreOp[] {
  const iso = new Date(now).toISOString()
  const touched = new Map<string, { kind: Kind; obj: KindMap[Kind]; expect: number; deleted?: boolean }>()
  const edit = <K extends Kind>(kind: K, id: string, version: number, find: (id: string) => KindMap[K] | undefined): KindMap[K] | undefined => {
    const key = `${kind}/${id}`
    const hit = touched.get(key)
    if (hit) return hit.deleted ? undefined : (hit.obj as KindMap[K])
    const cur = find(id)
    if (!cur) return undefined
    const copy = structuredClone(cur)
    copy.updatedAt = iso
    touched.set(key, { kind, obj: copy, expect: version })
    return copy
  }
  const task = (id: string, v: number) => edit('tasks', id, v, lookup.task)
  const creates: StoreOp[] = []
  for (const a of plan.actions) {
    switch (a.type) {
      case 'create-task':
        creates.push({ op: 'put', kind: 'tasks', obj: a.task, expect: 0 })
        break
      case 'shutdown-task': {
        const t = task(a.taskId, a.version)
        if (t) {
          t.desiredState = 'shutdown'
          if (a.final) t.noRestart = true
        }
        break
      }
      case 'assign-task': {
        const t = task(a.taskId, a.version)
        if (t) {
          t.nodeId = a.nodeId
          t.status = { timestamp: iso, state: 'assigned', message: a.reason }
        }
        break
      }
      case 'task-message': {
        const t = task(a.taskId, a.version)
        if (t) t.status = { ...t.status, message: a.message }
        break
      }
      case 'delete-task': {
        const key = `tasks/${a.taskId}`
        const prev = touched.get(key)
        touched.set(key, { kind: 'tasks', obj: prev?.obj ?? ({ id: a.taskId } as Task), expect: prev?.expect ?? a.version, deleted: true })
        break
      }
      case 'update-status': {
        const s = edit('services', a.serviceId, a.version, lookup.service)
        if (s) s.updateStatus = a.updateStatus
        break
      }
      case 'rollback': {
        const s = edit('services', a.serviceId, a.version, lookup.service)
        if (s) {
          const cur = s.spec
          s.spec = a.spec
          s.previousSpec = cur
          s.specRevision += 1
          s.updateStatus = a.updateStatus
        }
        break
      }
      case 'node-state': {
        const n = edit('nodes', a.nodeId, a.version, lookup.node)
        if (n) n.status = { ...n.status, state: a.state, ...(a.message ? { message: a.message } : {}) }
        break
      }
      case 'allocate-network': {
        const n = edit('networks', a.networkId, a.version, (id) => lookup.network?.(id))
        if (n) {
          n.vni = a.vni
          n.spec = { ...n.spec, options: { ...n.spec.options, 'com.docker.network.driver.overlay.vxlanid_list': String(a.vni) }, ipam: { ...n.spec.ipam, driver: n.spec.ipam.driver || 'default', config: [{ subnet: a.subnet, gateway: a.gateway }] } }
        }
        break
      }
      case 'allocate-service': {
        const s = edit('services', a.serviceId, a.version, lookup.service)
        if (s) s.endpoint = a.endpoint
        break
      }
      case 'allocate-task': {
        const t = task(a.taskId, a.version)
        if (t) {
          t.networksAttachments = a.attachments
          if (t.status.state === 'new') t.status = { timestamp: iso, state: 'pending', message: 'pending task scheduling' }
        }
        break
      }
      case 'allocate-node': {
        const n = edit('nodes', a.nodeId, a.version, lookup.node)
        if (n) n.attachments = a.attachments
        break
      }
    }
  }
  const ops: StoreOp[] = [...creates]
  for (const t of touched.values()) {
    if (t.deleted) ops.push({ op: 'delete', kind: t.kind, id: t.obj.id, expect: t.expect })
    else ops.push({ op: 'put', kind: t.kind, obj: t.obj, expect: t.expect })
  }
  return ops
}

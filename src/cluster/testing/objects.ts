import type { Node, Service, Task, ServiceSpec, TaskState, NodeRole } from '../types.js'
import { newId } from '../ids.js'

const T0 = '2026-01-01T00:00:00.000Z'

/** Test builders for domain objects (plain data, no store). */
export function makeNode(hostname: string, o: Partial<{ id: string; role: NodeRole; state: Node['status']['state']; availability: Node['spec']['availability']; labels: Record<string, string>; engineLabels: Record<string, string>; cpus: number; memory: number }> = {}): Node {
  return {
    id: o.id ?? `node-${hostname}`,
    version: { index: 1 },
    createdAt: T0,
    updatedAt: T0,
    spec: { labels: o.labels ?? {}, role: o.role ?? 'worker', availability: o.availability ?? 'active' },
    description: {
      hostname,
      platform: { architecture: 'x86_64', os: 'linux' },
      resources: { nanoCPUs: (o.cpus ?? 2) * 1e9, memoryBytes: o.memory ?? 4 * 2 ** 30 },
      engine: { engineVersion: '0.1.0', labels: o.engineLabels ?? {} },
    },
    status: { state: o.state ?? 'ready', addr: '10.0.0.1' },
  }
}

export function makeServiceSpec(name: string, o: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    labels: {},
    taskTemplate: { containerSpec: { image: 'busybox' } },
    mode: { replicated: { replicas: 1 } },
    ...o,
  }
}

export function makeService(name: string, o: Partial<ServiceSpec> & { id?: string; specRevision?: number } = {}): Service {
  const { id, specRevision, ...spec } = o
  return { id: id ?? `svc-${name}`, version: { index: 1 }, createdAt: T0, updatedAt: T0, spec: makeServiceSpec(name, spec), specRevision: specRevision ?? 1 }
}

export function makeTask(svc: Service, o: Partial<{ id: string; slot: number; nodeId: string; state: TaskState; desired: TaskState; at: number; specRevision: number; exitCode: number }> = {}): Task {
  return {
    id: o.id ?? newId(),
    version: { index: 1 },
    createdAt: T0,
    updatedAt: T0,
    labels: {},
    spec: svc.spec.taskTemplate,
    serviceId: svc.id,
    serviceName: svc.spec.name,
    specRevision: o.specRevision ?? svc.specRevision,
    slot: o.slot ?? 1,
    nodeId: o.nodeId ?? '',
    status: {
      timestamp: new Date(o.at ?? 0).toISOString(),
      state: o.state ?? 'running',
      message: '',
      ...(o.exitCode !== undefined ? { containerStatus: { containerId: 'c', pid: 0, exitCode: o.exitCode } } : {}),
    },
    desiredState: o.desired ?? 'running',
  }
}

import type { AgentEngine, TaskContainer, TaskContainerSpec } from '../agent.js'

/** An in-memory AgentEngine: containers are records; tests make them exit. */
export class FakeEngine implements AgentEngine {
  readonly containers = new Map<string, TaskContainer & { spec: TaskContainerSpec }>()
  readonly calls: string[] = []
  failCreate: string | undefined
  private seq = 0

  async listContainers(labels: Record<string, string>): Promise<TaskContainer[]> {
    return [...this.containers.values()].filter((c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v)).map((c) => ({ ...c }))
  }

  async createContainer(spec: TaskContainerSpec): Promise<string> {
    this.calls.push(`create ${spec.name}`)
    if (this.failCreate) throw new Error(this.failCreate)
    if ([...this.containers.values()].some((c) => c.name === spec.name)) throw new Error(`Conflict. The container name "/${spec.name}" is already in use`)
    const id = `c${String(++this.seq).padStart(3, '0')}`
    this.containers.set(id, { id, name: spec.name, labels: spec.labels, state: 'created', exitCode: 0, pid: 0, spec })
    return id
  }

  async startContainer(id: string): Promise<void> {
    this.calls.push(`start ${id}`)
    const c = this.get(id)
    c.state = 'running'
    c.pid = 1000 + Number(id.slice(1))
    const test = c.spec.healthCheck?.test
    if (test && test.length > 0 && test[0] !== 'NONE') c.health = 'starting'
  }

  /** The healthcheck's verdict on a running container. */
  setHealth(id: string, h: 'starting' | 'healthy' | 'unhealthy'): void {
    this.get(id).health = h
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.calls.push(`stop ${id} ${timeoutSeconds}`)
    const c = this.containers.get(id)
    if (c && c.state === 'running') this.exit(id, 143)
  }

  async removeContainer(id: string): Promise<void> {
    this.calls.push(`remove ${id}`)
    this.containers.delete(id)
  }

  async inspectContainer(id: string): Promise<TaskContainer | undefined> {
    const c = this.containers.get(id)
    return c ? { ...c } : undefined
  }

  exit(id: string, code: number): void {
    const c = this.get(id)
    c.state = 'exited'
    c.exitCode = code
    c.pid = 0
  }

  running(): (TaskContainer & { spec: TaskContainerSpec })[] {
    return [...this.containers.values()].filter((c) => c.state === 'running')
  }

  private get(id: string) {
    const c = this.containers.get(id)
    if (!c) throw new Error(`No such container: ${id}`)
    return c
  }
}

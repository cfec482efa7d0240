/**
 * Fakes of the container domain's dependencies (runtime, clock, host, images; the OS is
 * src/platform/fake.ts's FakePlatform)
 * for unit tests of the verbs: no root, no daemon, no conmon. The fake runtime behaves as
 * conmon does where the verbs can see it: a kill that ends the process writes the exit file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Digest } from '../../lib/digest.js'
import { internal, notFound } from '../../lib/errors.js'
import type { MonitorOptions, RuntimeRef } from '../../runtime/monitor.js'
import type { HostInfo } from '../../runtime/spec.js'
import { EventBus } from '../events/bus.js'
import { FakePlatform } from '../../platform/fake.js'
import type { Clock, ContainerDeps, ContainerRuntime, ImageLookup } from './deps.js'
import { ContainerService } from './service.js'
import { ContainerStore } from './store.js'

export const IMAGE_ID = `sha256:${'a'.repeat(64)}` as Digest
const LAYER = `sha256:${'b'.repeat(64)}` as Digest

export class FakeRuntime implements ContainerRuntime {
  readonly created = new Map<string, MonitorOptions>()
  readonly running = new Set<string>()
  readonly calls: string[] = []
  /** Make the named step throw once (`create`, `start`, ...). */
  failNext = new Map<string, string>()
  #pid = 1000

  #maybeFail(step: string): void {
    const m = this.failNext.get(step)
    if (m !== undefined) { this.failNext.delete(step); throw internal(step === 'create' ? 'ERR_RUNTIME_CREATE' : 'ERR_RUNTIME_START', m) }
  }

  async create(o: MonitorOptions): Promise<{ pid: number }> {
    this.calls.push(`create ${o.id}`)
    this.#maybeFail('create')
    this.created.set(o.id, o)
    await writeFile(o.conmonPidFile, String(process.pid))
    return { pid: ++this.#pid }
  }

  async start(_rt: RuntimeRef, id: string): Promise<void> {
    this.calls.push(`start ${id}`)
    this.#maybeFail('start')
    this.running.add(id)
  }

  async kill(_rt: RuntimeRef, id: string, signal: string): Promise<boolean> {
    this.calls.push(`kill ${id} ${signal}`)
    if (!this.running.has(id)) return false
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await this.exit(id, signal === 'SIGKILL' ? 137 : 143)
    return true
  }

  /** The container's process ends with `code`: conmon writes the exit file. */
  async exit(id: string, code: number): Promise<void> {
    const o = this.created.get(id)
    if (!o) throw new Error(`fake runtime: ${id} was never created`)
    this.running.delete(id)
    await writeFile(join(o.exitDir, id), String(code))
  }

  async delete(_rt: RuntimeRef, id: string): Promise<void> {
    this.calls.push(`delete ${id}`)
    this.running.delete(id)
    this.created.delete(id)
  }

  async pause(_rt: RuntimeRef, id: string, pause: boolean): Promise<void> { this.calls.push(`${pause ? 'pause' : 'resume'} ${id}`) }
  async update(_rt: RuntimeRef, id: string): Promise<void> { this.calls.push(`update ${id}`) }
  async unlimitPids(): Promise<void> {}
  async hasState(_rt: RuntimeRef, id: string): Promise<boolean> { return this.created.has(id) }
  async compiledSeccomp(): Promise<Buffer | undefined> { return undefined }
  /** No fake monitor outlives its call: berthd start-up sees every monitor gone. */
  alive(_pid: number): boolean { return false }
}

/** A clock whose timers run only when the test advances it. */
export class FakeClock implements Clock {
  #now = Date.now()
  #timers: Array<{ at: number; fn: () => void; t: NodeJS.Timeout }> = []
  now(): number { return this.#now }
  setTimeout(fn: () => void, ms: number): NodeJS.Timeout {
    const t = { ref: () => t, unref: () => t, hasRef: () => false, refresh: () => t, [Symbol.toPrimitive]: () => 0 } as unknown as NodeJS.Timeout
    this.#timers.push({ at: this.#now + ms, fn, t })
    return t
  }
  clearTimeout(t: NodeJS.Timeout): void { this.#timers = this.#timers.filter((x) => x.t !== t) }
  sleep(ms: number): Promise<void> { return new Promise((r) => this.setTimeout(r, ms)) }
  /** Delays of the pending timers, soonest first. */
  pending(): number[] { return this.#timers.map((x) => x.at - this.#now).sort((a, b) => a - b) }
  advance(ms: number): void {
    this.#now += ms
    const due = this.#timers.filter((x) => x.at <= this.#now)
    this.#timers = this.#timers.filter((x) => x.at > this.#now)
    for (const x of due) x.fn()
  }
}

export function fakeHost(over: Partial<HostInfo['features']> = {}): HostInfo {
  return {
    capabilities: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID'],
    cgroup2: true, numCpus: 2, cpusetCpus: '0-1', cpusetMems: '0',
    features: { memoryLimit: true, swapLimit: true, memoryReservation: true, memorySwappiness: false, oomKillDisable: false, pidsLimit: true, cpuShares: true, cpuCfs: true, cpuRealtime: false, cpuset: true, blkioWeight: true, seccomp: true, ...over },
    inUserNamespace: false, kernelRelease: '6.1.0', goArch: 'amd64', extraMaskedPaths: [],
    sysctls: { pingGroupRange: true, unprivilegedPortStart: true }, hostNetNs: undefined,
  }
}

export const fakeImages: ImageLookup = {
  resolve(ref: string) {
    if (ref !== 'busybox' && ref !== IMAGE_ID) throw notFound('ERR_IMAGE_NOT_FOUND', `No such image: ${ref}`)
    return { record: { id: IMAGE_ID, layers: [LAYER], size: 1000 }, config: { config: { Cmd: ['sh'], Env: ['PATH=/bin'] } } }
  },
}

export interface Harness {
  svc: ContainerService
  runtime: FakeRuntime
  /** The platform fake (src/platform/fake.ts): its mount table shows what is mounted. */
  platform: FakePlatform
  /** Mount points now in the fake mount table. */
  mounted(): string[]
  clock: FakeClock
  events: EventBus
  root: string
  cleanup(): Promise<void>
}

/** A container service over temp directories and the fakes. */
export async function harness(opts: { host?: HostInfo; deps?: Partial<ContainerDeps> } = {}): Promise<Harness> {
  const root = await mkdtemp(join(tmpdir(), 'berth-ctr-test-'))
  const runtime = new FakeRuntime()
  const platform = new FakePlatform()
  // Copy-up of image content into new volumes (`cp -a`) succeeds.
  platform.spawner.on('cp', { code: 0 })
  const clock = new FakeClock()
  const events = new EventBus()
  const host = opts.host ?? fakeHost()
  const svc = new ContainerService({
    store: new ContainerStore(join(root, 'data')),
    images: fakeImages,
    layers: { lowerDirs: () => [join(root, 'lower')] },
    events,
    log: () => {},
    execRoot: join(root, 'exec'),
    runtimes: { crun: { name: 'crun', path: '/bin/false', root: join(root, 'exec', 'runtime', 'crun') } },
    defaultRuntime: 'crun',
    runtime, platform, clock, host: () => host, hostname: () => 'testhost',
    ...opts.deps,
  })
  await svc.init()
  return { svc, runtime, platform, mounted: () => platform.mounts.table.map((m) => m.target), clock, events, root, cleanup: async () => { svc.close(); await rm(root, { recursive: true, force: true }) } }
}

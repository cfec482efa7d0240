import type { Digest } from '../../lib/digest.js'
import type { RuntimeRef } from '../../runtime/monitor.js'
import { SizeCache } from './caches.js'
import { createContainer, type CreateRequest, type CreateResult } from './create.js'
import { makeContext } from './defaults.js'
import type { ContainerDeps, Ctx } from './deps.js'
import { closeContainers, initContainers } from './exits.js'
import { killContainer } from './kill.js'
import type { ContainerLayout } from './layout.js'
import { connectNetwork, disconnectNetwork } from './network-ops.js'
import { pauseContainer } from './pause.js'
import { removeContainer, type RemoveOptions } from './remove.js'
import { renameContainer } from './rename.js'
import { restartContainer } from './restart.js'
import { removeLink } from './links.js'
import { layerPaths, withRootfs } from './rootfs.js'
import { startContainer, type StartResult } from './start.js'
import { isRunning, type AttachHook, type ExitResult, type LifecycleListener } from './state.js'
import { stopContainer, type StopResult } from './stop.js'
import type { ContainerStore } from './store.js'
import type { ContainerRecord } from './types.js'
import { updateContainer, type UpdateRequest } from './update.js'
import { waitContainer } from './wait.js'

export type { AttachHook, ContainerDeps, CreateRequest, CreateResult, LifecycleListener, RemoveOptions, StartResult, StopResult, UpdateRequest }
export { parseSignal } from './signals.js'

/**
 * The container domain's facade: each method delegates to its verb (create.ts, start.ts...),
 * over one context (dependencies, on-disk layout, shared state). The lifecycle runs on conmon +
 * the OCI runtime: no Node process per container; conmon holds stdio, writes the log and the
 * exit code, and outlives berthd, which watches the exit directory and re-reads all at start.
 */
export class ContainerService {
  readonly #ctx: Ctx
  readonly #sizes = new SizeCache()

  constructor(readonly deps: ContainerDeps) {
    this.#ctx = makeContext(deps)
    // Network connect/disconnect are container operations: the network's own entry points call these.
    deps.network?.useContainerOps?.({
      connect: (ctr, net, cfg) => this.connectNetwork(ctr, net, cfg),
      disconnect: (ctr, net, force) => this.disconnectNetwork(ctr, net, force),
    })
  }

  get store(): ContainerStore { return this.deps.store }
  /** The on-disk layout (for the container domain's own modules: attach, top, logs...). */
  get layout(): ContainerLayout { return this.#ctx.layout }

  init(): Promise<void> { return initContainers(this.#ctx) }
  close(): void { closeContainers(this.#ctx) }

  addListener(l: LifecycleListener): void {
    this.#ctx.state.listeners.push(l)
    for (const rec of this.deps.store.all()) if (isRunning(rec)) l.running(rec)
  }

  resolve(ref: string): ContainerRecord { return this.deps.store.resolve(ref) }

  /** Containers created from an image (for rmi conflicts). */
  usersOf(imageId: string): Array<{ id: string; running: boolean }> {
    return this.deps.store.all().filter((c) => c.imageId === imageId).map((c) => ({ id: c.id, running: isRunning(c) }))
  }

  sizes(rec: ContainerRecord): Promise<{ sizeRw: number; sizeRootFs: number }> { return this.#sizes.sizes(this.#ctx, rec) }
  /** Bytes in the writable layer now (no cache): what removing the container frees. */
  writableSize(rec: ContainerRecord): Promise<number> { return this.#ctx.mounts.diskUsage(this.#ctx.layout.upper(rec.id)).catch(() => 0) }
  layerPaths(rec: ContainerRecord): { upper: string; lower: string[] } { return layerPaths(this.#ctx, rec) }
  withRootfs<T>(ref: string, fn: (rootfs: string, rec: ContainerRecord) => Promise<T>, opts: { volumes?: boolean } = {}): Promise<T> { return withRootfs(this.#ctx, ref, fn, opts) }

  // ---- verbs

  create(req: CreateRequest): Promise<CreateResult> { return createContainer(this.#ctx, req) }
  start(ref: string, opts: { signal?: AbortSignal } = {}): Promise<StartResult> { return startContainer(this.#ctx, ref, opts) }
  stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<StopResult> { return stopContainer(this.#ctx, ref, opts) }
  kill(ref: string, signal = 'SIGKILL'): Promise<void> { return killContainer(this.#ctx, ref, signal) }
  restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> { return restartContainer(this.#ctx, ref, opts) }
  pause(ref: string, pause: boolean): Promise<void> { return pauseContainer(this.#ctx, ref, pause) }
  /** Docker's wait conditions: not-running (default), next-exit, removed. */
  wait(ref: string, condition = 'not-running', signal?: AbortSignal): Promise<ExitResult> { return waitContainer(this.#ctx, ref, condition, signal) }
  update(ref: string, u: UpdateRequest): Promise<{ warnings: string[] }> { return updateContainer(this.#ctx, ref, u) }
  remove(ref: string, opts: RemoveOptions = {}): Promise<void> { return removeContainer(this.#ctx, ref, opts) }
  rename(ref: string, newName: string): Promise<void> { return renameContainer(this.#ctx, ref, newName) }
  removeLink(name: string): Promise<void> { return removeLink(this.#ctx, name) }
  connectNetwork(ctrRef: string, netRef: string, cfg: { aliases: string[]; ipv4Address: string; macAddress: string }): Promise<void> { return connectNetwork(this.#ctx, ctrRef, netRef, cfg) }
  disconnectNetwork(ctrRef: string, netRef: string, force: boolean): Promise<void> { return disconnectNetwork(this.#ctx, ctrRef, netRef, force) }

  // ---- streams and the current run's runtime

  /** Register a stream to connect before the container starts (attach before start). */
  addAttachHook(id: string, hook: AttachHook): () => void {
    const hooks = this.#ctx.state.attachHooks
    const list = hooks.get(id) ?? []
    list.push(hook)
    hooks.set(id, list)
    return () => {
      const l = hooks.get(id)
      if (!l) return
      const i = l.indexOf(hook)
      if (i >= 0) l.splice(i, 1)
      if (l.length === 0) hooks.delete(id)
    }
  }

  runtimeOf(rec: ContainerRecord): RuntimeRef { return this.#ctx.state.runtimeOf(rec) }
  /** conmon's attach socket of the current run. */
  attachSocketPath(id: string): string { return this.#ctx.layout.attachSocket(id) }
  /** conmon's control FIFO of the current run (terminal resize, log reopen). */
  controlPath(id: string): string { return this.#ctx.layout.controlFifo(id) }
  /** The OCI bundle of a running container. */
  bundleDir(id: string): string { return this.#ctx.layout.bundle(id) }
  /** Where a container's rootfs is mounted while it runs. */
  rootfsDir(id: string): string { return this.#ctx.layout.merged(id) }

  /** The runtime spec of a running container's current run: the template of its exec processes. */
  async runtimeSpec(id: string): Promise<string> {
    const { readFile } = await import('node:fs/promises')
    return readFile(this.#ctx.layout.specFile(id), 'utf8')
  }

  /** A container event, with Docker's attributes (labels, image, name) and `extra`. */
  emit(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void { this.#ctx.state.emit(rec, action, extra) }
}

export type { Digest }

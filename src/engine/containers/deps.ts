import type { LayerStore } from '../../core/layer-store.js'
import type { Digest } from '../../lib/digest.js'
import type { NetworkHooks } from '../../network/types.js'
import type { Platform } from '../../platform/platform.js'
import type { RuntimeRef, MonitorOptions } from '../../runtime/monitor.js'
import type { HostInfo } from '../../runtime/spec.js'
import type { EventBus } from '../events/bus.js'
import type { ContainerConfigFields } from '../images/types.js'
import type { VolumeService } from '../volumes/service.js'
import type { ContainerLayout } from './layout.js'
import type { LogDefaults } from './log-rotate.js'
import type { SeccompCache } from './caches.js'
import type { SharedState } from './state.js'
import type { ContainerStore } from './store.js'

/** What the container domain needs of the images: a reference resolved to its record and config. */
export interface ImageLookup {
  resolve(ref: string): { record: { id: Digest; layers: Digest[]; size: number }; config: { config?: ContainerConfigFields } }
}

/** The image layers under a container's upper dir (chain ID → lower dirs, top first). */
export interface LayerLookup {
  lowerDirs(chainId: string): string[]
}

/** The volumes the container domain makes, mounts and removes. */
export type VolumeAccess = Pick<VolumeService, 'has' | 'create' | 'remove' | 'dataPath' | 'mountFor' | 'unmountFor'>

/**
 * The OCI runtime under conmon, as the container verbs use it (src/runtime/monitor.ts). Every
 * call is for one container; `rt` says which runtime binary and state root.
 */
export interface ContainerRuntime {
  /** conmon + `<runtime> create`: the container exists, not started; resolves with its PID. */
  create(o: MonitorOptions): Promise<{ pid: number }>
  start(rt: RuntimeRef, id: string): Promise<void>
  /**
   * `pid`: the container's init, given when signalling it alone reaches what was asked (see
   * `directPid`): the runtime may send the signal itself instead of running `<runtime> kill`.
   */
  kill(rt: RuntimeRef, id: string, signal: string, all?: boolean, pid?: number): Promise<boolean>
  delete(rt: RuntimeRef, id: string, force?: boolean): Promise<void>
  pause(rt: RuntimeRef, id: string, pause: boolean): Promise<void>
  /** Apply new cgroup limits from a resources file. */
  update(rt: RuntimeRef, id: string, resourcesFile: string): Promise<void>
  /** Lift a PIDs limit (the runtime cannot write an unlimited one). */
  unlimitPids(cgroupPath: string): Promise<void>
  /** Whether the runtime still has state for the container. */
  hasState(rt: RuntimeRef, id: string): Promise<boolean>
  /** The seccomp filter the runtime compiled for the container (crun), if it kept one. */
  compiledSeccomp(rt: RuntimeRef, id: string): Promise<Buffer | undefined>
  /** Whether a process (conmon) is alive. */
  alive(pid: number): boolean
}

/** Mounts of a container's root filesystem and the copy-up of image content into volumes. */
export interface ContainerMounts {
  mountOverlay(lower: string[], upper: string, work: string, target: string): Promise<void>
  unmount(target: string): Promise<void>
  isMountPoint(target: string): Promise<boolean>
  /** Copy a directory's contents, ownership and modes into another (`cp -a src/. dst/`). */
  copyTree(src: string, dst: string): Promise<void>
  /** Bytes used under a directory (`du`). */
  diskUsage(dir: string): Promise<number>
  /** Bind `source` at `target` (the volumes of a stopped container, for cp). */
  bind?(source: string, target: string, opts: { readonly?: boolean; recursive?: boolean }): Promise<void>
}

/** Time, so restart back-off and stop timeouts can be driven by tests. */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): NodeJS.Timeout
  clearTimeout(t: NodeJS.Timeout): void
  sleep(ms: number): Promise<void>
}

export interface ContainerDeps {
  store: ContainerStore
  images: ImageLookup
  layers: LayerLookup
  events: EventBus
  log: (msg: string) => void
  execRoot: string
  runtimes: Record<string, RuntimeRef>
  defaultRuntime: string
  initPath?: string
  logDefaults?: LogDefaults
  /** The network service (src/network); without it containers get loopback only or the host's network. */
  network?: NetworkHooks
  volumes?: VolumeAccess
  /** The OS (src/platform): the host's when absent. Mounts and copy-up go through it unless `mounts` is given. */
  platform?: Platform
  /** Defaults: conmon + crun/runc, the platform's mounts, the real clock, the probed host. */
  runtime?: ContainerRuntime
  mounts?: ContainerMounts
  clock?: Clock
  host?: () => HostInfo
  /** The host's name (a host-network container's hostname). */
  hostname?: () => string
}

/** Everything a container verb works with: the dependencies, the layout and the shared state. */
export interface Ctx {
  deps: ContainerDeps
  store: ContainerStore
  layout: ContainerLayout
  state: SharedState
  seccomp: SeccompCache
  runtime: ContainerRuntime
  mounts: ContainerMounts
  clock: Clock
  host: () => HostInfo
  hostname: () => string
}

export type { LayerStore }

import type { FSWatcher } from 'node:fs'
import { invalid } from '../../lib/errors.js'
import { KeyedLock } from '../../lib/lock.js'
import type { RuntimeRef } from '../../runtime/monitor.js'
import type { EventBus } from '../events/bus.js'
import type { ContainerRecord } from './types.js'

export type ExitResult = { statusCode: number; error?: string }
type Waiter = (r: ExitResult) => void

/**
 * Told when a container starts running (also for those found running when berthd starts) and
 * when it stops running (exit recorded, or removed). Per-container work that lives only while
 * the container runs (healthchecks, log rotation) hangs off these.
 */
export interface LifecycleListener {
  running(rec: ContainerRecord): void
  stopped(rec: ContainerRecord): void
}

/** A stream attached before start: connected to the monitor's attach socket once it exists. */
export interface AttachHook {
  /** Called after the monitor created the container and before it starts. */
  connect(attachSocket: string): Promise<void>
}

/**
 * The in-memory state the container verbs share: one lock per container, the waiters for an
 * exit or a removal, restart timers of policies in back-off, streams to attach at start, the
 * background clean-ups of crashed starts, the lifecycle listeners, the users of a stopped
 * container's temporarily mounted rootfs, and the exit-directory watcher.
 */
export class SharedState {
  readonly locks = new KeyedLock()
  readonly #nextExit = new Map<string, Waiter[]>()
  readonly #removed = new Map<string, Waiter[]>()
  readonly attachHooks = new Map<string, AttachHook[]>()
  readonly restartTimers = new Map<string, NodeJS.Timeout>()
  /** Background clean-ups (a run's runtime state after its exit, leftovers of starts cut short by a crash): start and remove wait for them. */
  readonly reaping = new Map<string, Promise<void>>()
  readonly listeners: LifecycleListener[] = []
  /** Containers a removal is stopping: their exit is saved without fsync, as the record goes next. */
  readonly removals = new Set<string>()
  /** Users of a stopped container's temporarily mounted rootfs (cp, export, commit). */
  readonly rootfsUsers = new Map<string, number>()
  /** The volumes and binds mounted into such a rootfs for cp, deepest last, with their volume names. */
  readonly copyMounts = new Map<string, Array<{ target: string; volume?: string }>>()
  watcher?: FSWatcher

  constructor(readonly events: EventBus, readonly log: (msg: string) => void, readonly runtimes: Record<string, RuntimeRef>) {}

  /** Resolves at the container's next recorded exit (or its removal). */
  nextExit(id: string): Promise<ExitResult> {
    return new Promise((resolve) => {
      const l = this.#nextExit.get(id) ?? []
      l.push(resolve)
      this.#nextExit.set(id, l)
    })
  }

  /** Resolves when the container is removed. */
  removal(id: string): Promise<ExitResult> {
    return new Promise((resolve) => {
      const l = this.#removed.get(id) ?? []
      l.push(resolve)
      this.#removed.set(id, l)
    })
  }

  exited(id: string, statusCode: number): void {
    for (const w of this.#nextExit.get(id)?.splice(0) ?? []) w({ statusCode })
    this.#nextExit.delete(id)
  }

  removed(id: string, statusCode: number): void {
    for (const w of this.#removed.get(id)?.splice(0) ?? []) w({ statusCode })
    this.#removed.delete(id)
    this.exited(id, statusCode)
  }

  running(rec: ContainerRecord): void {
    for (const l of this.listeners) {
      try { l.running(rec) } catch (e) { this.log(`listener ${rec.id}: ${String(e)}`) }
    }
  }

  stopped(rec: ContainerRecord): void {
    for (const l of this.listeners) {
      try { l.stopped(rec) } catch (e) { this.log(`listener ${rec.id}: ${String(e)}`) }
    }
  }

  /** A container event, with Docker's attributes (labels, image, name) and `extra`. */
  emit(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.events.emit('container', action, rec.id, { ...rec.config.labels, image: rec.imageRef, name: rec.name, ...extra })
  }

  runtimeOf(rec: ContainerRecord): RuntimeRef {
    const rt = this.runtimes[rec.runtime]
    if (!rt) throw invalid('ERR_UNKNOWN_RUNTIME', `unknown or invalid runtime name: ${rec.runtime}`)
    return rt
  }
}

export const isRunning = (rec: ContainerRecord): boolean => rec.state.status === 'running' || rec.state.status === 'paused'
export const isActive = (rec: ContainerRecord): boolean => isRunning(rec) || rec.state.status === 'restarting'

/**
 * The PID a signal can go to directly (no `<runtime> kill`): the init of a running (not paused:
 * a frozen process would take the signal only once thawed, the runtime's path handles that)
 * container; for `all`, only when the container has a PID namespace of its own, where SIGKILL
 * to its init ends every process in it, as `kill --all` does through the cgroup.
 */
export function directPid(rec: ContainerRecord, all = false): number | undefined {
  if (rec.state.status !== 'running' || !(rec.state.pid > 0)) return undefined
  if (all && (rec.hostConfig.pidMode ?? '') !== '') return undefined
  return rec.state.pid
}

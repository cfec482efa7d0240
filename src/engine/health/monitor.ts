import type { ContainerService, LifecycleListener } from '../containers/service.js'
import type { ContainerRecord, HealthResult, HealthState } from '../containers/types.js'
import type { ExecService } from '../exec/service.js'

const SECOND = 1e9
/** Docker's defaults (nanoseconds), its log length and its output cap. */
const DEFAULT_INTERVAL = 30 * SECOND
const DEFAULT_TIMEOUT = 30 * SECOND
const DEFAULT_START_INTERVAL = 5 * SECOND
const DEFAULT_RETRIES = 3
const MAX_LOG_ENTRIES = 5
const MAX_OUTPUT = 4096

/** The argv a healthcheck runs, or undefined when the container has none (or `NONE`). */
export function probeCommand(rec: ContainerRecord): string[] | undefined {
  const test = rec.config.healthcheck?.test ?? []
  const kind = test[0]
  if (kind === 'CMD') return test.length > 1 ? test.slice(1) : undefined
  if (kind === 'CMD-SHELL') {
    const shell = rec.config.shell?.length ? rec.config.shell : ['/bin/sh', '-c']
    return [...shell, test.slice(1).join(' ')]
  }
  return undefined
}

/**
 * The state after one probe, by Docker's rules: success makes the container healthy; a failure
 * counts towards `retries` unless the container is still starting within its start period.
 */
export function applyProbe(h: HealthState, result: HealthResult, opts: { retries: number; startPeriodNs: number; startedAt: string }): HealthState {
  const log = [...h.log, result].slice(-MAX_LOG_ENTRIES)
  if (result.exitCode === 0) return { status: 'healthy', failingStreak: 0, log }
  if (h.status === 'starting' && (Date.parse(result.start) - Date.parse(opts.startedAt)) * 1e6 < opts.startPeriodNs) return { ...h, log }
  const failingStreak = h.failingStreak + 1
  return { status: failingStreak >= opts.retries ? 'unhealthy' : h.status, failingStreak, log }
}

/**
 * Healthchecks run by the engine, as Docker runs them: each probe is an exec in the container
 * (with its exec events), on the container's interval (its start interval while starting within
 * the start period), bounded by its timeout; the last five results are kept in the container's
 * state and each change of status is a `health_status` event.
 */
export class HealthMonitor implements LifecycleListener {
  readonly #timers = new Map<string, NodeJS.Timeout>()
  /** The run a timer belongs to: a probe that ends after its container restarted is dropped. */
  readonly #runs = new Map<string, string>()

  constructor(readonly containers: ContainerService, readonly exec: ExecService, readonly log: (msg: string) => void) {}

  running(rec: ContainerRecord): void {
    if (!probeCommand(rec)) return
    this.#clear(rec.id)
    // A start drops the previous run's state; a container found running when berthd starts keeps it.
    if (!rec.state.health) {
      rec.state.health = { status: 'starting', failingStreak: 0, log: [] }
      void this.containers.store.save(rec).catch((e) => this.log(`save ${rec.id}: ${String(e)}`))
    }
    this.#runs.set(rec.id, rec.state.startedAt)
    this.#schedule(rec.id, rec.state.startedAt)
  }

  stopped(rec: ContainerRecord): void {
    this.#clear(rec.id)
    this.#runs.delete(rec.id)
  }

  close(): void {
    for (const id of [...this.#timers.keys()]) this.#clear(id)
  }

  #clear(id: string): void {
    const t = this.#timers.get(id)
    if (t) clearTimeout(t)
    this.#timers.delete(id)
  }

  #schedule(id: string, run: string): void {
    const rec = this.containers.store.get(id)
    if (!rec) return
    const hc = rec.config.healthcheck ?? {}
    const interval = hc.interval || DEFAULT_INTERVAL
    const startPeriod = hc.startPeriod || 0
    const inStartPeriod = (Date.now() - Date.parse(rec.state.startedAt)) * 1e6 < startPeriod
    const next = inStartPeriod && rec.state.health?.status === 'starting' ? hc.startInterval || DEFAULT_START_INTERVAL : interval
    const t = setTimeout(() => void this.#probe(id, run), Math.max(1, Math.round(next / 1e6)))
    t.unref()
    this.#timers.set(id, t)
  }

  async #probe(id: string, run: string): Promise<void> {
    this.#timers.delete(id)
    const rec = this.containers.store.get(id)
    const cmd = rec && probeCommand(rec)
    if (!rec || !cmd || this.#runs.get(id) !== run || rec.state.status !== 'running') return
    const hc = rec.config.healthcheck ?? {}
    const timeoutNs = hc.timeout || DEFAULT_TIMEOUT
    const start = new Date().toISOString()
    let result: HealthResult
    try {
      const r = await this.exec.run(id, cmd, { timeoutMs: Math.max(1, Math.round(timeoutNs / 1e6)), maxOutput: MAX_OUTPUT })
      result = r.timedOut
        ? { start, end: new Date().toISOString(), exitCode: -1, output: `Health check exceeded timeout (${formatSeconds(timeoutNs)})` }
        : { start, end: new Date().toISOString(), exitCode: r.exitCode, output: r.output }
    } catch (err) {
      result = { start, end: new Date().toISOString(), exitCode: -1, output: (err as Error).message }
    }
    const now = this.containers.store.get(id)
    if (!now || this.#runs.get(id) !== run || now.state.status !== 'running') return
    const before = now.state.health ?? { status: 'starting' as const, failingStreak: 0, log: [] }
    const after = applyProbe(before, result, { retries: hc.retries && hc.retries > 0 ? hc.retries : DEFAULT_RETRIES, startPeriodNs: hc.startPeriod || 0, startedAt: now.state.startedAt })
    now.state.health = after
    await this.containers.store.save(now).catch((e) => this.log(`save ${id}: ${String(e)}`))
    if (after.status !== before.status) this.containers.emit(now, `health_status: ${after.status}`)
    if (this.#runs.get(id) === run) this.#schedule(id, run)
  }
}

/** Go's time.Duration formatting for whole and fractional seconds: `30s`, `1.5s`, `500ms`. */
function formatSeconds(ns: number): string {
  if (ns < SECOND) return `${ns / 1e6}ms`
  return `${ns / SECOND}s`
}

import { setTimeout as sleep } from 'node:timers/promises'
import type { CgroupStatsReader, CgroupV1Stats, NetDevCounters, SystemCpu } from '../../platform/cgroup-stats.js'
import { realPlatform } from '../../platform/platform.js'
import type { ContainerRecord } from './types.js'

/**
 * `docker stats`: samples of a container's cgroup v1 figures, one per interval (1 s), each paired
 * with the one before it so a client can compute CPU % from the deltas, as Docker does.
 */

/** One reading of a container. An empty sample (not running) has `readNano` 0 and nothing else. */
export interface StatsSample {
  /** Unix time of the reading in ns; 0n for an empty sample. */
  readNano: bigint
  cgroup?: CgroupV1Stats
  system?: SystemCpu
  /** The host's MemTotal in bytes: a container without a memory limit reports it as its limit. */
  memTotal?: bigint
  /** Interfaces other than lo, when the container has its own network namespace with some. */
  networks?: Map<string, NetDevCounters>
}

/** What one answer carries: the container's name (`/name`), its ID, this sample and the previous one. */
export interface StatsFrame {
  name: string
  id: string
  current: StatsSample
  previous: StatsSample
}

export const EMPTY_SAMPLE: StatsSample = Object.freeze({ readNano: 0n })

export interface StatsOptions {
  /** Keep sending a frame per interval until the signal aborts or the container is removed. */
  stream: boolean
  /** Without stream: answer with a single sample at once (previous left empty). */
  oneShot?: boolean
  signal?: AbortSignal
  intervalMs?: number
}

export interface StatsDeps {
  /** The container's current record (renames and state changes show), undefined once removed. */
  get(id: string): ContainerRecord | undefined
  reader?: CgroupStatsReader
}

/** Docker's Container.IsRunning: running or paused, not restarting. */
export function isRunning(rec: ContainerRecord): boolean {
  return rec.state.status === 'running' || rec.state.status === 'paused'
}

const hrBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
/** Wall-clock time in ns (ms from Date, the rest from the monotonic clock). */
export function nowNano(): bigint {
  return hrBase + process.hrtime.bigint()
}

/**
 * Networks are read from the container's own namespace; `none` has only lo (nothing to report),
 * host and container:x share another's, which Docker does not report either.
 */
function ownNetns(rec: ContainerRecord): boolean {
  const mode = rec.hostConfig.networkMode
  return mode !== 'none' && mode !== 'host' && !mode.startsWith('container:')
}

/** Read one sample of a container; empty when it is not running or its cgroup is gone. */
export async function sampleContainer(rec: ContainerRecord, reader: CgroupStatsReader, memTotal: bigint): Promise<StatsSample> {
  if (!isRunning(rec)) return EMPTY_SAMPLE
  const cgroup = await reader.readContainer(`/berth/${rec.id}`)
  if (!cgroup) return EMPTY_SAMPLE
  // Host CPU time is read right after the container's, to keep the two deltas comparable.
  const system = await reader.readSystemCpu()
  const sample: StatsSample = { readNano: nowNano(), cgroup, system, memTotal }
  if (ownNetns(rec) && rec.state.pid > 0) {
    const dev = await reader.readNetDev(rec.state.pid)
    if (dev) {
      dev.delete('lo')
      if (dev.size) sample.networks = dev
    }
  }
  return sample
}

/**
 * The frames of a stats request, as dockerd gives them:
 * - stream: a frame at once and then one per interval, the first with an empty previous sample;
 *   a stopped container gives empty frames; it ends when the signal aborts or the container goes.
 * - not stream, one-shot: one frame at once, previous empty.
 * - not stream: two samples an interval apart, one frame with both; a container that is not
 *   running gives one empty frame at once.
 * One timer at a time per request; nothing is left scheduled once the generator returns.
 */
export async function* containerStats(deps: StatsDeps, id: string, opts: StatsOptions): AsyncGenerator<StatsFrame> {
  const reader = deps.reader ?? realPlatform().cgroups.statsReader()
  const interval = opts.intervalMs ?? 1000
  const memTotal = await reader.readMemTotal()
  const frame = (rec: ContainerRecord, current: StatsSample, previous: StatsSample): StatsFrame => ({ name: `/${rec.name}`, id: rec.id, current, previous })
  const wait = async (): Promise<boolean> => {
    try {
      await sleep(interval, undefined, opts.signal ? { signal: opts.signal } : {})
      return true
    } catch (err) {
      if ((err as Error).name === 'AbortError') return false
      throw err
    }
  }

  let rec = deps.get(id)
  if (!rec || opts.signal?.aborted) return
  if (!opts.stream) {
    if (!isRunning(rec)) {
      yield frame(rec, EMPTY_SAMPLE, EMPTY_SAMPLE)
      return
    }
    const first = await sampleContainer(rec, reader, memTotal)
    if (opts.oneShot) {
      yield frame(rec, first, EMPTY_SAMPLE)
      return
    }
    if (!(await wait())) return
    rec = deps.get(id)
    if (!rec) return
    yield frame(rec, await sampleContainer(rec, reader, memTotal), first)
    return
  }
  let previous = EMPTY_SAMPLE
  for (;;) {
    const current = await sampleContainer(rec, reader, memTotal)
    if (opts.signal?.aborted) return
    yield frame(rec, current, previous)
    previous = current
    if (!(await wait())) return
    rec = deps.get(id)
    if (!rec) return
  }
}

import { ApiError, type EngineClient } from '../../client/client.js'
import { renderRows } from '../gotemplate/docker-format.js'
import { TemplateError } from '../gotemplate/index.js'
import { CliExit, type CliContext } from '../context.js'
import { bytesSize, humanSizePrec, truncId } from '../format.js'

/** The parts of a stats object the CLI reads (Docker's container.StatsResponse). */
export interface WireStatsIn {
  name?: string
  id?: string
  pids_stats?: { current?: number }
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null }
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number }
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number }
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> }
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>
}

/** One row of `docker stats` (the CLI's StatsEntry). */
export interface StatsEntry {
  container: string
  name: string
  id: string
  cpuPercentage: number
  memory: number
  memoryLimit: number
  memoryPercentage: number
  networkRx: number
  networkTx: number
  blockRead: number
  blockWrite: number
  pidsCurrent: number
  isInvalid: boolean
}

/** CPU % as docker computes it on Linux: container delta over host delta, times the CPUs. */
export function cpuPercentUnix(v: WireStatsIn): number {
  const cpuDelta = (v.cpu_stats?.cpu_usage?.total_usage ?? 0) - (v.precpu_stats?.cpu_usage?.total_usage ?? 0)
  const systemDelta = (v.cpu_stats?.system_cpu_usage ?? 0) - (v.precpu_stats?.system_cpu_usage ?? 0)
  let online = v.cpu_stats?.online_cpus ?? 0
  if (!online) online = v.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0
}

/** Memory in use without the page cache: usage - total_inactive_file (cgroup v1), - inactive_file (v2). */
export function memUsageNoCache(m: WireStatsIn['memory_stats']): number {
  const usage = m?.usage ?? 0
  const stats = m?.stats ?? {}
  const v1 = stats.total_inactive_file
  if (v1 !== undefined && v1 < usage) return usage - v1
  const v2 = stats.inactive_file ?? 0
  if (v2 < usage) return usage - v2
  return usage
}

export function memPercent(limit: number, used: number): number {
  return limit !== 0 ? (used / limit) * 100 : 0
}

/** Bytes read and written, from io_service_bytes_recursive (ops starting with r/R and w/W). */
export function blockIO(b: WireStatsIn['blkio_stats']): { read: number; write: number } {
  let read = 0
  let write = 0
  for (const e of b?.io_service_bytes_recursive ?? []) {
    const c = e.op?.[0]
    if (c === 'r' || c === 'R') read += e.value
    else if (c === 'w' || c === 'W') write += e.value
  }
  return { read, write }
}

export function networkIO(n: WireStatsIn['networks']): { rx: number; tx: number } {
  let rx = 0
  let tx = 0
  for (const v of Object.values(n ?? {})) { rx += v.rx_bytes ?? 0; tx += v.tx_bytes ?? 0 }
  return { rx, tx }
}

/** A stats object → the row values (the CLI's collect loop, Linux daemon). */
export function toStatsEntry(container: string, v: WireStatsIn): StatsEntry {
  const mem = memUsageNoCache(v.memory_stats)
  const limit = v.memory_stats?.limit ?? 0
  const blk = blockIO(v.blkio_stats)
  const net = networkIO(v.networks)
  return {
    container, name: v.name ?? '', id: v.id ?? '',
    cpuPercentage: cpuPercentUnix(v), memory: mem, memoryLimit: limit, memoryPercentage: memPercent(limit, mem),
    networkRx: net.rx, networkTx: net.tx, blockRead: blk.read, blockWrite: blk.write,
    pidsCurrent: v.pids_stats?.current ?? 0, isInvalid: false,
  }
}

const pct = (v: number) => `${v.toFixed(2)}%`

/** The template context of a row (docker's statsContext): fields as docker prints them. */
export function statsRow(s: StatsEntry, trunc: boolean): Record<string, string> {
  return {
    Container: s.container,
    Name: s.name.length > 1 ? s.name.slice(1) : '--',
    ID: trunc ? truncId(s.id) : s.id,
    CPUPerc: s.isInvalid ? '--' : pct(s.cpuPercentage),
    MemUsage: s.isInvalid ? '-- / --' : `${bytesSize(s.memory)} / ${bytesSize(s.memoryLimit)}`,
    MemPerc: s.isInvalid ? '--' : pct(s.memoryPercentage),
    NetIO: s.isInvalid ? '--' : `${humanSizePrec(s.networkRx, 3)} / ${humanSizePrec(s.networkTx, 3)}`,
    BlockIO: s.isInvalid ? '--' : `${humanSizePrec(s.blockRead, 3)} / ${humanSizePrec(s.blockWrite, 3)}`,
    PIDs: s.isInvalid ? '--' : String(s.pidsCurrent),
  }
}

export const DEFAULT_STATS_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}'
const HEADERS = { Container: 'CONTAINER', Name: 'NAME', ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS' }

export function renderStats(format: string, entries: StatsEntry[], trunc: boolean): string {
  try {
    return renderRows({ format, rows: entries.map((e) => statsRow(e, trunc)), headers: HEADERS, defaultTableFormat: DEFAULT_STATS_FORMAT, rowType: '*container.statsContext' })
  } catch (err) {
    if (err instanceof TemplateError) throw new CliExit(1, err.message)
    throw err
  }
}

/**
 * One streaming redraw, byte for byte as docker 28 writes it: cursor home and the table, then
 * the same text again line by line with "erase to end of line", then "erase below" (docker
 * appends the second copy to the buffer it is iterating; the second copy overwrites the first).
 */
export function redrawFrame(table: string): string {
  const first = `\x1b[H${table}`
  let out = first
  for (const line of first.split('\n')) out += `${line} \x1b[K\n`
  return `${out}\x1b[J`
}

const zeroEntry = (container: string): StatsEntry => ({ container, name: '', id: '', cpuPercentage: 0, memory: 0, memoryLimit: 0, memoryPercentage: 0, networkRx: 0, networkTx: 0, blockRead: 0, blockWrite: 0, pidsCurrent: 0, isInvalid: false })

/** A container being watched: its latest row, its first-answer promise, its request's abort. */
class Watched {
  entry: StatsEntry
  error: Error | undefined
  readonly abort = new AbortController()
  readonly first: Promise<void>
  #release!: () => void
  #timer: NodeJS.Timeout | undefined

  constructor(readonly container: string) {
    this.entry = zeroEntry(container)
    this.first = new Promise((r) => { this.#release = r })
  }

  /** As docker: no answer within 2 s zeroes the row ("--") and releases the first wait. */
  armTimeout(): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.fail(new Error('timeout waiting for stats')), 2000)
    this.#timer.unref()
  }

  update(v: WireStatsIn): void {
    this.entry = toStatsEntry(this.container, v)
    this.error = undefined
    this.#release()
  }

  fail(err: Error): void {
    this.entry = { ...zeroEntry(this.container), name: this.entry.name, id: this.entry.id, isInvalid: true }
    this.error = err
    this.#release()
  }

  stop(): void {
    clearTimeout(this.#timer)
    this.abort.abort()
    this.#release()
  }
}

async function collect(client: EngineClient, w: Watched, stream: boolean): Promise<void> {
  w.armTimeout()
  try {
    const res = await client.call('GET', `/containers/${encodeURIComponent(w.container)}/stats`, { query: { stream }, signal: w.abort.signal })
    for await (const v of client.jsonStream<WireStatsIn>(res)) {
      w.update(v)
      if (stream) w.armTimeout()
      else break
    }
    if (stream && !w.abort.signal.aborted) w.fail(new Error('EOF'))
  } catch (err) {
    if (w.abort.signal.aborted) return
    w.fail(err instanceof ApiError ? new Error(`Error response from daemon: ${err.message}`) : (err as Error))
  } finally {
    if (!stream) w.stop()
  }
}

/** `berth stats [OPTIONS] [CONTAINER...]`, as `docker stats`. */
export async function stats(ctx: CliContext): Promise<void> {
  const f = ctx.flags
  const all = !!f.all
  const noStream = !!f['no-stream']
  const trunc = !f['no-trunc']
  let format = f.format as string | undefined
  if (!format) {
    const { readConfigFile } = await import('../config-file.js')
    const cfg = await readConfigFile(ctx.configDir)
    format = cfg.statsFormat || 'table'
  }
  const client = ctx.client()
  const watched = new Map<string, Watched>()
  const add = (container: string): void => {
    if (watched.has(container)) return
    const w = new Watched(container)
    watched.set(container, w)
    void collect(client, w, !noStream)
  }
  const remove = (container: string): void => {
    watched.get(container)?.stop()
    watched.delete(container)
  }
  const showAll = ctx.args.length === 0
  const events = new AbortController()
  try {
    if (showAll) {
      // Subscribed before listing, so a container started meanwhile is not missed.
      if (!noStream) await watchEvents(client, events.signal, { all, add, remove })
      const list = await client.json<Array<{ Id: string }>>('GET', '/containers/json', { query: { all } })
      for (const c of list) add(c.Id.slice(0, 12))
      await Promise.all([...watched.values()].map((w) => w.first))
    } else {
      for (const name of ctx.args) add(name)
      await Promise.all([...watched.values()].map((w) => w.first))
      const errs = [...watched.values()].flatMap((w) => (w.error ? [w.error.message] : []))
      if (errs.length) throw new CliExit(1, errs.join('\n'))
    }
    const snapshot = () => [...watched.values()].map((w) => w.entry)
    if (noStream) {
      ctx.out.write(renderStats(format, snapshot(), trunc))
      return
    }
    for (;;) {
      await new Promise((r) => setTimeout(r, 500))
      ctx.out.write(redrawFrame(renderStats(format, snapshot(), trunc)))
      if (watched.size === 0 && !showAll) return
    }
  } finally {
    events.abort()
    for (const w of watched.values()) w.stop()
  }
}

/** Follow container events: start (and create with --all) adds a container, die (without --all) and destroy remove it. */
async function watchEvents(client: EngineClient, signal: AbortSignal, h: { all: boolean; add(id: string): void; remove(id: string): void }): Promise<void> {
  const res = await client.call('GET', '/events', { query: { filters: JSON.stringify({ type: ['container'] }) }, signal })
  void (async () => {
    try {
      for await (const e of client.jsonStream<{ Action?: string; status?: string; Actor?: { ID?: string }; id?: string }>(res)) {
        const id = (e.Actor?.ID ?? e.id ?? '').slice(0, 12)
        if (!id) continue
        const action = e.Action ?? e.status ?? ''
        if (action === 'start' || (action === 'create' && h.all)) h.add(id)
        else if ((action === 'die' && !h.all) || action === 'destroy') h.remove(id)
      }
    } catch (err) {
      if (!signal.aborted) throw err
    }
  })().catch(() => { /* the stream ended with the daemon: the table keeps its last rows */ })
}

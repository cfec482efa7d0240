import type { BlkioStat, ContainerBackend, StatsFrame, StatsSample } from '../backend.js'
import { invalid } from '../../lib/errors.js'
import { boolParam, versionAtLeast } from '../http.js'
import type { Router } from '../router.js'

export function statsRoutes(r: Router, b: ContainerBackend): void {
  r.add('GET', '/containers/{id}/stats', async (ctx) => {
    const stream = boolParam(ctx.query, 'stream', true)
    // one-shot exists from API 1.41; older clients get the two-sample answer.
    const oneShot = versionAtLeast(ctx, '1.41') && boolParam(ctx.query, 'one-shot')
    if (stream && oneShot) throw invalid('ERR_STATS_ONE_SHOT', 'cannot have stream=true and one-shot=true')
    const frames = await b.stats(ctx.params[0]!, { stream, oneShot, signal: ctx.signal })
    const { res } = ctx
    if (!stream) {
      for await (const f of frames) {
        const body = `${encodeStatsJson(toWireStats(f))}\n`
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })
        res.end(body)
      }
      return
    }
    // As dockerd: a chunked body without a Content-Type, one JSON object per line, flushed as sent.
    res.writeHead(200)
    res.flushHeaders()
    for await (const f of frames) {
      if (res.destroyed) break
      res.write(`${encodeStatsJson(toWireStats(f))}\n`)
    }
    if (!res.writableEnded) res.end()
  })
}

// ---- wire format (types.StatsJSON as dockerd 20.10 writes it for cgroup v1)

type U64 = bigint | number

export interface WireCpuStats {
  cpu_usage: { total_usage: U64; percpu_usage?: U64[]; usage_in_kernelmode: U64; usage_in_usermode: U64 }
  system_cpu_usage?: U64
  online_cpus?: number
  throttling_data: { periods: U64; throttled_periods: U64; throttled_time: U64 }
}

export interface WireBlkioEntry { major: number; minor: number; op: string; value: U64 }

export interface WireStats {
  read: string
  preread: string
  pids_stats: { current?: U64; limit?: U64 }
  blkio_stats: Record<string, WireBlkioEntry[] | null>
  num_procs: number
  storage_stats: Record<string, never>
  cpu_stats: WireCpuStats
  precpu_stats: WireCpuStats
  memory_stats: { usage?: U64; max_usage?: U64; stats?: Record<string, U64>; failcnt?: U64; limit?: U64 }
  name: string
  id: string
  networks?: Record<string, { rx_bytes: U64; rx_packets: U64; rx_errors: U64; rx_dropped: U64; tx_bytes: U64; tx_packets: U64; tx_errors: U64; tx_dropped: U64 }>
}

/** The memory.stat keys dockerd reports (its fixed cgroup v1 set), in its (sorted) order. */
const MEMORY_KEYS = ['cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault', 'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable']
const MEMORY_STAT_KEYS = [...MEMORY_KEYS, ...MEMORY_KEYS.map((k) => `total_${k}`), 'hierarchical_memory_limit', 'hierarchical_memsw_limit'].sort()

const BLKIO_KEYS = ['io_service_bytes_recursive', 'io_serviced_recursive', 'io_queue_recursive', 'io_service_time_recursive', 'io_wait_time_recursive', 'io_merged_recursive', 'io_time_recursive', 'sectors_recursive'] as const

/** Go's time.RFC3339Nano in UTC (trailing zeros of the fraction dropped); 0 is Go's zero time. */
export function formatReadTime(nano: bigint): string {
  if (nano === 0n) return '0001-01-01T00:00:00Z'
  const secs = nano / 1_000_000_000n
  const frac = (nano % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '')
  return `${new Date(Number(secs) * 1000).toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`
}

function wireCpu(s: StatsSample): WireCpuStats {
  const c = s.cgroup?.cpu
  if (!c || !s.system) {
    return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } }
  }
  return {
    cpu_usage: { total_usage: c.totalUsage, ...(c.percpuUsage.length ? { percpu_usage: c.percpuUsage } : {}), usage_in_kernelmode: c.usageInKernelmode, usage_in_usermode: c.usageInUsermode },
    ...(s.system.systemUsage ? { system_cpu_usage: s.system.systemUsage } : {}),
    ...(s.system.onlineCpus ? { online_cpus: s.system.onlineCpus } : {}),
    throttling_data: { periods: c.throttling.periods, throttled_periods: c.throttling.throttledPeriods, throttled_time: c.throttling.throttledTime },
  }
}

const blkio = (l: BlkioStat[]): WireBlkioEntry[] => l.map((e) => ({ major: e.major, minor: e.minor, op: e.op, value: e.value }))
/** Go's omitempty on an unsigned field. */
const nz = <K extends string>(k: K, v: bigint | undefined): Partial<Record<K, bigint>> => (v ? { [k]: v } as Record<K, bigint> : {})

/** A frame as dockerd's JSON: field order, omitempty and null arrays as Go's encoder writes them. */
export function toWireStats(f: StatsFrame): WireStats {
  const cur = f.current
  const cg = cur.cgroup
  const blk: Record<string, WireBlkioEntry[] | null> = {}
  for (const k of BLKIO_KEYS) blk[k] = cg ? [] : null
  if (cg) {
    blk.io_service_bytes_recursive = blkio(cg.blkio.serviceBytes)
    blk.io_serviced_recursive = blkio(cg.blkio.serviced)
  }
  let memory: WireStats['memory_stats'] = {}
  if (cg?.memory) {
    const m = cg.memory
    const stats: Record<string, bigint> = {}
    for (const k of MEMORY_STAT_KEYS) stats[k] = m.stat.get(k) ?? 0n
    const total = cur.memTotal ?? 0n
    const limit = total > 0n && m.limit > total ? total : m.limit
    memory = { ...nz('usage', m.usage), ...nz('max_usage', m.maxUsage), stats, ...nz('failcnt', m.failcnt), ...nz('limit', limit) }
  }
  const out: WireStats = {
    read: formatReadTime(cur.readNano),
    preread: formatReadTime(f.previous.readNano),
    pids_stats: cg?.pids ? { ...nz('current', cg.pids.current), ...nz('limit', cg.pids.limit) } : {},
    blkio_stats: blk,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: wireCpu(cur),
    precpu_stats: wireCpu(f.previous),
    memory_stats: memory,
    name: f.name,
    id: f.id,
  }
  if (cur.networks?.size) {
    out.networks = {}
    for (const name of [...cur.networks.keys()].sort()) {
      const n = cur.networks.get(name)!
      out.networks[name] = { rx_bytes: n.rxBytes, rx_packets: n.rxPackets, rx_errors: n.rxErrors, rx_dropped: n.rxDropped, tx_bytes: n.txBytes, tx_packets: n.txPackets, tx_errors: n.txErrors, tx_dropped: n.txDropped }
    }
  }
  return out
}

/** JSON with 64-bit integers written exactly (bigints as numbers), undefined fields left out. */
export function encodeStatsJson(v: unknown): string {
  if (typeof v === 'bigint') return v.toString()
  if (v === null || v === undefined) return 'null'
  if (Array.isArray(v)) return `[${v.map(encodeStatsJson).join(',')}]`
  if (typeof v === 'object') {
    const parts: string[] = []
    for (const [k, x] of Object.entries(v)) if (x !== undefined) parts.push(`${JSON.stringify(k)}:${encodeStatsJson(x)}`)
    return `{${parts.join(',')}}`
  }
  return JSON.stringify(v)
}

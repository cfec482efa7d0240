import { open } from 'node:fs/promises'
import { isNotFoundErrno } from '../lib/errors.js'

/**
 * Resource figures of one cgroup v1 container (cgroupsPath `/berth/<id>`), as the kernel reports
 * them. Counters are bigints: several are 64-bit (an unlimited memory limit is
 * 9223372036854771712) and Docker prints them exactly.
 */
export interface CgroupV1Stats {
  cpu: {
    /** cpuacct.usage, ns. */
    totalUsage: bigint
    /** cpuacct.usage_percpu, ns. */
    percpuUsage: bigint[]
    /** cpuacct.stat, converted from USER_HZ ticks to ns. */
    usageInKernelmode: bigint
    usageInUsermode: bigint
    /** cpu.stat. */
    throttling: { periods: bigint; throttledPeriods: bigint; throttledTime: bigint }
  }
  /** Absent when the memory controller has no directory for the container. */
  memory?: { usage: bigint; maxUsage: bigint; limit: bigint; failcnt: bigint; stat: Map<string, bigint> }
  /** pids.max `max` reads as 0 (no limit). Absent without a pids directory. */
  pids?: { current: bigint; limit: bigint }
  blkio: { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] }
}

export interface BlkioEntry { major: number; minor: number; op: string; value: bigint }

/** Host CPU time as Docker samples it: the first 7 fields of /proc/stat's `cpu` line, in ns. */
export interface SystemCpu { systemUsage: bigint; onlineCpus: number }

/** USER_HZ: Linux exports /proc/stat and cpuacct.stat in 1/100 s everywhere Docker runs. */
const CLOCK_TICKS = 100n
const NS_PER_TICK = 1_000_000_000n / CLOCK_TICKS
const CGROUP_ROOT = '/sys/fs/cgroup'

/**
 * Reads cgroup and /proc files into one reusable buffer: no subprocess, no per-read allocation
 * beyond the strings parsed. Reads are sequential (a reader belongs to one stream).
 */
export class CgroupStatsReader {
  #buf = Buffer.allocUnsafe(16 * 1024)

  /** `read` replaces the file reads (a fake's files); by default the host's files are read. */
  constructor(readonly root = CGROUP_ROOT, readonly procRoot = '/proc', readonly read?: (path: string) => Promise<string | undefined>) {}

  /** A whole (small) file as latin1 text, or undefined when it does not exist. */
  async readText(path: string): Promise<string | undefined> {
    if (this.read) return this.read(path)
    let fh
    try {
      fh = await open(path, 'r')
    } catch (err) {
      if (isNotFoundErrno(err) || (err as NodeJS.ErrnoException).code === 'ENODEV') return undefined
      throw err
    }
    try {
      let n = 0
      for (;;) {
        if (n === this.#buf.length) {
          const bigger = Buffer.allocUnsafe(this.#buf.length * 2)
          this.#buf.copy(bigger)
          this.#buf = bigger
        }
        const { bytesRead } = await fh.read(this.#buf, n, this.#buf.length - n, n)
        if (bytesRead === 0) break
        n += bytesRead
      }
      return this.#buf.toString('latin1', 0, n)
    } catch (err) {
      // The cgroup went away between open and read (container exited).
      if ((err as NodeJS.ErrnoException).code === 'ENODEV' || isNotFoundErrno(err)) return undefined
      throw err
    } finally {
      await fh.close()
    }
  }

  async #u64(path: string): Promise<bigint | undefined> {
    const t = await this.readText(path)
    return t === undefined ? undefined : parseU64(t.trim())
  }

  /**
   * The container's figures, or undefined when its cpuacct cgroup does not exist (not running).
   * `cgroupsPath` is the OCI cgroupsPath, e.g. `/berth/<id>`.
   */
  async readContainer(cgroupsPath: string): Promise<CgroupV1Stats | undefined> {
    const dir = (controller: string, file: string) => `${this.root}/${controller}${cgroupsPath}/${file}`
    const totalUsage = await this.#u64(dir('cpuacct', 'cpuacct.usage'))
    if (totalUsage === undefined) return undefined
    const percpu = (await this.readText(dir('cpuacct', 'cpuacct.usage_percpu'))) ?? ''
    const acct = parseFlatKeyed((await this.readText(dir('cpuacct', 'cpuacct.stat'))) ?? '')
    const cpuStat = parseFlatKeyed((await this.readText(dir('cpu', 'cpu.stat'))) ?? '')
    const out: CgroupV1Stats = {
      cpu: {
        totalUsage,
        percpuUsage: percpu.split(/\s+/).filter(Boolean).map(parseU64),
        usageInKernelmode: (acct.get('system') ?? 0n) * NS_PER_TICK,
        usageInUsermode: (acct.get('user') ?? 0n) * NS_PER_TICK,
        throttling: { periods: cpuStat.get('nr_periods') ?? 0n, throttledPeriods: cpuStat.get('nr_throttled') ?? 0n, throttledTime: cpuStat.get('throttled_time') ?? 0n },
      },
      blkio: {
        serviceBytes: parseBlkio((await this.readText(dir('blkio', 'blkio.throttle.io_service_bytes'))) ?? ''),
        serviced: parseBlkio((await this.readText(dir('blkio', 'blkio.throttle.io_serviced'))) ?? ''),
      },
    }
    const usage = await this.#u64(dir('memory', 'memory.usage_in_bytes'))
    if (usage !== undefined) {
      out.memory = {
        usage,
        maxUsage: (await this.#u64(dir('memory', 'memory.max_usage_in_bytes'))) ?? 0n,
        limit: (await this.#u64(dir('memory', 'memory.limit_in_bytes'))) ?? 0n,
        failcnt: (await this.#u64(dir('memory', 'memory.failcnt'))) ?? 0n,
        stat: parseFlatKeyed((await this.readText(dir('memory', 'memory.stat'))) ?? ''),
      }
    }
    const current = await this.#u64(dir('pids', 'pids.current'))
    if (current !== undefined) out.pids = { current, limit: (await this.#u64(dir('pids', 'pids.max'))) ?? 0n }
    return out
  }

  /** /proc/stat: host CPU time in ns and the number of `cpuN` lines. */
  async readSystemCpu(): Promise<SystemCpu> {
    return parseProcStat((await this.readText(`${this.procRoot}/stat`)) ?? '')
  }

  /** MemTotal of /proc/meminfo in bytes (0 when unknown). */
  async readMemTotal(): Promise<bigint> {
    const m = /^MemTotal:\s+(\d+)\s*kB/m.exec((await this.readText(`${this.procRoot}/meminfo`)) ?? '')
    return m ? BigInt(m[1]!) * 1024n : 0n
  }

  /** Interface counters of a process's network namespace (/proc/<pid>/net/dev), lo included. */
  async readNetDev(pid: number): Promise<Map<string, NetDevCounters> | undefined> {
    const t = await this.readText(`${this.procRoot}/${pid}/net/dev`)
    return t === undefined ? undefined : parseNetDev(t)
  }
}

export interface NetDevCounters {
  rxBytes: bigint; rxPackets: bigint; rxErrors: bigint; rxDropped: bigint
  txBytes: bigint; txPackets: bigint; txErrors: bigint; txDropped: bigint
}

/** A cgroup number; `max` (no limit) reads as 0, as Docker reports an unset pids limit. */
export function parseU64(s: string): bigint {
  if (s === 'max' || s === '') return 0n
  return /^\d+$/.test(s) ? BigInt(s) : 0n
}

/** `key value` lines (memory.stat, cpu.stat, cpuacct.stat). */
export function parseFlatKeyed(text: string): Map<string, bigint> {
  const m = new Map<string, bigint>()
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ')
    if (sp <= 0) continue
    m.set(line.slice(0, sp), parseU64(line.slice(sp + 1).trim()))
  }
  return m
}

/** blkio.throttle.* lines `8:0 Read 4096`; the closing `Total N` line is skipped. */
export function parseBlkio(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = []
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length !== 3) continue
    const [dev = '', op = '', value = ''] = f
    const colon = dev.indexOf(':')
    if (colon < 0) continue
    out.push({ major: Number(dev.slice(0, colon)), minor: Number(dev.slice(colon + 1)), op, value: parseU64(value) })
  }
  return out
}

/** /proc/stat as Docker reads it: (user+nice+system+idle+iowait+irq+softirq) ticks → ns; CPUs = `cpuN` lines. */
export function parseProcStat(text: string): SystemCpu {
  let systemUsage = 0n
  let onlineCpus = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) continue
    const f = line.split(/\s+/)
    if (f[0] === 'cpu') {
      let ticks = 0n
      for (const v of f.slice(1, 8)) ticks += parseU64(v)
      systemUsage = ticks * NS_PER_TICK
    } else onlineCpus++
  }
  return { systemUsage, onlineCpus }
}

/** /proc/<pid>/net/dev: two header lines, then `iface: rx(8 fields) tx(8 fields)`. */
export function parseNetDev(text: string): Map<string, NetDevCounters> {
  const out = new Map<string, NetDevCounters>()
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const name = line.slice(0, colon).trim()
    const f = line.slice(colon + 1).trim().split(/\s+/).map(parseU64)
    if (f.length < 16) continue
    out.set(name, { rxBytes: f[0]!, rxPackets: f[1]!, rxErrors: f[2]!, rxDropped: f[3]!, txBytes: f[8]!, txPackets: f[9]!, txErrors: f[10]!, txDropped: f[11]! })
  }
  return out
}

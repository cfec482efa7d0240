import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CgroupStatsReader, parseBlkio, parseFlatKeyed, parseNetDev, parseProcStat, parseU64 } from '../../platform/cgroup-stats.js'
import { containerStats, EMPTY_SAMPLE, type StatsFrame } from './stats.js'
import type { ContainerRecord } from './types.js'
import { encodeStatsJson, formatReadTime, toWireStats } from '../../api/routes/stats.js'
import { blockIO, cpuPercentUnix, memUsageNoCache, redrawFrame, renderStats, statsRow, toStatsEntry } from '../../cli/cmd/stats.js'

const ID = 'a'.repeat(64)

function record(status: ContainerRecord['state']['status'], networkMode = 'none'): ContainerRecord {
  return { id: ID, name: 'web', hostConfig: { networkMode }, state: { status, pid: 4242 } } as unknown as ContainerRecord
}

/** A fake /sys/fs/cgroup and /proc under a temp dir, with figures the test controls. */
async function fakeHost(root: string, o: { usage: string; system: string; limit?: string; pidsMax?: string }): Promise<void> {
  const put = async (ctl: string, file: string, text: string) => {
    await mkdir(join(root, 'cg', ctl, 'berth', ID), { recursive: true })
    await writeFile(join(root, 'cg', ctl, 'berth', ID, file), text)
  }
  await put('cpuacct', 'cpuacct.usage', `${o.usage}\n`)
  await put('cpuacct', 'cpuacct.usage_percpu', '300 200 \n')
  await put('cpuacct', 'cpuacct.stat', 'user 7\nsystem 3\n')
  await put('cpu', 'cpu.stat', 'nr_periods 10\nnr_throttled 2\nthrottled_time 5000\nnr_bursts 0\nburst_time 0\n')
  await put('memory', 'memory.usage_in_bytes', '1048576\n')
  await put('memory', 'memory.max_usage_in_bytes', '2097152\n')
  await put('memory', 'memory.limit_in_bytes', `${o.limit ?? '9223372036854771712'}\n`)
  await put('memory', 'memory.failcnt', '0\n')
  await put('memory', 'memory.stat', 'cache 4096\nrss 8192\nshmem 0\nswap 0\ntotal_inactive_file 262144\nhierarchical_memory_limit 9223372036854771712\n')
  await put('pids', 'pids.current', '3\n')
  await put('pids', 'pids.max', `${o.pidsMax ?? 'max'}\n`)
  await put('blkio', 'blkio.throttle.io_service_bytes', '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Discard 0\n8:0 Total 12288\nTotal 12288\n')
  await put('blkio', 'blkio.throttle.io_serviced', '8:0 Read 1\n8:0 Write 2\nTotal 3\n')
  await mkdir(join(root, 'proc', '4242', 'net'), { recursive: true })
  await writeFile(join(root, 'proc', 'stat'), `cpu  ${o.system} 0 0 0 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 0 0 0\ncpu1 1 2 3 4 5 6 7 0 0 0\nintr 1\n`)
  await writeFile(join(root, 'proc', 'meminfo'), 'MemTotal:       1000 kB\nMemFree: 5 kB\n')
  await writeFile(join(root, 'proc', '4242', 'net', 'dev'), 'Inter-|   Receive\n face |bytes\n    lo: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n  eth0: 1500 12 1 2 0 0 0 0 900 8 3 4 0 0 0 0\n')
}

describe('cgroup v1 parsing', () => {
  it('reads numbers, with max as 0 and 64-bit values exact', () => {
    assert.equal(parseU64('max'), 0n)
    assert.equal(parseU64('9223372036854771712'), 9223372036854771712n)
    assert.deepEqual([...parseFlatKeyed('user 7\nsystem 3\n')], [['user', 7n], ['system', 3n]])
  })
  it('reads blkio lines and skips the Total line', () => {
    assert.deepEqual(parseBlkio('8:16 Read 4096\n8:16 Write 1\nTotal 4097\n'), [
      { major: 8, minor: 16, op: 'Read', value: 4096n }, { major: 8, minor: 16, op: 'Write', value: 1n },
    ])
  })
  it('computes the host CPU time as Docker: first 7 fields of cpu, in ns, and counts cpuN lines', () => {
    const s = parseProcStat('cpu  100 1 2 3 4 5 6 999 999 999\ncpu0 1\ncpu1 1\ncpu2 1\nintr 5\n')
    assert.equal(s.systemUsage, (100n + 1n + 2n + 3n + 4n + 5n + 6n) * 10_000_000n)
    assert.equal(s.onlineCpus, 3)
  })
  it('reads net/dev counters per interface', () => {
    const m = parseNetDev('h1\nh2\n  eth0: 1500 12 1 2 0 0 0 0 900 8 3 4 0 0 0 0\n')
    assert.deepEqual(m.get('eth0'), { rxBytes: 1500n, rxPackets: 12n, rxErrors: 1n, rxDropped: 2n, txBytes: 900n, txPackets: 8n, txErrors: 3n, txDropped: 4n })
  })
})

describe('container stats', () => {
  let root: string
  let reader: CgroupStatsReader
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-stats-'))
    await fakeHost(root, { usage: '1000', system: '500' })
    reader = new CgroupStatsReader(join(root, 'cg'), join(root, 'proc'))
  })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  const collect = async (rec: ContainerRecord, opts: Parameters<typeof containerStats>[2], max = 10): Promise<StatsFrame[]> => {
    const out: StatsFrame[] = []
    for await (const f of containerStats({ get: () => rec, reader }, ID, { intervalMs: 20, ...opts })) {
      out.push(f)
      if (out.length >= max) break
    }
    return out
  }

  it('reads a running container and maps it to Docker\'s JSON', async () => {
    const [f] = await collect(record('running'), { stream: false, oneShot: true })
    assert.ok(f)
    assert.equal(f.previous, EMPTY_SAMPLE)
    const w = toWireStats(f)
    assert.equal(w.name, '/web')
    assert.deepEqual(Object.keys(w), ['read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats', 'memory_stats', 'name', 'id'])
    assert.equal(w.preread, '0001-01-01T00:00:00Z')
    assert.match(w.read, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/)
    assert.deepEqual(w.pids_stats, { current: 3n }, 'pids.max "max" is no limit, left out')
    assert.deepEqual(w.cpu_stats, {
      cpu_usage: { total_usage: 1000n, percpu_usage: [300n, 200n], usage_in_kernelmode: 30_000_000n, usage_in_usermode: 70_000_000n },
      system_cpu_usage: 5_000_000_000n, online_cpus: 2,
      throttling_data: { periods: 10n, throttled_periods: 2n, throttled_time: 5000n },
    })
    assert.deepEqual(w.precpu_stats, { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } })
    // No memory limit: MemTotal is the limit; failcnt 0 is left out; Docker's fixed key set, sorted.
    assert.equal(w.memory_stats.limit, 1_024_000n)
    assert.equal(w.memory_stats.failcnt, undefined)
    const keys = Object.keys(w.memory_stats.stats ?? {})
    assert.equal(keys.length, 32)
    assert.deepEqual(keys, [...keys].sort())
    assert.ok(!keys.includes('shmem') && !keys.includes('swap'))
    assert.equal(w.memory_stats.stats?.total_inactive_file, 262144n)
    assert.equal(w.memory_stats.stats?.hierarchical_memsw_limit, 0n)
    assert.deepEqual(w.blkio_stats.io_service_bytes_recursive?.map((e) => `${e.op}=${e.value}`), ['Read=4096', 'Write=8192', 'Sync=0', 'Async=12288', 'Discard=0', 'Total=12288'])
    assert.deepEqual(w.blkio_stats.sectors_recursive, [])
    assert.match(encodeStatsJson(w), /"hierarchical_memory_limit":9223372036854771712,/)
  })

  it('reports networks other than lo for a container with its own namespace, none for host', async () => {
    const [own] = await collect(record('running', 'bridge'), { stream: false, oneShot: true })
    assert.deepEqual(Object.keys(toWireStats(own!).networks ?? {}), ['eth0'])
    assert.equal(toWireStats(own!).networks?.eth0?.rx_bytes, 1500n)
    const [host] = await collect(record('running', 'host'), { stream: false, oneShot: true })
    assert.equal(toWireStats(host!).networks, undefined)
  })

  it('stream=false without one-shot takes two samples: precpu is filled', async () => {
    const frames = await collect(record('running'), { stream: false })
    assert.equal(frames.length, 1)
    const w = toWireStats(frames[0]!)
    assert.notEqual(w.preread, '0001-01-01T00:00:00Z')
    assert.ok(frames[0]!.current.readNano > frames[0]!.previous.readNano)
    assert.equal(w.precpu_stats.system_cpu_usage, 5_000_000_000n)
  })

  it('streams frames, each carrying the previous sample, the first with an empty one', async () => {
    const frames = await collect(record('running'), { stream: true }, 3)
    assert.equal(frames.length, 3)
    assert.equal(frames[0]!.previous, EMPTY_SAMPLE)
    assert.equal(frames[1]!.previous, frames[0]!.current)
    assert.equal(frames[2]!.previous, frames[1]!.current)
  })

  it('a stopped container gives Docker\'s zeroed object, once without stream, repeatedly with it', async () => {
    const once = await collect(record('exited'), { stream: false })
    assert.equal(once.length, 1)
    assert.equal(encodeStatsJson(toWireStats(once[0]!)),
      `{"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},"blkio_stats":{"io_service_bytes_recursive":null,"io_serviced_recursive":null,"io_queue_recursive":null,"io_service_time_recursive":null,"io_wait_time_recursive":null,"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"memory_stats":{},"name":"/web","id":"${ID}"}`)
    assert.equal((await collect(record('created'), { stream: true }, 3)).length, 3)
  })

  it('stops when the signal aborts, with no timer left behind', async () => {
    const ac = new AbortController()
    const frames: StatsFrame[] = []
    const t0 = Date.now()
    for await (const f of containerStats({ get: () => record('running'), reader }, ID, { stream: true, signal: ac.signal, intervalMs: 10_000 })) {
      frames.push(f)
      setTimeout(() => ac.abort(), 20)
    }
    assert.equal(frames.length, 1)
    assert.ok(Date.now() - t0 < 5000, 'the 10 s wait was cut short')
  })

  it('ends when the container is removed', async () => {
    let rec: ContainerRecord | undefined = record('running')
    let n = 0
    for await (const _ of containerStats({ get: () => rec, reader }, ID, { stream: true, intervalMs: 5 })) if (++n === 2) rec = undefined
    assert.equal(n, 2)
  })

  it('formats read times as Go\'s RFC3339Nano', () => {
    assert.equal(formatReadTime(0n), '0001-01-01T00:00:00Z')
    assert.equal(formatReadTime(1_700_000_000_123_400_000n), '2023-11-14T22:13:20.1234Z')
    assert.equal(formatReadTime(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z')
  })
})

describe('docker stats computations (CLI)', () => {
  it('CPU % is the container delta over the host delta times the online CPUs', () => {
    const v = { cpu_stats: { cpu_usage: { total_usage: 3_000 }, system_cpu_usage: 20_000, online_cpus: 2 }, precpu_stats: { cpu_usage: { total_usage: 1_000 }, system_cpu_usage: 10_000 } }
    assert.equal(cpuPercentUnix(v), 40)
    assert.equal(cpuPercentUnix({ ...v, cpu_stats: { cpu_usage: { total_usage: 3_000, percpu_usage: [1, 2, 3, 4] }, system_cpu_usage: 20_000 } }), 80, 'percpu length when online_cpus is absent')
    assert.equal(cpuPercentUnix({ cpu_stats: v.cpu_stats }), 0.0 + (3_000 / 20_000) * 2 * 100, 'empty precpu: deltas from 0')
    assert.equal(cpuPercentUnix({ ...v, precpu_stats: { cpu_usage: { total_usage: 5_000 }, system_cpu_usage: 10_000 } }), 0)
  })
  it('memory usage leaves out the inactive file cache (cgroup v1 total_inactive_file, else inactive_file)', () => {
    assert.equal(memUsageNoCache({ usage: 1000, stats: { total_inactive_file: 300, inactive_file: 100 } }), 700)
    assert.equal(memUsageNoCache({ usage: 1000, stats: { inactive_file: 100 } }), 900)
    assert.equal(memUsageNoCache({ usage: 100, stats: { total_inactive_file: 300 } }), 100)
  })
  it('block I/O sums reads and writes by op', () => {
    assert.deepEqual(blockIO({ io_service_bytes_recursive: [{ op: 'Read', value: 5 }, { op: 'write', value: 7 }, { op: 'Total', value: 12 }, { op: 'Read', value: 1 }] }), { read: 6, write: 7 })
  })
  it('prints rows as docker does', () => {
    const e = toStatsEntry('web', {
      name: '/web', id: ID,
      memory_stats: { usage: 67_108_864 / 2 + 4096, limit: 67_108_864, stats: { total_inactive_file: 4096 } },
      pids_stats: { current: 3 },
      blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 1_234_567 }] },
      networks: { eth0: { rx_bytes: 1500, tx_bytes: 0 } },
    })
    assert.deepEqual(statsRow(e, true), { Container: 'web', Name: 'web', ID: ID.slice(0, 12), CPUPerc: '0.00%', MemUsage: '32MiB / 64MiB', MemPerc: '50.00%', NetIO: '1.5kB / 0B', BlockIO: '1.23MB / 0B', PIDs: '3' })
    assert.equal(statsRow({ ...e, isInvalid: true }, true).MemUsage, '-- / --')
    assert.equal(statsRow({ ...e, name: '' }, false).Name, '--')
    assert.equal(renderStats('table', [e], true).split('\n')[0], 'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O      BLOCK I/O     PIDS')
  })
  it('redraws as docker 28: home, table, the table again with erase-line, erase-below', () => {
    assert.equal(redrawFrame('A\nB\n'), '\x1b[HA\nB\n\x1b[HA \x1b[K\nB \x1b[K\n \x1b[K\n\x1b[J')
  })
})

// engine stats → the API's wire shape: the two layers' contract, checked outside the layered tree.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encodeStatsJson, formatReadTime, toWireStats } from '../../src/api/routes/stats.js'
import { containerStats, EMPTY_SAMPLE, type StatsFrame } from '../../src/engine/containers/stats.js'
import type { ContainerRecord } from '../../src/engine/containers/types.js'
import { ID, fakeHost, record } from '../../src/engine/containers/stats-testing.js'

describe('container stats on the wire', () => {
  const reader = fakeHost({ usage: '1000', system: '500' }).cgroups.statsReader()

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

  it('a stopped container gives Docker\'s zeroed object, once without stream, repeatedly with it', async () => {
    const once = await collect(record('exited'), { stream: false })
    assert.equal(once.length, 1)
    assert.equal(encodeStatsJson(toWireStats(once[0]!)),
      `{"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},"blkio_stats":{"io_service_bytes_recursive":null,"io_serviced_recursive":null,"io_queue_recursive":null,"io_service_time_recursive":null,"io_wait_time_recursive":null,"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"memory_stats":{},"name":"/web","id":"${ID}"}`)
    assert.equal((await collect(record('created'), { stream: true }, 3)).length, 3)
  })

  it('formats read times as Go\'s RFC3339Nano', () => {
    assert.equal(formatReadTime(0n), '0001-01-01T00:00:00Z')
    assert.equal(formatReadTime(1_700_000_000_123_400_000n), '2023-11-14T22:13:20.1234Z')
    assert.equal(formatReadTime(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z')
  })
})

// engine stats → the API's wire shape: the two layers' contract, checked outside the layered tree.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encodeStatsJson, formatReadTime, toWireStats } from '../../src/api/routes/stats.js'
import { FakePlatform } from '../../src/platform/fake.js'
import { containerStats, EMPTY_SAMPLE, type StatsFrame } from '../../src/engine/containers/stats.js'
import type { ContainerRecord } from '../../src/engine/containers/types.js'
const ID = 'a'.repeat(64)

function record(status: ContainerRecord['state']['status'], networkMode = 'none'): ContainerRecord {
  return { id: ID, name: 'web', hostConfig: { networkMode }, state: { status, pid: 4242 } } as unknown as ContainerRecord
}

/** Cgroup and /proc files of one container in a fake platform, with figures the test controls. */
function fakeHost(o: { usage: string; system: string; limit?: string; pidsMax?: string }): FakePlatform {
  const p = new FakePlatform()
  const put = (ctl: string, file: string, text: string) => p.files.set(`/sys/fs/cgroup/${ctl}/berth/${ID}/${file}`, text)
  put('cpuacct', 'cpuacct.usage', `${o.usage}\n`)
  put('cpuacct', 'cpuacct.usage_percpu', '300 200 \n')
  put('cpuacct', 'cpuacct.stat', 'user 7\nsystem 3\n')
  put('cpu', 'cpu.stat', 'nr_periods 10\nnr_throttled 2\nthrottled_time 5000\nnr_bursts 0\nburst_time 0\n')
  put('memory', 'memory.usage_in_bytes', '1048576\n')
  put('memory', 'memory.max_usage_in_bytes', '2097152\n')
  put('memory', 'memory.limit_in_bytes', `${o.limit ?? '9223372036854771712'}\n`)
  put('memory', 'memory.failcnt', '0\n')
  put('memory', 'memory.stat', 'cache 4096\nrss 8192\nshmem 0\nswap 0\ntotal_inactive_file 262144\nhierarchical_memory_limit 9223372036854771712\n')
  put('pids', 'pids.current', '3\n')
  put('pids', 'pids.max', `${o.pidsMax ?? 'max'}\n`)
  put('blkio', 'blkio.throttle.io_service_bytes', '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Discard 0\n8:0 Total 12288\nTotal 12288\n')
  put('blkio', 'blkio.throttle.io_serviced', '8:0 Read 1\n8:0 Write 2\nTotal 3\n')
  p.files.set('/proc/stat', `cpu  ${o.system} 0 0 0 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 0 0 0\ncpu1 1 2 3 4 5 6 7 0 0 0\nintr 1\n`)
  p.files.set('/proc/meminfo', 'MemTotal:       1000 kB\nMemFree: 5 kB\n')
  p.files.set('/proc/4242/net/dev', 'Inter-|   Receive\n face |bytes\n    lo: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n  eth0: 1500 12 1 2 0 0 0 0 900 8 3 4 0 0 0 0\n')
  return p
}

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

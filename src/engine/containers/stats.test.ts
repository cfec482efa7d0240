import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseBlkio, parseFlatKeyed, parseNetDev, parseProcStat, parseU64 } from '../../platform/cgroup-stats.js'
import { containerStats, EMPTY_SAMPLE, type StatsFrame } from './stats.js'
import type { ContainerRecord } from './types.js'
import { ID, fakeHost, record } from './stats-testing.js'

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
  const reader = fakeHost({ usage: '1000', system: '500' }).cgroups.statsReader()

  const collect = async (rec: ContainerRecord, opts: Parameters<typeof containerStats>[2], max = 10): Promise<StatsFrame[]> => {
    const out: StatsFrame[] = []
    for await (const f of containerStats({ get: () => rec, reader }, ID, { intervalMs: 20, ...opts })) {
      out.push(f)
      if (out.length >= max) break
    }
    return out
  }

  it('reads a running container: cgroup figures, host CPU and MemTotal', async () => {
    const [f] = await collect(record('running'), { stream: false, oneShot: true })
    assert.ok(f)
    assert.equal(f.name, '/web')
    assert.equal(f.id, ID)
    assert.equal(f.previous, EMPTY_SAMPLE)
    assert.ok(f.current.readNano > 0n)
    const cg = f.current.cgroup!
    assert.deepEqual(cg.cpu, { totalUsage: 1000n, percpuUsage: [300n, 200n], usageInKernelmode: 30_000_000n, usageInUsermode: 70_000_000n, throttling: { periods: 10n, throttledPeriods: 2n, throttledTime: 5000n } })
    assert.deepEqual(cg.pids, { current: 3n, limit: 0n }, 'pids.max "max" is no limit')
    assert.equal(cg.memory?.limit, 9223372036854771712n)
    assert.equal(cg.memory?.stat.get('total_inactive_file'), 262144n)
    assert.deepEqual(cg.blkio.serviceBytes.map((e) => `${e.op}=${e.value}`), ['Read=4096', 'Write=8192', 'Sync=0', 'Async=12288', 'Discard=0', 'Total=12288'])
    assert.deepEqual(f.current.system, { systemUsage: 5_000_000_000n, onlineCpus: 2 })
    assert.equal(f.current.memTotal, 1_024_000n)
  })

  it('reports networks other than lo for a container with its own namespace, none for host', async () => {
    const [own] = await collect(record('running', 'bridge'), { stream: false, oneShot: true })
    assert.deepEqual([...(own!.current.networks?.keys() ?? [])], ['eth0'])
    assert.equal(own!.current.networks?.get('eth0')?.rxBytes, 1500n)
    const [host] = await collect(record('running', 'host'), { stream: false, oneShot: true })
    assert.equal(host!.current.networks, undefined)
  })

  it('stream=false without one-shot takes two samples: the previous one is filled', async () => {
    const frames = await collect(record('running'), { stream: false })
    assert.equal(frames.length, 1)
    assert.ok(frames[0]!.previous.readNano > 0n)
    assert.ok(frames[0]!.current.readNano > frames[0]!.previous.readNano)
    assert.equal(frames[0]!.previous.system?.systemUsage, 5_000_000_000n)
  })
  it('streams frames, each carrying the previous sample, the first with an empty one', async () => {
    const frames = await collect(record('running'), { stream: true }, 3)
    assert.equal(frames.length, 3)
    assert.equal(frames[0]!.previous, EMPTY_SAMPLE)
    assert.equal(frames[1]!.previous, frames[0]!.current)
    assert.equal(frames[2]!.previous, frames[1]!.current)
  })


  it('a stopped container gives empty samples, once without stream, repeatedly with it', async () => {
    const once = await collect(record('exited'), { stream: false })
    assert.equal(once.length, 1)
    assert.equal(once[0]!.current, EMPTY_SAMPLE)
    assert.equal(once[0]!.previous, EMPTY_SAMPLE)
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

})

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { blockIO, cpuPercentUnix, memUsageNoCache, redrawFrame, renderStats, statsRow, toStatsEntry } from './stats.js'

const ID = 'a'.repeat(64)

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

// A container's cgroup and /proc files in a fake platform, for the stats tests of the engine and of its wire contract.
import { FakePlatform } from '../../platform/fake.js'
import type { ContainerRecord } from './types.js'

export const ID = 'a'.repeat(64)

export function record(status: ContainerRecord['state']['status'], networkMode = 'none'): ContainerRecord {
  return { id: ID, name: 'web', hostConfig: { networkMode }, state: { status, pid: 4242 } } as unknown as ContainerRecord
}

/** Cgroup and /proc files of one container in a fake platform, with figures the test controls. */
export function fakeHost(o: { usage: string; system: string; limit?: string; pidsMax?: string }): FakePlatform {
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

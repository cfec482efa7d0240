/**
 * `docker stats` against berthd: the real docker CLI (28.x) and `berth stats` read the figures
 * berthd takes from the containers' cgroup v1 files, and the API's stream / one-shot answers
 * behave as dockerd's. Streaming commands run under `timeout -s KILL` (they never end by themselves).
 */
import { before, it } from 'node:test'
import assert from 'node:assert/strict'
import { request, type ClientRequest } from 'node:http'
import { readFile } from 'node:fs/promises'
import { api, berth, BERTH, type DaemonHandle } from './harness.js'
import { dockerSuite, waitFor } from './image-helpers.js'
import { busyboxDaemon, cgroupDir, cgroupV1, dockerT, runKilled, sleep } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

const ZERO_TIME = '0001-01-01T00:00:00Z'

dockerSuite('docker CLI: stats', () => {
  let h: DaemonHandle

  const ok = async (...args: string[]): Promise<string> => {
    const r = await dockerT(h, 30, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }
  // Without a network the NET I/O column is stable (0B / 0B): the bridge case has its own test.
  const runDetached = async (...args: string[]): Promise<string> => (await ok('run', '-d', '--network', 'none', ...args)).trim()
  const stats = async (ref: string, query = 'stream=false'): Promise<Json> => {
    const r = await api(h, 'GET', `/containers/${ref}/stats?${query}`)
    assert.equal(r.status, 200, r.body.toString())
    return r.json()
  }
  /** Docker's MEM USAGE for cgroup v1: usage minus total_inactive_file. */
  const memUsed = (s: Json): number => s.memory_stats.usage - (s.memory_stats.stats?.total_inactive_file ?? 0)

  const daemon = busyboxDaemon()
  before(() => { h = daemon.h })

  it('a container on the default bridge reports its eth0 in networks', async () => {
    await ok('run', '-d', '--name', 'st-net', 'busybox', 'sleep', '1000')
    const s = await stats('st-net', 'stream=false&one-shot=true')
    assert.ok(s.networks && s.networks.eth0, JSON.stringify(s.networks))
    assert.equal(typeof s.networks.eth0.rx_bytes, 'number')
  })

  it('docker stats --no-stream shows the 64MiB limit, the PIDs and Docker\'s columns', { skip: !cgroupV1 && 'needs cgroup v1' }, async () => {
    const id = await runDetached('--name', 'st-mem', '-m', '64m', 'busybox', 'sh', '-c', 'sleep 1000 & sleep 1000 & wait')
    assert.equal((await readFile(`${cgroupDir('memory', id)}/memory.limit_in_bytes`, 'utf8')).trim(), '67108864')
    await waitFor('both sleeps', async () => Number((await readFile(`${cgroupDir('pids', id)}/pids.current`, 'utf8')).trim()) === 3)
    const out = await ok('stats', '--no-stream', 'st-mem')
    const [header, row, ...rest] = out.split('\n')
    assert.match(header!, /^CONTAINER ID\s{3}NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/)
    assert.deepEqual(rest, [''])
    const cols = row!.split(/\s{3,}/)
    assert.equal(cols[0], id.slice(0, 12))
    assert.equal(cols[1], 'st-mem')
    assert.match(cols[2]!, /^\d+\.\d\d%$/)
    assert.match(cols[3]!, /^[\d.]+(B|KiB|MiB) \/ 64MiB$/)
    assert.match(cols[4]!, /^\d+\.\d\d%$/)
    assert.equal(cols[5], '0B / 0B', 'network none: no interfaces but lo')
    assert.equal(cols[7], '3', 'sh and its two sleeps')
    // The API figures are the cgroup's own.
    const s = await stats('st-mem', 'stream=false&one-shot=true')
    assert.equal(s.memory_stats.limit, 67108864)
    assert.equal(s.memory_stats.stats.hierarchical_memory_limit, 67108864)
    assert.equal(s.pids_stats.current, 3)
    assert.equal(s.name, '/st-mem')
    assert.equal(s.id, id)
    assert.equal(s.networks, undefined)
    assert.ok(s.cpu_stats.online_cpus >= 1)
    assert.equal(s.cpu_stats.cpu_usage.percpu_usage.length, s.cpu_stats.online_cpus)
  })

  it('API: stream=false fills precpu from a first sample, one-shot answers at once, both with stream is an error', async () => {
    await runDetached('--name', 'st-api', 'busybox', 'sleep', '1000')
    const t0 = Date.now()
    const two = await stats('st-api')
    const waited = Date.now() - t0
    assert.notEqual(two.preread, ZERO_TIME)
    assert.ok(Date.parse(two.read) > Date.parse(two.preread))
    assert.ok(two.precpu_stats.system_cpu_usage > 0 && two.cpu_stats.system_cpu_usage > two.precpu_stats.system_cpu_usage)
    assert.ok(waited >= 900, `two samples a second apart (${waited} ms)`)
    const t1 = Date.now()
    const one = await stats('st-api', 'stream=false&one-shot=true')
    assert.ok(Date.now() - t1 < 900, 'one-shot does not wait')
    assert.equal(one.preread, ZERO_TIME)
    assert.deepEqual(one.precpu_stats, { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } })
    assert.deepEqual(Object.keys(one), ['read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats', 'memory_stats', 'name', 'id'])
    const bad = await api(h, 'GET', '/containers/st-api/stats?stream=true&one-shot=true')
    assert.equal(bad.status, 400)
    assert.deepEqual(bad.json(), { message: 'cannot have stream=true and one-shot=true' })
    // Before 1.41 there is no one-shot: the two-sample answer.
    const old = await api(h, 'GET', '/v1.40/containers/st-api/stats?stream=0&one-shot=1')
    assert.notEqual((old.json() as Json).preread, ZERO_TIME)
  })

  it('a container burning CPU shows CPU % above 10', async () => {
    await runDetached('--name', 'st-cpu', 'busybox', 'sh', '-c', 'while :; do :; done')
    const out = await ok('stats', '--no-stream', '--format', '{{.CPUPerc}}', 'st-cpu')
    const pct = Number(/^([\d.]+)%\n$/.exec(out)?.[1])
    assert.ok(pct > 10, `CPU % ${out.trim()}`)
    const s = await stats('st-cpu')
    assert.ok(s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage > 100_000_000, 'over 0.1 s of CPU in about a second')
  })

  it('memory usage grows when the container allocates', async () => {
    // On SIGUSR1 the shell keeps 20 MiB in a variable.
    await runDetached('--name', 'st-grow', 'busybox', 'sh', '-c', 'trap \'x=$(dd if=/dev/zero bs=1M count=20 2>/dev/null | tr "\\0" a); touch /tmp/grown\' USR1; while :; do sleep 0.2; done')
    const before = memUsed(await stats('st-grow', 'stream=false&one-shot=true'))
    const cliBefore = (await ok('stats', '--no-stream', '--format', '{{.MemUsage}}', 'st-grow')).trim()
    await ok('kill', '-s', 'USR1', 'st-grow')
    let after = before
    await waitFor('20 MiB more in use', async () => {
      after = memUsed(await stats('st-grow', 'stream=false&one-shot=true'))
      return after - before > 15 * 1024 * 1024
    }, 20_000, 300)
    const cliAfter = (await ok('stats', '--no-stream', '--format', '{{.MemUsage}}', 'st-grow')).trim()
    assert.match(cliBefore, /^[\d.]+(B|KiB|MiB) \/ [\d.]+GiB$/)
    const mib = (s: string) => { const m = /^([\d.]+)(B|KiB|MiB|GiB)/.exec(s)!; return Number(m[1]) * { B: 1 / 1048576, KiB: 1 / 1024, MiB: 1, GiB: 1024 }[m[2] as 'B']! }
    assert.ok(mib(cliAfter) - mib(cliBefore) > 15, `${cliBefore} → ${cliAfter}`)
  })

  it('a stopped container: zeroed objects (once without stream, every second with it) and a zero row', async () => {
    const id = (await ok('create', '--name', 'st-stopped', 'busybox', 'true')).trim()
    const s = await stats('st-stopped')
    assert.equal(JSON.stringify(s), JSON.stringify({
      read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {},
      blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null },
      num_procs: 0, storage_stats: {},
      cpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
      precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
      memory_stats: {}, name: '/st-stopped', id,
    }))
    const lines = await streamLines('/containers/st-stopped/stats', 2, 5000)
    assert.equal(lines.length, 2)
    for (const l of lines) assert.equal(JSON.parse(l).read, ZERO_TIME)
    const out = await ok('stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.BlockIO}}|{{.PIDs}}', 'st-stopped')
    assert.equal(out, 'st-stopped|0.00%|0B / 0B|0.00%|0B / 0B|0B / 0B|0\n')
    // Without --all only running containers are listed; with it, the stopped one too.
    assert.equal(await ok('stats', '--no-stream', '--format', '{{.Name}}'), '')
    assert.equal(await ok('stats', '--no-stream', '-a', '--format', '{{.Name}}'), 'st-stopped\n')
  })

  it('an unknown container: Docker\'s error and exit code, from docker and berth', async () => {
    const r = await dockerT(h, 20, 'stats', '--no-stream', 'st-nope')
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, 'Error response from daemon: No such container: st-nope\n')
    const b = await berth(h, 'stats', '--no-stream', 'st-nope')
    assert.deepEqual([b.code, b.stdout, b.stderr], [r.code, r.stdout, r.stderr])
    const a = await api(h, 'GET', '/containers/st-nope/stats?stream=false')
    assert.equal(a.status, 404)
    assert.deepEqual(a.json(), { message: 'No such container: st-nope' })
  })

  it('berth stats prints what docker stats prints (--format, json, table)', async () => {
    await runDetached('--name', 'st-a', 'busybox', 'sleep', '1000')
    await runDetached('--name', 'st-b', 'busybox', 'sh', '-c', 'sleep 1000 & wait')
    await ok('create', '--name', 'st-c', 'busybox', 'true')
    for (const args of [
      ['--format', '{{.Name}} {{.PIDs}}'],
      ['-a', '--format', '{{.Container}} {{.Name}} {{.ID}} {{.PIDs}} {{.NetIO}}'],
      ['--format', 'table {{.Name}}\t{{.PIDs}}\t{{.NetIO}}', 'st-b', 'st-a'],
      ['--no-trunc', '--format', '{{.ID}} {{.Name}}', 'st-c'],
      ['--format', '{{.Nope}}', 'st-a'],
    ]) {
      const d = await dockerT(h, 20, 'stats', '--no-stream', ...args)
      const b = await berth(h, 'stats', '--no-stream', ...args)
      assert.deepEqual([b.code, b.stdout, b.stderr], [d.code, d.stdout, d.stderr], `stats --no-stream ${args.join(' ')}`)
    }
    const d = JSON.parse(await ok('stats', '--no-stream', '--format', 'json', 'st-a'))
    const b = JSON.parse((await berth(h, 'stats', '--no-stream', '--format', 'json', 'st-a')).stdout)
    assert.deepEqual(Object.keys(b), Object.keys(d))
    assert.deepEqual([b.Name, b.ID, b.PIDs, b.NetIO, b.BlockIO], [d.Name, d.ID, d.PIDs, d.NetIO, d.BlockIO])
    const table = (await berth(h, 'stats', '--no-stream', 'st-a')).stdout.split('\n')[0]
    assert.equal(table, (await ok('stats', '--no-stream', 'st-a')).split('\n')[0])
  })

  it('streaming: docker and berth redraw every half second and pick up a container started meanwhile', async () => {
    await runDetached('--name', 'st-s1', 'busybox', 'sleep', '1000')
    const run = (argv: string[]) => runKilled(h, 5, argv)
    const both = [run(['docker', 'stats', '--format', '{{.Name}}']), run([process.execPath, BERTH, 'stats', '--format', '{{.Name}}'])]
    await sleep(2000)
    await runDetached('--name', 'st-s2', 'busybox', 'sleep', '1000')
    for (const [i, r] of (await Promise.all(both)).entries()) {
      const who = i === 0 ? 'docker' : 'berth'
      assert.equal(r.code, 137, `${who}: killed, streaming does not end by itself`)
      const frames = r.stdout.split('\x1b[J').filter(Boolean)
      assert.ok(frames.length >= 3, `${who}: ${frames.length} frames`)
      assert.ok(frames.every((f) => f.startsWith('\x1b[H')), who)
      assert.equal(frames[0], '\x1b[Hst-s1\n\x1b[Hst-s1 \x1b[K\n \x1b[K\n', who)
      // A container that appears is added after those already shown.
      assert.equal(frames.at(-1), '\x1b[Hst-s1\nst-s2\n\x1b[Hst-s1 \x1b[K\nst-s2 \x1b[K\n \x1b[K\n', who)
    }
  })

  /** Streaming requests still open (dropAll ends them). */
  const open = new Set<ClientRequest>()
  const dropAll = () => { for (const r of open) r.destroy(); open.clear() }

  /** Up to n lines of a streaming GET (within ms), then the connection is dropped. */
  function streamLines(path: string, n: number, ms: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const lines: string[] = []
      let buf = ''
      const req = request({ socketPath: h.socket, path, method: 'GET' }, (res) => {
        res.on('close', () => { open.delete(req); clearTimeout(t); resolve(lines) })
        res.on('data', (c: Buffer) => {
          buf += c.toString()
          let i: number
          while ((i = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1) }
          if (lines.length >= n) { clearTimeout(t); req.destroy(); resolve(lines.slice(0, n)) }
        })
      })
      open.add(req)
      const t = setTimeout(() => { req.destroy(); resolve(lines) }, ms)
      req.on('error', (err) => { if (open.has(req)) reject(err) })
      req.end()
    })
  }

  /** Read syscalls berthd made so far (/proc/<pid>/io). */
  const syscr = async () => Number(/^syscr: (\d+)$/m.exec(await readFile(`/proc/${h.proc.pid}/io`, 'utf8'))![1])

  // Last: it stops the daemon.
  it('a stream stops sampling when its client goes away, and the daemon exits promptly', async () => {
    await runDetached('--name', 'st-gone', 'busybox', 'sleep', '1000')
    const streams = Array.from({ length: 6 }, () => streamLines('/containers/st-gone/stats', 100, 60_000))
    await sleep(500)
    const r0 = await syscr()
    await sleep(3000)
    const busy = (await syscr()) - r0
    dropAll()
    assert.deepEqual((await Promise.all(streams)).map((l) => l.length >= 3), streams.map(() => true), 'each stream sent a line a second')
    await sleep(1500)
    const r1 = await syscr()
    await sleep(3000)
    const idle = (await syscr()) - r1
    assert.ok(busy > 6 * 3 * 10, `6 streams read the cgroup files (${busy} reads in 3 s)`)
    assert.ok(idle < busy / 4, `no sampling once the clients left (${idle} reads in 3 s, ${busy} while streaming)`)
    await api(h, 'DELETE', '/containers/st-gone?force=1')
    const t0 = Date.now()
    const exited = new Promise<number | null>((r) => h.proc.once('exit', (code) => r(code)))
    h.proc.kill('SIGTERM')
    assert.equal(await exited, 0)
    assert.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms`)
  })
})

/**
 * The real docker CLI against berthd's logs: json-file semantics with rotation (max-size,
 * max-file) done by berthd around conmon, reading across the rotated set, follow across
 * rotations, --tail/--since, Docker's option errors, --log-driver none, --details, and rotation
 * resuming after berthd is killed while a container keeps logging.
 */
import { before, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { DaemonHandle } from './harness.js'
import { dockerSuite } from './image-helpers.js'
import { busyboxDaemon, dockerT, runKilled, sleep } from './container-helpers.js'

/** busybox sh: `n` numbered lines of ~100 bytes, `batch` lines per write burst, a pause between bursts. */
const writer = (n: number, batch: number, pause = '0.01') =>
  `i=0; pad=$(printf '%080d' 0); while [ $i -lt ${n} ]; do j=0; while [ $j -lt ${batch} ]; do printf 'seq=%06d %s\\n' $i $pad; i=$((i+1)); j=$((j+1)); done; sleep ${pause}; done`

dockerSuite('docker CLI: logs', () => {
  let h: DaemonHandle
  const ok = async (...args: string[]): Promise<string> => {
    const r = await dockerT(h, 60, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }
  /** The log files now; a rotation between the listing and a stat (a file renamed away) lists again. */
  const logFiles = async (id: string): Promise<Array<{ name: string; size: number; ino: number }>> => {
    const dir = join(h.dataRoot, 'containers', id)
    for (let attempt = 0; ; attempt++) {
      const names = (await readdir(dir)).filter((n) => /^container\.log(\.\d+)?$/.test(n))
      try {
        return await Promise.all(names.map(async (n) => { const st = await stat(join(dir, n)); return { name: n, size: st.size, ino: st.ino } }))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 20) throw err
      }
    }
  }
  const seqs = (out: string) => out.split('\n').filter((l) => l.startsWith('seq=')).map((l) => Number(l.slice(4, 10)))
  const assertConsecutive = (s: number[], what: string) => {
    for (let i = 1; i < s.length; i++) assert.equal(s[i], s[i - 1]! + 1, `${what}: gap or disorder after seq ${s[i - 1]} (got ${s[i]})`)
  }


  const daemon = busyboxDaemon()
  before(() => { h = daemon.h })

  it('max-size=10k max-file=3: at most 3 files of about 10k, docker logs gives the newest lines in order', async () => {
    const id = (await ok('run', '-d', '--name', 'rot', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', writer(10_000, 20))).trim()
    // Watch the files (cheaply: no docker command meanwhile) until the container exits.
    let exited = false
    const waiting = dockerT(h, 120, 'wait', 'rot').finally(() => { exited = true })
    let maxSeen = 0
    let maxCount = 0
    let big = ''
    while (!exited) {
      const files = await logFiles(id).catch(() => [])
      maxCount = Math.max(maxCount, files.length)
      for (const f of files) if (f.size > maxSeen) { maxSeen = f.size; big = JSON.stringify(files) }
      await sleep(20)
    }
    assert.equal((await waiting).code, 0)
    const files = await logFiles(id)
    assert.ok(files.length <= 3 && maxCount <= 3, `files: ${JSON.stringify(files)} (most seen at once: ${maxCount})`)
    // What the writer adds between two checks is allowed past the limit (a few 2 KB bursts).
    assert.ok(maxSeen <= 2 * 10_000, `a log file grew to ${maxSeen} bytes: ${big}`)
    const s = seqs(await ok('logs', 'rot'))
    assert.ok(s.length > 100 && s.length < 400, `kept ${s.length} lines`)
    assert.equal(s[s.length - 1], 9999)
    assertConsecutive(s, 'docker logs')
    assert.deepEqual(seqs(await ok('logs', '--tail', '5', 'rot')), [9995, 9996, 9997, 9998, 9999])
    await ok('rm', 'rot')
  })

  it('logs -f follows across rotations without losing a line', async () => {
    await ok('run', '-d', '--name', 'fol', '--log-opt', 'max-size=20k', '--log-opt', 'max-file=4', 'busybox', 'sh', '-c', `sleep 1; ${writer(5_000, 20)}`)
    const r = await runKilled(h, 90, ['docker', 'logs', '-f', 'fol'])
    assert.equal(r.code, 0, r.stderr)
    const s = seqs(r.stdout)
    assertConsecutive(s, 'logs -f')
    assert.equal(s.length, 5000, `followed ${s.length} lines`)
    await ok('rm', 'fol')
  })

  it('--tail and --since on a big log find their start without reading it all, and are exact', async () => {
    await ok('run', '--name', 'big', '--log-opt', 'max-size=50m', 'busybox', 'sh', '-c', 'seq 1 300000')
    const all = (await ok('logs', '-t', 'big')).trim().split('\n')
    assert.equal(all.length, 300_000)
    assert.deepEqual((await ok('logs', '--tail', '5', 'big')).trim().split('\n'), ['299996', '299997', '299998', '299999', '300000'])
    assert.equal(await ok('logs', '--tail', '0', 'big'), '')
    for (const k of [1, 150_000, 299_999]) {
      const ts = all[k]!.split(' ')[0]!
      const want = all.filter((l) => l.split(' ')[0]! >= ts)
      const got = (await ok('logs', '-t', '--since', ts, 'big')).trim().split('\n')
      assert.equal(got.length, want.length, `--since ${ts}`)
      assert.equal(got[0], want[0])
      const untilGot = (await ok('logs', '--since', ts, '--until', ts, 'big')).trim().split('\n')
      assert.deepEqual(untilGot, all.filter((l) => l.split(' ')[0] === ts).map((l) => l.split(' ')[1]))
    }
    await ok('rm', 'big')
  })

  it('bad log options: Docker\'s errors, and no container is created', async () => {
    const before = (await ok('ps', '-aq')).trim()
    const cases: Array<[string[], string]> = [
      [['--log-opt', 'max-file=0'], 'max-file cannot be less than 1'],
      [['--log-opt', 'foo=bar'], "unknown log opt 'foo' for json-file log driver"],
      [['--log-opt', 'max-size=lots'], "invalid size: 'lots'"],
      [['--log-driver', 'local', '--log-opt', 'labels=a'], "unknown log opt 'labels' for log driver local"],
    ]
    for (const [flags, want] of cases) {
      const r = await dockerT(h, 20, 'run', '--name', 'bad', ...flags, 'busybox', 'true')
      assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, new RegExp(`Error response from daemon: .*${want.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), flags.join(' '))
    }
    assert.equal((await ok('ps', '-aq')).trim(), before)
  })

  it('an unknown log driver: Docker\'s error', async () => {
    const r = await dockerT(h, 20, 'run', '--name', 'bad', '--log-driver', 'nosuch', 'busybox', 'true')
    assert.equal(r.code, 125)
    assert.match(r.stderr, /logger: no log driver named 'nosuch' is registered/)
  })

  it('--log-driver none: no log file, and docker logs says the driver cannot be read', async () => {
    const id = (await ok('run', '-d', '--name', 'quiet', '--log-driver', 'none', 'busybox', 'sh', '-c', 'echo hello; sleep 30')).trim()
    await sleep(300)
    assert.deepEqual(await logFiles(id), [])
    const r = await dockerT(h, 20, 'logs', 'quiet')
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /configured logging driver does not support reading/)
    await ok('rm', '-f', 'quiet')
  })

  it('--details shows the labels and env the options name, as Docker does', async () => {
    await ok('run', '--name', 'det', '--label', 'zone=eu west', '--label', 'app=shop', '-e', 'MODE=prod', '--log-opt', 'labels=zone,app', '--log-opt', 'env=MODE', 'busybox', 'echo', 'hi')
    assert.equal(await ok('logs', '--details', 'det'), 'MODE=prod,app=shop,zone=eu+west hi\n')
    await ok('run', '--name', 'det2', 'busybox', 'echo', 'hi')
    assert.equal(await ok('logs', '--details', 'det2'), ' hi\n')
    await ok('rm', 'det', 'det2')
  })

  it('berthd killed (-9) while a container keeps logging: the files stay bounded and rotation resumes', async () => {
    const id = (await ok('run', '-d', '--name', 'crash', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', writer(100_000, 10, '0.02'))).trim()
    await sleep(1500)
    await h.kill()
    await sleep(2000)
    // conmon's own cap (max-size x max-file) holds while berthd is away; its cut is kept by the hard link.
    for (const f of await logFiles(id)) assert.ok(f.size <= 30_000 + 4_000, `while berthd was down: ${JSON.stringify(f)}`)
    await h.restart()
    await sleep(1500)
    const first = await logFiles(id)
    assert.ok(first.some((f) => f.name === 'container.log.1'), `after restart: ${JSON.stringify(first)}`)
    // Inode numbers are reused: tell the files apart by their first line.
    const firstLine = async () => (await readFile(join(h.dataRoot, 'containers', id, 'container.log.1'), 'utf8')).split('\n')[0]
    const one = await firstLine()
    await sleep(1500)
    const later = await logFiles(id)
    assert.ok(later.length <= 3, JSON.stringify(later))
    for (const f of later) assert.ok(f.size <= 10_000 + 8_000, `after restart: ${JSON.stringify(f)}`)
    assert.notEqual(await firstLine(), one, 'no rotation after the restart')
    const s = seqs(await ok('logs', 'crash'))
    assert.ok(s.length > 50)
    assertConsecutive(s.slice(-50), 'the newest lines')
    await ok('rm', '-f', 'crash')
  })
})

/**
 * Containers outlive berthd: kill -9 (and a clean stop) of the daemon while containers run,
 * then a restart that finds them again (ps, logs, attach, stop, wait), and the exit code of one
 * that ended while berthd was away. Then load: 50 concurrent `docker run -d`, a name race, and
 * a crash in the middle of a burst of runs. After all of it nothing may be left on the host.
 */
import { after, before, beforeEach, it } from 'node:test'
import assert from 'node:assert/strict'
import { api, fixture, startDaemon, type DaemonHandle } from './harness.js'
import { dockerSuite, waitFor } from './image-helpers.js'
import { conmonsOf, createdIds, dockerT, forceCleanup, isClean, leftoversOf, listedContainerIds, sleep } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

dockerSuite('containers: reliability', () => {
  let h: DaemonHandle
  const seen = new Set<string>()

  const ok = async (...args: string[]): Promise<string> => {
    const r = await dockerT(h, 30, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    for (const m of r.stdout.matchAll(/\b[a-f0-9]{64}\b/g)) seen.add(m[0])
    return r.stdout
  }
  const inspect = async (ref: string): Promise<Json> => (JSON.parse(await ok('inspect', ref)) as Json[])[0]
  const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '')
  const remember = async () => {
    for (const id of await listedContainerIds(h)) seen.add(id)
    for (const id of await createdIds(h)) seen.add(id)
  }

  before(async () => {
    h = await startDaemon()
    await ok('load', '-i', await fixture('busybox'))
  })
  // A failed test must not leave its containers to the next one.
  beforeEach(async () => {
    await remember()
    for (const id of await listedContainerIds(h)) await dockerT(h, 30, 'rm', '-f', id)
  })
  after(async () => {
    if (h) {
      await forceCleanup(h).catch(() => {})
      await h.cleanup()
    }
  })

  it('kill -9 berthd: containers keep running; after a restart ps, logs, attach, stop, wait work; an exit while away keeps its code', async () => {
    await ok('run', '-d', '--name', 'loop', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.1; done')
    await ok('run', '-d', '--name', 'quitter', 'busybox', 'sh', '-c', 'sleep 4; echo leaving; exit 42')
    await ok('run', '-d', '--name', 'sleeper', '--init', 'busybox', 'sleep', '60')
    await ok('run', '-d', '--name', 'pausy', 'busybox', 'sleep', '60')
    await ok('pause', 'pausy')
    const before = Object.fromEntries(await Promise.all(['loop', 'quitter', 'sleeper', 'pausy'].map(async (n) => [n, await inspect(n)] as const)))
    const monitors = await conmonsOf(h)
    assert.equal(monitors.length, 4, 'one conmon per container')
    await remember()

    await h.kill()
    await sleep(300)
    for (const pid of monitors) assert.ok(alive(pid), `conmon ${pid} outlives berthd`)
    for (const n of ['loop', 'sleeper', 'pausy']) assert.ok(alive(before[n].State.Pid), `${n} still runs`)
    await waitFor('quitter to exit while berthd is down', () => !alive(before.quitter.State.Pid), 10_000, 100)
    const downAt = Date.now()
    await sleep(200)
    await h.restart()

    // ps: the same containers, in the same states, with the same PIDs
    const ps = lines(await ok('ps', '-a', '--format', '{{.Names}} {{.State}}')).sort()
    assert.deepEqual(ps, ['loop running', 'pausy paused', 'quitter exited', 'sleeper running'])
    for (const n of ['loop', 'sleeper', 'pausy']) assert.equal((await inspect(n)).State.Pid, before[n].State.Pid)
    const q = (await inspect('quitter')).State
    assert.equal(q.ExitCode, 42, 'the real exit code, read from the monitor\'s exit file')
    assert.equal(q.Status, 'exited')
    assert.ok(Date.parse(q.FinishedAt) <= downAt + 100 && Date.parse(q.FinishedAt) > Date.parse(q.StartedAt), `FinishedAt ${q.FinishedAt} is when it exited`)
    assert.equal(await ok('wait', 'quitter'), '42\n')
    assert.equal(await ok('logs', 'quitter'), 'leaving\n')
    assert.match((await ok('ps', '-a', '--filter', 'name=quitter', '--format', '{{.Status}}')).trim(), /^Exited \(42\) /)

    // logs: written all along, also while berthd was down
    const ticks = lines(await ok('logs', 'loop'))
    assert.ok(ticks.length >= 20, `${ticks.length} lines`)
    ticks.forEach((l, i) => assert.equal(l, `tick${i}`, 'no line lost or doubled'))
    // attach to a container started by the previous berthd
    const att = await dockerT(h, 2, 'attach', 'loop')
    assert.equal(att.code, 137, 'still attached when timeout killed the CLI')
    assert.match(att.stdout, /^tick\d+$/m)
    // exec into a container started by the previous berthd
    const ex = await dockerT(h, 20, 'exec', 'sleeper', 'sh', '-c', 'echo from-exec; exit 3')
    assert.equal(ex.code, 3, ex.stderr)
    assert.equal(ex.stdout, 'from-exec\n')
    // logs -f ends when the container stops; stop, unpause, wait
    const follow = dockerT(h, 20, 'logs', '-f', '--tail', '1', 'loop')
    await sleep(300)
    const waiting = dockerT(h, 20, 'wait', 'loop')
    await sleep(100)
    await ok('stop', '-t', '1', 'loop')
    const f = await follow
    assert.equal(f.code, 0)
    assert.ok(lines(f.stdout).length >= 2)
    assert.equal((await waiting).stdout, '137\n')
    await ok('stop', 'sleeper')
    assert.equal((await inspect('sleeper')).State.ExitCode, 143)
    await ok('unpause', 'pausy')
    assert.equal((await inspect('pausy')).State.Status, 'running')

    // A clean stop of berthd leaves containers running as well.
    await h.stop()
    await sleep(200)
    assert.ok(alive(before.pausy.State.Pid))
    await h.restart()
    assert.equal((await inspect('pausy')).State.Status, 'running')
    await ok('rm', '-f', 'loop', 'quitter', 'sleeper', 'pausy')
    assert.equal((await ok('ps', '-aq')).trim(), '')
    await waitFor('the monitors to exit', async () => (await conmonsOf(h)).length === 0, 5000, 100)
  })

  it('a container with --restart always that exited while berthd was down is started again', async () => {
    await ok('run', '-d', '--name', 'phoenix', '--restart', 'always', 'busybox', 'sh', '-c', 'echo up; sleep 1; exit 3')
    const pid = (await inspect('phoenix')).State.Pid as number
    await h.kill()
    await waitFor('phoenix to exit', () => !alive(pid), 10_000, 100)
    await sleep(200)
    await h.restart()
    await waitFor('phoenix back up', async () => {
      const s = (await inspect('phoenix')).State
      return s.Status === 'running' && s.Pid !== pid
    }, 10_000, 100)
    assert.ok(lines(await ok('logs', 'phoenix')).length >= 2)
    await ok('rm', '-f', 'phoenix')
  })

  it('docker stop during a restart back-off: stays stopped, also after berthd restarts', async () => {
    await ok('run', '-d', '--name', 'backoff', '--restart', 'on-failure', 'busybox', 'sh', '-c', 'exit 1')
    await waitFor('a long back-off', async () => {
      const c = await inspect('backoff')
      return c.State.Status === 'restarting' && c.RestartCount >= 3
    }, 15_000, 20)
    assert.match((await ok('ps', '--filter', 'name=backoff', '--format', '{{.Status}}')).trim(), /^Restarting \(1\) /)
    const rm = await dockerT(h, 10, 'rm', 'backoff')
    assert.match(rm.stderr, /cannot remove container "backoff": container is restarting: stop the container before removing or force remove/)
    await ok('stop', 'backoff')
    const count = (await inspect('backoff')).RestartCount as number
    assert.equal((await inspect('backoff')).State.Status, 'exited')
    await h.kill()
    await h.restart()
    await sleep(1000)
    const c = await inspect('backoff')
    assert.equal(c.State.Status, 'exited', 'a stopped container is not restarted by the policy')
    assert.equal(c.RestartCount, count)
    await ok('rm', 'backoff')
  })

  it('50 concurrent docker run -d all succeed; rm -f removes them all', async () => {
    const t0 = Date.now()
    const runs = await Promise.all(Array.from({ length: 50 }, (_, i) => dockerT(h, 60, 'run', '-d', '--name', `c${i}`, '-l', 'batch=50', 'busybox', 'sleep', '60')))
    const failed = runs.map((r, i) => [i, r] as const).filter(([, r]) => r.code !== 0)
    assert.deepEqual(failed.map(([i, r]) => `c${i}: ${r.code} ${r.stderr}`), [])
    const ids = runs.map((r) => r.stdout.trim())
    ids.forEach((id) => seen.add(id))
    assert.equal(new Set(ids).size, 50)
    const runningFor = Date.now() - t0
    const listed = lines(await ok('ps', '-q', '--no-trunc', '--filter', 'label=batch=50'))
    assert.equal(listed.length, 50)
    assert.deepEqual([...listed].sort(), [...ids].sort())
    for (const id of ids.slice(0, 5)) assert.equal((await inspect(id)).State.Running, true)
    assert.equal((await conmonsOf(h)).length, 50)
    // Half in one command, half in 25 concurrent ones.
    const t1 = Date.now()
    const [one, ...many] = await Promise.all([
      dockerT(h, 60, 'rm', '-f', ...ids.slice(0, 25)),
      ...ids.slice(25).map((id) => dockerT(h, 60, 'rm', '-f', id)),
    ])
    assert.equal(one!.code, 0, one!.stderr)
    assert.deepEqual(lines(one!.stdout), ids.slice(0, 25))
    for (const r of many) assert.equal(r.code, 0, r.stderr)
    assert.equal((await ok('ps', '-aq')).trim(), '')
    await waitFor('all monitors to exit', async () => (await conmonsOf(h)).length === 0, 10_000, 100)
    console.log(`# 50 runs in ${runningFor} ms, removed in ${Date.now() - t1} ms`)
  })

  it('10 concurrent runs with the same --name: exactly one wins, the others get Docker\'s conflict', async () => {
    const runs = await Promise.all(Array.from({ length: 10 }, () => dockerT(h, 30, 'run', '-d', '--name', 'highlander', 'busybox', 'sleep', '60')))
    const won = runs.filter((r) => r.code === 0)
    assert.equal(won.length, 1)
    for (const r of runs.filter((x) => x.code !== 0)) {
      assert.equal(r.code, 125)
      assert.match(r.stderr, /Conflict\. The container name "\/highlander" is already in use by container "[a-f0-9]{64}"/)
    }
    assert.equal(lines(await ok('ps', '-aq')).length, 1)
    await ok('rm', '-f', 'highlander')
  })

  it('kill -9 berthd in the middle of a burst of runs: after a restart every container is usable or removable', async () => {
    const burst = Promise.all(Array.from({ length: 12 }, (_, i) => dockerT(h, 30, 'run', '-d', '--name', `burst${i}`, 'busybox', 'sleep', '60')))
    // Crash as soon as the first one runs: the others are somewhere inside their start.
    await waitFor('a first container to run', async () => {
      const r = await api(h, 'GET', '/containers/json')
      return r.status === 200 && (r.json() as unknown[]).length > 0
    }, 20_000, 5)
    await h.kill()
    await burst // some succeeded, the others saw the daemon go away
    await h.restart()
    await remember()
    // Regression: a monitor whose start was never recorded stayed, and its exit file, arriving
    // after the next start, was taken for that run's exit.
    const running = lines(await ok('ps', '-q'))
    assert.equal((await conmonsOf(h)).length, running.length, 'one monitor per running container, no orphans')
    // Every container it lists is in a plain state, can be started (if not running) and removed.
    for (const id of await listedContainerIds(h)) {
      const s = (await inspect(id)).State
      assert.ok(['created', 'running', 'exited'].includes(s.Status), `state ${s.Status}`)
      if (s.Status !== 'running') await ok('start', id)
      assert.equal((await inspect(id)).State.Status, 'running')
    }
    await sleep(300) // an exit file of a stale monitor would come now
    for (const id of await listedContainerIds(h)) assert.equal((await inspect(id)).State.Status, 'running')
    for (const id of await listedContainerIds(h)) await ok('rm', '-f', id)
    assert.equal((await ok('ps', '-aq')).trim(), '')
  })

  it('leaves nothing behind: no mounts, conmon processes, runtime state or cgroups', async () => {
    await remember()
    for (const id of await listedContainerIds(h)) await ok('rm', '-f', id)
    await waitFor('monitors to exit', async () => isClean(await leftoversOf(h, seen)), 10_000, 100).catch(() => {})
    assert.deepEqual(await leftoversOf(h, seen), { mounts: [], conmons: [], runtimeState: [], cgroups: [] })
    assert.ok(seen.size >= 60, `saw ${seen.size} containers`)
  })
})

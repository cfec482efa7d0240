/**
 * Issue 12: `docker stop` against restart policies, with the real docker CLI. A crash-looping
 * container is stopped at every timing (while running, during its back-off, while its policy's
 * start is under way) and stays stopped, also after berthd restarts.
 */
import { after, before, beforeEach, it } from 'node:test'
import assert from 'node:assert/strict'
import { api, fixture, startDaemon, type DaemonHandle } from './harness.js'
import { dockerSuite } from './image-helpers.js'
import { dockerT, forceCleanup, listedContainerIds, sleep } from './container-helpers.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

dockerSuite('docker CLI: stop vs restart policies (issue 12)', () => {
  let h: DaemonHandle
  const ok = async (...args: string[]): Promise<string> => {
    const r = await dockerT(h, 30, ...args)
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return r.stdout
  }
  const inspect = async (ref: string): Promise<Json> => (JSON.parse(await ok('inspect', ref)) as Json[])[0]

  before(async () => {
    h = await startDaemon()
    await ok('load', '-i', await fixture('busybox'))
  })
  beforeEach(async () => {
    for (const id of await listedContainerIds(h)) await api(h, 'DELETE', `/containers/${id}?force=1`)
  })
  after(async () => {
    if (h) {
      await forceCleanup(h).catch(() => {})
      await h.cleanup()
    }
  })

  it('20 tries: a crash-looping --restart always container always stops and stays stopped', async () => {
    const failures: string[] = []
    for (let i = 0; i < 20; i++) {
      const name = `loop${i}`
      await ok('run', '-d', '--name', name, '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1')
      // Vary the timing: right away, during the first back-offs, a few runs in.
      await sleep((i % 5) * 90)
      const r = await dockerT(h, 30, 'stop', '-t', '1', name)
      if (r.code !== 0) failures.push(`${name}: stop failed (${r.code}): ${r.stderr}`)
      if (r.stdout.trim() !== name) failures.push(`${name}: stop printed ${JSON.stringify(r.stdout)}`)
    }
    // Several seconds later nothing came back (the back-off is at most 1.6 s here).
    await sleep(3000)
    for (let i = 0; i < 20; i++) {
      const c = await inspect(`loop${i}`)
      if (c.State.Status !== 'exited' || c.State.Running || c.State.Restarting) failures.push(`loop${i}: ${c.State.Status}`)
    }
    const counts = await Promise.all(Array.from({ length: 20 }, async (_, i) => (await inspect(`loop${i}`)).RestartCount as number))
    await sleep(1500)
    for (let i = 0; i < 20; i++) {
      const c = await inspect(`loop${i}`)
      if (c.RestartCount !== counts[i]) failures.push(`loop${i}: restarted after stop (${counts[i]} → ${c.RestartCount})`)
    }
    assert.deepEqual(failures, [])
  })

  it('--restart always, then docker stop of a running container: it stays stopped', async () => {
    await ok('run', '-d', '--name', 'steady', '--restart', 'always', 'busybox', 'sleep', '1000')
    assert.equal((await ok('stop', '-t', '1', 'steady')).trim(), 'steady')
    await sleep(2500)
    const c = await inspect('steady')
    assert.equal(c.State.Status, 'exited')
    assert.equal(c.RestartCount, 0)
  })

  it('docker kill of a crash-looping container ends its policy too', async () => {
    await ok('run', '-d', '--name', 'killed', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1')
    await sleep(250)
    const r = await dockerT(h, 30, 'kill', 'killed')
    assert.equal(r.code, 0, r.stderr)
    await sleep(2500)
    const c = await inspect('killed')
    assert.equal(c.State.Status, 'exited')
  })

  it('a stopped --restart always / unless-stopped container stays stopped across berthd restarts, until started again', async () => {
    await ok('run', '-d', '--name', 'alw', '--restart', 'always', 'busybox', 'sleep', '1000')
    await ok('run', '-d', '--name', 'unl', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000')
    await ok('run', '-d', '--name', 'crash', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1')
    await sleep(300)
    await ok('stop', '-t', '1', 'alw', 'unl', 'crash')
    await h.restart()
    await sleep(2500)
    for (const n of ['alw', 'unl', 'crash']) assert.equal((await inspect(n)).State.Status, 'exited', `${n} came back after berthd restarted`)
    await h.kill()
    await h.restart()
    await sleep(2000)
    for (const n of ['alw', 'unl', 'crash']) assert.equal((await inspect(n)).State.Status, 'exited', `${n} came back after kill -9 of berthd`)
    // Started again by the user: the policy applies again.
    await ok('start', 'alw')
    assert.equal((await inspect('alw')).State.Status, 'running')
    await h.stop()
    await h.restart()
    await sleep(1500)
    assert.equal((await inspect('alw')).State.Status, 'running')
    await ok('rm', '-f', 'alw', 'unl', 'crash')
  })
})

/**
 * A client that goes away in the middle of a streamed answer never takes berthd down: for every
 * streamed endpoint (save, export, archive, logs, stats, events, build, pull, push, load, import,
 * attach with and without Upgrade, exec start) a raw request over the unix socket reads a few
 * bytes of the answer (none, the first, some, many), destroys the socket, and berthd must still
 * answer a ping, several times at different offsets.
 */
import { after, before, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { readdir } from 'node:fs/promises'
import { api, fixtureBytes, type DaemonHandle } from './harness.js'
import { makeTar } from './image-helpers.js'
import { busyboxDaemon, sleep } from './container-helpers.js'
import { dockerSuite } from './image-helpers.js'

/** Bytes of the raw answer (headers included) read before the socket is destroyed. */
const OFFSETS = [0, 1, 200, 3000, 40_000]

interface Endpoint { name: string; method: string; path: string; headers?: Record<string, string>; body?: () => Buffer }

/**
 * Send one raw request and destroy the socket after `offset` bytes of the answer (or when the
 * answer ends first, or after 3 s of silence at that offset). Returns how many bytes came.
 */
function cutAt(socket: string, ep: Endpoint, offset: number): Promise<number> {
  return new Promise((resolve) => {
    const s = connect(socket)
    let got = 0
    let done = false
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      s.destroy()
      resolve(got)
    }
    const timer = setTimeout(finish, 3000)
    s.on('error', finish)
    s.on('close', finish)
    s.on('connect', () => {
      const body = ep.body?.()
      const head = [`${ep.method} ${ep.path} HTTP/1.1`, 'Host: berth', ...Object.entries(ep.headers ?? {}).map(([k, v]) => `${k}: ${v}`)]
      if (body) head.push(`Content-Length: ${body.length}`)
      s.write(head.join('\r\n') + '\r\n\r\n')
      if (body) s.write(body)
      if (offset === 0) setTimeout(finish, 30)
    })
    s.on('data', (c: Buffer) => {
      got += c.length
      if (got >= offset && offset > 0) finish()
    })
  })
}

dockerSuite('a client disconnecting from any streamed answer', () => {
  let h: DaemonHandle
  let runner = ''
  let quiet = ''
  let execId = ''
  let busybox: Buffer
  let buildCtx: Buffer
  const daemon = busyboxDaemon()

  const create = async (cmd: string[], extra: Record<string, unknown> = {}) => {
    const r = await api(h, 'POST', '/containers/create', { Image: 'busybox', Cmd: cmd, ...extra })
    assert.equal(r.status, 201, r.body.toString())
    return (r.json() as { Id: string }).Id
  }
  const start = async (id: string) => {
    const r = await api(h, 'POST', `/containers/${id}/start`)
    assert.equal(r.status, 204, r.body.toString())
  }
  const alive = async (what: string) => {
    const ping = await api(h, 'GET', '/_ping').catch((err: Error) => err)
    assert.ok(!(ping instanceof Error), `berthd does not answer after ${what} (${String(ping)}):\n${h.log().slice(-3000)}`)
    assert.equal(h.proc.exitCode, null, `berthd exited after ${what}:\n${h.log().slice(-3000)}`)
    assert.equal(h.proc.signalCode, null, `berthd died after ${what}:\n${h.log().slice(-3000)}`)
    const r = await api(h, 'GET', '/_ping')
    assert.equal(r.status, 200, `berthd answers a ping after ${what}`)
  }

  before(async () => {
    h = daemon.h
    busybox = await fixtureBytes('busybox')
    buildCtx = await makeTar([{ name: 'Dockerfile', data: 'FROM busybox\nRUN seq 1 20000\nRUN echo done\n' }])
  })

  const endpoints = (): Endpoint[] => [
    { name: 'save (images/{name}/get)', method: 'GET', path: '/images/busybox/get' },
    { name: 'save (images/get)', method: 'GET', path: '/images/get?names=busybox' },
    { name: 'export', method: 'GET', path: `/containers/${quiet}/export` },
    { name: 'archive GET', method: 'GET', path: `/containers/${quiet}/archive?path=/bin` },
    { name: 'logs follow', method: 'GET', path: `/containers/${runner}/logs?follow=1&stdout=1&stderr=1` },
    { name: 'logs', method: 'GET', path: `/containers/${runner}/logs?stdout=1&stderr=1` },
    { name: 'stats stream', method: 'GET', path: `/containers/${runner}/stats` },
    { name: 'events', method: 'GET', path: '/events' },
    { name: 'events (replayed)', method: 'GET', path: '/events?since=0' },
    { name: 'wait (long poll)', method: 'POST', path: `/containers/${quiet}/wait` },
    { name: 'build', method: 'POST', path: '/build?t=cut:latest&rm=1', headers: { 'Content-Type': 'application/x-tar' }, body: () => buildCtx },
    { name: 'pull (unreachable registry)', method: 'POST', path: '/images/create?fromImage=127.0.0.1:9/nothing&tag=latest' },
    { name: 'push (unreachable registry)', method: 'POST', path: '/images/127.0.0.1:9/busybox/push?tag=latest', headers: { 'X-Registry-Auth': 'e30=' } },
    { name: 'load', method: 'POST', path: '/images/load', headers: { 'Content-Type': 'application/x-tar' }, body: () => busybox },
    { name: 'import', method: 'POST', path: '/images/create?fromSrc=-&repo=imported', headers: { 'Content-Type': 'application/x-tar' }, body: () => buildCtx },
    { name: 'attach (plain)', method: 'POST', path: `/containers/${runner}/attach?stream=1&stdout=1&stderr=1&logs=1` },
    { name: 'attach (upgrade)', method: 'POST', path: `/containers/${runner}/attach?stream=1&stdout=1&stderr=1&logs=1`, headers: { Connection: 'Upgrade', Upgrade: 'tcp' } },
    { name: 'exec start', method: 'POST', path: `/exec/${execId}/start`, headers: { 'Content-Type': 'application/json' }, body: () => Buffer.from('{"Detach":false,"Tty":false}') },
    { name: 'exec start (upgrade)', method: 'POST', path: `/exec/${execId}/start`, headers: { 'Content-Type': 'application/json', Connection: 'Upgrade', Upgrade: 'tcp' }, body: () => Buffer.from('{"Detach":false,"Tty":false}') },
  ]

  it('berthd survives every streamed endpoint cut at every offset', { timeout: 600_000 }, async () => {
    // A container that writes a lot and keeps running (logs, stats, attach), and one that is idle.
    runner = await create(['sh', '-c', 'while true; do seq 1 2000; sleep 0.2; done'])
    await start(runner)
    quiet = await create(['sleep', '3600'])
    await start(quiet)
    // push streams its progress (then the refused connection) as JSON lines.
    assert.equal((await api(h, 'POST', '/images/busybox/tag?repo=127.0.0.1:9/busybox&tag=latest')).status, 201)
    await sleep(500)
    const fds = async () => (await readdir(`/proc/${h.proc.pid}/fd`)).length
    const fdsBefore = await fds()
    for (const ep0 of endpoints()) {
      for (const offset of OFFSETS) {
        let ep = ep0
        if (ep0.name.startsWith('exec start')) {
          // An exec can be started once: a fresh one each time.
          const r = await api(h, 'POST', `/containers/${runner}/exec`, { Cmd: ['sh', '-c', 'seq 1 50000; sleep 2'], AttachStdout: true, AttachStderr: true })
          assert.equal(r.status, 201, r.body.toString())
          execId = (r.json() as { Id: string }).Id
          ep = endpoints().find((e) => e.name === ep0.name)!
        }
        await cutAt(h.socket, ep, offset)
        await sleep(50)
        await alive(`${ep.name} cut after ${offset} bytes`)
      }
    }
    // After all that, the daemon still works end to end.
    await sleep(500)
    await alive('every cut')
    // Every cut connection, file and pipe was let go (a little slack for caches and timers).
    await sleep(3000) // the last execs (seq; sleep 2) end first
    const fdsAfter = await fds()
    assert.ok(fdsAfter <= fdsBefore + 10, `berthd holds ${fdsAfter} descriptors after the cuts, ${fdsBefore} before`)
    assert.doesNotMatch(h.log(), /uncaught|unhandled/i, 'nothing went unhandled')
    // A producer left waiting for a 'drain' that never comes leaks its files to the GC.
    assert.doesNotMatch(h.log(), /on garbage collection/, 'no file handle was abandoned by a cut stream')
    const r = await api(h, 'GET', '/images/busybox/get')
    assert.equal(r.status, 200)
    assert.ok(r.body.length > 100_000, 'a full save still streams')
  })

  after(async () => {
    if (h) await alive('the suite').catch(() => {})
  })
})

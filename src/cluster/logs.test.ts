import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, request, type Server } from 'node:https'
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import type { LogsOptions, LogStream } from '../api/backend.js'
import { EngineError } from '../lib/errors.js'
import { issueNodeCertificate, loadPki, newCaRecord } from './ca.js'
import type { SwarmContext } from './context.js'
import { ClusterLogs, nodeLogsHandler, type LocalLogReader } from './logs.js'
import { ClusterStore } from './store.js'
import { ETCD_SKIP, startTestEtcd } from './testing/etcd-fixture.js'
import { makeNode, makeService, makeTask } from './testing/objects.js'
import type { Task } from './types.js'

let fx: Awaited<ReturnType<typeof startTestEtcd>> | undefined
let store: ClusterStore
let server: Server | undefined
let ctx: SwarmContext
let workerTls: { certPem: string; keyPem: string; caPem: string }
const opts = { skip: ETCD_SKIP, timeout: 30_000 }

type Line = { ts: string; stream: 1 | 2; msg: string }
const LOGS: Record<string, Line[]> = {
  c1: [{ ts: '2026-01-01T00:00:01.000000000Z', stream: 1, msg: 'one\n' }, { ts: '2026-01-01T00:00:03.000000000Z', stream: 2, msg: 'three\n' }],
  c2: [{ ts: '2026-01-01T00:00:02.000000000Z', stream: 1, msg: 'two\n' }, { ts: '2026-01-01T00:00:04.000000000Z', stream: 1, msg: 'four\n' }],
  c5: [{ ts: '2026-01-01T00:00:09.000000000Z', stream: 1, msg: 'late\n' }],
}
const asked: Array<{ id: string; o: LogsOptions }> = []

/** A container log as the engine answers it: stdcopy frames of "<ts> <attrs> <line>" (timestamps and details asked). */
function fakeReader(node: string): LocalLogReader {
  return async (id, o) => {
    asked.push({ id: `${node}/${id}`, o })
    const lines = LOGS[id]
    if (!lines || (node === 'mgr1') !== (id !== 'c2')) throw new EngineError('NotFound', 'ERR_NO_SUCH_CONTAINER', `No such container: ${id}`)
    const picked = o.tail !== undefined ? lines.slice(-o.tail) : lines
    async function* chunks() {
      for (const l of picked) {
        const payload = Buffer.from(`${o.timestamps ? `${l.ts} ` : ''}${o.details ? `${id === 'c1' ? 'tag=web' : ''} ` : ''}${l.msg}`)
        const h = Buffer.alloc(8)
        h[0] = l.stream
        h.writeUInt32BE(payload.length, 4)
        yield Buffer.concat([h, payload])
      }
    }
    return { tty: false, chunks: chunks() }
  }
}

function frames(b: Buffer): Array<[number, string]> {
  const out: Array<[number, string]> = []
  for (let i = 0; i < b.length;) {
    const n = b.readUInt32BE(i + 4)
    out.push([b[i]!, b.subarray(i + 8, i + 8 + n).toString()])
    i += 8 + n
  }
  return out
}

async function collect(s: LogStream): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of s.chunks) parts.push(c)
  return Buffer.concat(parts)
}

const logOpts = (o: Partial<LogsOptions> = {}): LogsOptions => ({ stdout: true, stderr: true, follow: false, timestamps: false, details: true, signal: new AbortController().signal, ...o })
const ctxDetails = (node: string, task: string) => `com.docker.swarm.node.id=${node},com.docker.swarm.service.id=svcL,com.docker.swarm.task.id=${task}`

before(async () => {
  if (ETCD_SKIP) return
  fx = await startTestEtcd('logs')
  store = new ClusterStore(fx.member.client)
  const pki = await loadPki()
  const ca = await newCaRecord(pki)
  const mgr = await issueNodeCertificate(pki, ca, { nodeId: 'mgr1', role: 'manager', clusterId: 'cl' })
  const wrk = await issueNodeCertificate(pki, ca, { nodeId: 'wrk1', role: 'worker', clusterId: 'cl' })
  workerTls = { certPem: wrk.certPem, keyPem: wrk.keyPem!, caPem: ca.rootCertPem }
  const handler = nodeLogsHandler(fakeReader('wrk1'))
  server = createServer({ cert: wrk.certPem, key: wrk.keyPem!, ca: ca.rootCertPem, requestCert: true, rejectUnauthorized: false }, (req, res) => handler(req, res))
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  ctx = { nodeId: 'mgr1', role: 'manager', store, advertiseAddr: '127.0.0.1', swarmAddr: `127.0.0.1:${port}`, dataPathAddr: '127.0.0.1', dataPathPort: 4789, tls: { certPem: mgr.certPem, keyPem: mgr.keyPem!, caPem: ca.rootCertPem } }
  await store.create('nodes', makeNode('mgr', { id: 'mgr1', role: 'manager' }))
  await store.create('nodes', { ...makeNode('wrk', { id: 'wrk1' }), status: { state: 'ready', addr: '127.0.0.1' } })
  const svc = await store.create('services', makeService('web', { id: 'svcL' }))
  const task = (id: string, nodeId: string, slot: number, containerId?: string): Task => {
    const t = makeTask(svc, { id, nodeId, slot, state: containerId ? 'running' : 'assigned' })
    return containerId ? { ...t, status: { ...t.status, containerStatus: { containerId, pid: 1, exitCode: 0 } } } : t
  }
  await store.create('tasks', task('t1', 'mgr1', 1, 'c1'))
  await store.create('tasks', task('t2', 'wrk1', 2, 'c2'))
  await store.create('tasks', task('t3', 'mgr1', 3))
  await store.create('tasks', task('t4', 'mgr1', 4, 'gone'))
})
after(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)))
  await fx?.close()
})

test('service logs: every task\'s lines (local and remote over mTLS) in time order, with dockerd\'s context details', opts, async () => {
  const logs = new ClusterLogs(() => ctx, fakeReader('mgr1'))
  const s = await logs.serviceLogs('web', logOpts())
  assert.equal(s.tty, false)
  assert.deepEqual(frames(await collect(s)), [
    [1, `tag=web,${ctxDetails('mgr1', 't1')} one\n`],
    [1, `${ctxDetails('wrk1', 't2')} two\n`],
    [2, `tag=web,${ctxDetails('mgr1', 't1')} three\n`],
    [1, `${ctxDetails('wrk1', 't2')} four\n`],
  ])
  // The remote read asked the worker's handler with timestamps and details on.
  const remote = asked.find((a) => a.id === 'wrk1/c2')!
  assert.equal(remote.o.timestamps, true)
  assert.equal(remote.o.details, true)
  // Without details and with timestamps; by ID prefix; the tail counts per task.
  const t = await logs.serviceLogs('svcL', logOpts({ details: false, timestamps: true, tail: 1 }))
  assert.deepEqual(frames(await collect(t)), [
    [2, '2026-01-01T00:00:03.000000000Z three\n'],
    [1, '2026-01-01T00:00:04.000000000Z four\n'],
  ])
})

test('task logs: one task; Docker\'s not-found errors; outside a swarm the 503', opts, async () => {
  const logs = new ClusterLogs(() => ctx, fakeReader('mgr1'))
  assert.deepEqual(frames(await collect(await logs.taskLogs('t2', logOpts()))), [
    [1, `${ctxDetails('wrk1', 't2')} two\n`],
    [1, `${ctxDetails('wrk1', 't2')} four\n`],
  ])
  // By the task's name (<service>.<slot>.<id>) and the service's name in any case.
  assert.equal(frames(await collect(await logs.taskLogs('web.2.t2', logOpts()))).length, 2)
  assert.equal(frames(await collect(await logs.serviceLogs('WEB', logOpts()))).length, 4)
  await assert.rejects(logs.serviceLogs('nosuch', logOpts()), { message: 'service nosuch not found' })
  await assert.rejects(logs.taskLogs('nosuch', logOpts()), { message: 'task nosuch not found' })
  await assert.rejects(logs.taskLogs('t', logOpts()), { message: 'task t is ambiguous (4 matches found)' })
  await assert.rejects(new ClusterLogs(() => undefined, fakeReader('mgr1')).serviceLogs('web', logOpts()), { code: 'ERR_SWARM_NOT_MANAGER' })
})

test('node logs handler: a worker certificate is refused', opts, async () => {
  const port = (server!.address() as AddressInfo).port
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/berth/logs/c2?stdout=1', ca: workerTls.caPem, cert: workerTls.certPem, key: workerTls.keyPem, checkServerIdentity: () => undefined }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
  assert.equal(status, 403)
})

test('service logs --follow: tasks that start later are followed too; abort ends the stream', opts, async () => {
  const logs = new ClusterLogs(() => ctx, fakeReader('mgr1'), { pollMs: 50 })
  const ac = new AbortController()
  const s = await logs.serviceLogs('web', logOpts({ follow: true, details: false, signal: ac.signal }))
  const it = s.chunks[Symbol.asyncIterator]()
  const seen: string[] = []
  const next = async () => {
    const r = await it.next()
    if (!r.done) seen.push(...frames(r.value).map((f) => f[1]))
    return r.done
  }
  while (seen.length < 4) await next()
  assert.deepEqual([...seen].sort(), ['four\n', 'one\n', 'three\n', 'two\n'])
  const svc = await store.get('services', 'svcL')
  const t5 = makeTask(svc, { id: 't5', nodeId: 'mgr1', slot: 5 })
  await store.create('tasks', { ...t5, status: { ...t5.status, containerStatus: { containerId: 'c5', pid: 1, exitCode: 0 } } })
  while (seen.length < 5) await next()
  assert.equal(seen[4], 'late\n')
  ac.abort()
  assert.equal(await next(), true, 'the stream ends on abort')
})

test('service logs: a node that does not answer costs its lines only, after the connect timeout', opts, async () => {
  const held: Socket[] = []
  const silent = createTcpServer((sock) => held.push(sock))
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
  try {
    const port = (silent.address() as AddressInfo).port
    await store.create('nodes', { ...makeNode('mgr2', { id: 'mgr2', role: 'manager' }), managerStatus: { leader: false, reachability: 'reachable', addr: `127.0.0.1:${port}` } })
    const svc = await store.create('services', makeService('quiet', { id: 'svcQ' }))
    for (const [id, node, c] of [['q1', 'mgr1', 'c1'], ['q2', 'mgr2', 'c6']] as const) {
      const t = makeTask(svc, { id, nodeId: node, slot: id === 'q1' ? 1 : 2 })
      await store.create('tasks', { ...t, status: { ...t.status, containerStatus: { containerId: c, pid: 1, exitCode: 0 } } })
    }
    const logs = new ClusterLogs(() => ctx, fakeReader('mgr1'), { connectTimeoutMs: 300 })
    const t0 = Date.now()
    const got = frames(await collect(await logs.serviceLogs('quiet', logOpts({ details: false }))))
    assert.deepEqual(got, [[1, 'one\n'], [2, 'three\n']])
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`)
    assert.ok(held.length >= 1, 'the silent node was asked')
  } finally {
    for (const s of held) s.destroy()
    await new Promise((r) => silent.close(r))
  }
})

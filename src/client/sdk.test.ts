import { it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Docker, isNotFound, splitRef } from './index.js'

async function fakeEngine(handler: (req: IncomingMessage, body: string) => { status?: number; json?: unknown; lines?: unknown[] }) {
  const dir = await mkdtemp(join(tmpdir(), 'berth-sdk-'))
  const socket = join(dir, 'e.sock')
  const seen: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`)
      const r = handler(req, body)
      res.writeHead(r.status ?? 200, { 'Content-Type': 'application/json' })
      res.end(r.lines ? r.lines.map((l) => JSON.stringify(l)).join('\n') : r.json === undefined ? '' : JSON.stringify(r.json))
    })
  })
  await new Promise<void>((res) => server.listen(socket, res))
  return { socket, seen, close: async () => { server.close(); await rm(dir, { recursive: true, force: true }) } }
}

it('typed methods map to the endpoints, with filters, names and errors', async () => {
  const e = await fakeEngine((req, body) => {
    if (req.url?.startsWith('/v1.50/containers/json')) return { json: [{ Id: 'a', Names: ['/x'], Labels: {} }] }
    if (req.url?.startsWith('/v1.50/containers/create')) return { status: 201, json: { Id: 'new', Warnings: [], echo: JSON.parse(body) } }
    if (req.url?.startsWith('/v1.50/images/create')) return { lines: [{ status: 'Pulling fs layer', id: 'l1' }, { status: 'Download complete', id: 'l1' }] }
    return { status: 404, json: { message: 'No such container: nope' } }
  })
  try {
    const d = new Docker({ host: `unix://${e.socket}` })
    assert.deepEqual((await d.containers.list({ all: true, filters: { label: ['a=b'] } })).map((c) => c.Id), ['a'])
    assert.equal((await d.containers.create({ Image: 'busybox' }, { name: 'web-1' })).Id, 'new')
    const progress: string[] = []
    await d.images.pull('registry:5000/app', { onProgress: (m) => progress.push(`${m.id}:${m.status}`) })
    assert.deepEqual(progress, ['l1:Pulling fs layer', 'l1:Download complete'])
    await assert.rejects(d.containers.inspect('nope'), (err) => isNotFound(err) && /No such container: nope/.test((err as Error).message))
    assert.deepEqual(e.seen, [
      `GET /v1.50/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: ['a=b'] }))}`,
      'POST /v1.50/containers/create?name=web-1',
      'POST /v1.50/images/create?fromImage=registry%3A5000%2Fapp&tag=latest',
      'GET /v1.50/containers/nope/json',
    ])
  } finally { await e.close() }
})

it('createConnection carries every request', async () => {
  const e = await fakeEngine(() => ({ json: { Version: '1', ApiVersion: '1.50', Os: 'linux', Arch: 'amd64' } }))
  try {
    let dialed = 0
    const d = new Docker({ host: 'tcp://unreachable.invalid:1', createConnection: () => { dialed++; return connect(e.socket) } })
    assert.equal((await d.system.version()).ApiVersion, '1.50')
    assert.equal(dialed, 1)
  } finally { await e.close() }
})

it('splitRef keeps a registry port out of the tag', () => {
  assert.deepEqual(splitRef('localhost:5000/a/b:1.0'), { repo: 'localhost:5000/a/b', tag: '1.0' })
  assert.deepEqual(splitRef('busybox@sha256:abc'), { repo: 'busybox', digest: 'sha256:abc' })
  assert.deepEqual(splitRef('localhost:5000/x'), { repo: 'localhost:5000/x' })
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { Readable } from 'node:stream'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeToResponse, responseWriter } from './stream.js'

/** Serve one request with `handle`, read `bytes` of the answer, then drop the connection. */
async function cutAfter(bytes: number, handle: (res: ServerResponse) => Promise<void>): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-stream-'))
  const sock = join(dir, 's')
  let outcome: Promise<unknown> = Promise.resolve()
  const server = createServer((_req, res) => { outcome = handle(res).then(() => 'resolved', (err: unknown) => err) })
  await new Promise<void>((r) => server.listen(sock, r))
  try {
    await new Promise<void>((resolve) => {
      const s = connect(sock, () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
      let got = 0
      s.on('data', (c: Buffer) => { got += c.length; if (got >= bytes) { s.destroy(); resolve() } })
      s.on('error', () => resolve())
    })
    return await outcome
  } finally {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
    await rm(dir, { recursive: true, force: true })
  }
}

test('responseWriter: a client gone while the producer waits for drain rejects with ERR_CLIENT_GONE, never hangs', async () => {
  const out = await cutAfter(1000, async (res) => {
    res.writeHead(200)
    const write = responseWriter(res)
    for (let i = 0; i < 100_000; i++) await write(Buffer.alloc(64 << 10))
  })
  assert.equal((out as { code?: string }).code, 'ERR_CLIENT_GONE')
})

test('pipeToResponse: a client gone destroys the producer and resolves quietly', async () => {
  let src: Readable | undefined
  const out = await cutAfter(1000, async (res) => {
    res.writeHead(200)
    src = new Readable({ read() { this.push(Buffer.alloc(64 << 10)) } })
    await pipeToResponse(res, src)
  })
  assert.equal(out, 'resolved')
  assert.ok(src?.destroyed, 'the producer is destroyed')
})

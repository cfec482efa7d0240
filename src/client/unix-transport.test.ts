import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer as createNetServer } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unixRequest } from './unix-transport.js'

/** A server that answers with the given raw bytes, written in the given pieces. */
async function rawServer(pieces: string[]): Promise<{ path: string; close: () => Promise<void>; requests: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-ut-'))
  const path = join(dir, 's.sock')
  const requests: string[] = []
  const server = createNetServer((sock) => {
    // The client may close as soon as it has the whole body (before a trailing CRLF): fine.
    sock.on('error', () => {})
    let req = ''
    sock.on('data', async (b) => {
      req += b.toString()
      if (!req.includes('\r\n\r\n')) return
      requests.push(req)
      for (const p of pieces) {
        if (sock.destroyed) return
        sock.write(p)
        await new Promise((r) => setTimeout(r, 2))
      }
      sock.end()
    })
  })
  await new Promise<void>((r) => server.listen(path, r))
  return { path, requests, close: async () => { await new Promise((r) => server.close(r)); await rm(dir, { recursive: true, force: true }) } }
}

async function body(res: AsyncIterable<Buffer>): Promise<string> {
  let s = ''
  for await (const c of res) s += c.toString()
  return s
}

test('decodes chunked bodies split anywhere, and Content-Length bodies', async () => {
  const chunked = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\n'
  for (const size of [1, 3, 7, chunked.length]) {
    const pieces: string[] = []
    for (let i = 0; i < chunked.length; i += size) pieces.push(chunked.slice(i, i + size))
    const srv = await rawServer(pieces)
    try {
      const res = await unixRequest(srv.path, 'GET', '/v1.50/x', { 'User-Agent': 't' })
      assert.equal(res.statusCode, 200)
      assert.equal(res.headers['content-type'], 'application/json')
      assert.equal(await body(res), 'hello world', `piece size ${size}`)
      assert.match(srv.requests[0]!, /^GET \/v1\.50\/x HTTP\/1\.1\r\n/)
    } finally {
      await srv.close()
    }
  }
  const reply = 'HTTP/1.1 404 Not Found\r\nContent-Length: 28\r\n\r\n{"message":"page not found"}'
  const srv = await rawServer([reply.slice(0, 30), reply.slice(30)])
  try {
    const res = await unixRequest(srv.path, 'DELETE', '/x', {}, '{}')
    assert.equal(res.statusCode, 404)
    assert.equal(await body(res), '{"message":"page not found"}')
    assert.equal(srv.requests[0]!.includes('Content-Length: 2\r\n'), true)
  } finally {
    await srv.close()
  }
})

test('a refused connection is an error, not a hang', async () => {
  await assert.rejects(unixRequest('/nonexistent/berth.sock', 'GET', '/', {}), (err: NodeJS.ErrnoException) => err.code === 'ENOENT')
})
